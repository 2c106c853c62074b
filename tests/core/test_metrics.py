import numpy as np
import torch

from core.metrics import mask_iou, mpjpe, pa_mpjpe, procrustes_align, similarity_transform
from core.rotations import axis_angle_to_rotmat


def test_procrustes_undoes_a_similarity_transform():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(22, 3))
    rotation = axis_angle_to_rotmat(torch.tensor([0.3, -1.1, 0.5], dtype=torch.float64)).numpy()
    moved = 2.5 * truth @ rotation.T + np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(procrustes_align(moved, truth), truth, atol=1e-6)
    assert pa_mpjpe(moved, truth) < 1e-6 and mpjpe(moved, truth) > 1.0
    scale, back, translation = similarity_transform(moved, truth)  # the inverse, as row-vector factors
    np.testing.assert_allclose(scale, 1 / 2.5, rtol=1e-9)
    np.testing.assert_allclose(back, rotation, atol=1e-9)
    np.testing.assert_allclose(scale * moved @ back + translation, truth, atol=1e-6)


def test_pa_mpjpe_keeps_pose_errors_and_refuses_reflections():
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(22, 3))
    bent = truth.copy()
    bent[5] += [0.3, 0.0, 0.0]
    assert pa_mpjpe(bent, truth) > 0.005  # a bent joint is an error no similarity transform removes
    mirrored = truth * np.array([-1.0, 1.0, 1.0])
    assert pa_mpjpe(mirrored, truth) > 0.1  # a mirror image is not a rotation


def test_mask_iou():
    a = np.zeros((4, 4))
    b = np.zeros((4, 4))
    assert mask_iou(a, b) == 1.0
    a[:2] = 1
    b[1:3] = 1
    assert mask_iou(a, b) == 4 / 12


def test_ssim_is_one_for_equal_images_and_drops_with_noise():
    from core.metrics import ssim

    g = torch.Generator().manual_seed(0)
    image = torch.rand(32, 32, 3, generator=g)
    assert abs(ssim(image, image) - 1.0) < 1e-5
    noisy = (image + 0.2 * torch.randn(32, 32, 3, generator=g)).clamp(0, 1)
    assert ssim(noisy, image) < 0.9
    mask = torch.zeros(32, 32)
    mask[:, :16] = 1
    half = image.clone()
    half[:, 16:] = 0  # damage only outside the mask
    assert ssim(half, image, mask) > ssim(half, image)


def test_ciede2000_matches_the_published_test_pairs():
    from core.metrics import ciede2000

    # Sharma, Wu & Dalal (2005), Table 1: pairs 1, 7, 17, 18, 19, 20, 25
    pairs = [((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
             ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
             ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
             ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
             ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
             ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
             ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644)]
    first, second, expected = (np.array([p[i] for p in pairs]) for i in range(3))
    np.testing.assert_allclose(ciede2000(first, second), expected, atol=1e-4)
    np.testing.assert_allclose(ciede2000(second, first), expected, atol=1e-4)  # symmetric
    assert ciede2000(first, first).max() == 0.0


def test_srgb_to_lab_reference_colours():
    from core.metrics import srgb_to_lab

    lab = srgb_to_lab(np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.5, 0.5]]))
    np.testing.assert_allclose(lab[0], [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(lab[1], [0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.02)  # sRGB red
    np.testing.assert_allclose(lab[3], [53.39, 0.0, 0.0], atol=0.02)  # mid grey
