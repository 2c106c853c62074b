import numpy as np
import torch

from core.camera import look_at
from core.gaussians import GaussianCloud
from core.render import viewport_data as vd


def test_packing_layout_matches_shader_indexing():
    n = vd.SPLATS_PER_ROW + 7  # spills into a second texture row
    g = torch.Generator().manual_seed(0)
    cloud = GaussianCloud.from_activated(torch.randn(n, 3, generator=g), torch.rand(n, 3, generator=g),
                                         torch.rand(n, 3, generator=g) + 0.1, torch.rand(n, generator=g) * 0.9 + 0.05,
                                         torch.randn(n, 4, generator=g))
    geometry, colors, sh = vd.pack_cloud(cloud)
    assert sh is None  # degree 0
    assert geometry.shape == (2, 3 * vd.SPLATS_PER_ROW, 4) and colors.shape == (2, vd.SPLATS_PER_ROW, 4)
    cov = cloud.covariances().numpy()
    for i in (0, 5, vd.SPLATS_PER_ROW - 1, vd.SPLATS_PER_ROW + 6):
        row, col = divmod(i, vd.SPLATS_PER_ROW)
        t0, t1, t2 = geometry[row, 3 * col], geometry[row, 3 * col + 1], geometry[row, 3 * col + 2]
        assert np.allclose(t0[:3], cloud.means[i].numpy()) and np.isclose(t0[3], cloud.opacities()[i])
        assert np.allclose([*t1, *t2[:2]], cov[i][[0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]])
        assert np.allclose(colors[row, col, :3], cloud.base_colors()[i].numpy())


def test_back_to_front_order():
    means = np.array([[0, 0, 0], [0, 0, -2], [0, 0, 1], [0, 0, -1]], dtype=np.float32)
    view = look_at(np.array([0.0, 0.0, 5.0]), np.zeros(3))  # looks down -Z: z = 1 is nearest
    assert vd.back_to_front(means, view).tolist() == [1, 3, 0, 2]
    assert vd.back_to_front(means, view).dtype == np.uint32


def test_sh_packing_layout_matches_shader_indexing():
    n = vd.SPLATS_PER_ROW + 3
    for degree, texels in ((1, 3), (2, 6), (3, 12)):
        sh = np.random.default_rng(degree).normal(size=(n, (degree + 1) ** 2, 3)).astype(np.float32)
        packed = vd.pack_sh(sh)
        assert vd.sh_texels(degree) == texels and packed.shape == (2, texels * vd.SPLATS_PER_ROW, 4)
        for i in (0, vd.SPLATS_PER_ROW - 1, vd.SPLATS_PER_ROW + 2):
            row, col = divmod(i, vd.SPLATS_PER_ROW)
            flat = packed[row, texels * col: texels * (col + 1)].reshape(-1)
            for k in range(1, (degree + 1) ** 2):  # coefficient k, channel c at float 3(k-1)+c
                assert np.array_equal(flat[3 * (k - 1): 3 * k], sh[i, k])
            assert not flat[3 * ((degree + 1) ** 2 - 1):].any()  # padding


def test_colour_texels_hold_the_unclamped_degree_zero_colour():
    cloud = GaussianCloud(torch.zeros(2, 3), torch.tensor([[1.0, 0, 0, 0]] * 2), torch.zeros(2, 3), torch.zeros(2),
                          torch.tensor([[[3.0, -3.0, 0.0]] * 4, [[0.5, 0.0, 0.0]] * 4]))
    _, colors, sh = vd.pack_cloud(cloud)
    assert np.allclose(colors[0, :2, :3], 0.5 + 0.28209479 * cloud.sh[:, 0].numpy())
    assert colors[0, 0, 0] > 1 and colors[0, 0, 1] < 0  # the shader clamps after adding the higher degrees
    assert sh.shape == (1, 3 * vd.SPLATS_PER_ROW, 4)
