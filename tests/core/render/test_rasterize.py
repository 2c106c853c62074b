"""Both CPU rasterizer backends (numba, the fast path; torch, its pure-PyTorch reference) against a dense
float64 reference and each other, gradients included."""

import math

import numpy as np
import pytest
import torch

from core.camera import intrinsics_from_fov, look_at
from core.render.projection import project
from core.render.rasterize import rasterize
from core.rotations import quat_to_rotmat


def camera(width, height, eye=(0.3, 0.2, -3.0), dtype=torch.float64):
    view = torch.tensor(look_at(torch.tensor(eye).numpy(), torch.zeros(3).numpy()), dtype=dtype)
    K = torch.tensor(intrinsics_from_fov(50, width, height), dtype=dtype)
    return view[None], K[None]


def dense_reference(means, quats, scales, opacities, colors, viewmats, Ks, width, height, background,
                    near=0.01, far=1e10):
    """Every pixel against every Gaussian, sorted by depth, in one [pixels, N] matrix (float64)."""
    rot = quat_to_rotmat(quats)
    m = rot * scales[:, None, :]
    proj = project(means, m @ m.transpose(-1, -2), opacities, viewmats, Ks, width, height, near, far)
    means2d, conics, depths, radii = proj.means2d[0], proj.conics[0], proj.depths[0], proj.radii[0]
    keep = (radii > 0).all(-1)
    order = torch.argsort(depths.detach())
    order = order[keep[order]]
    ys, xs = torch.meshgrid(torch.arange(height, dtype=means.dtype), torch.arange(width, dtype=means.dtype),
                            indexing="ij")
    px, py = xs.reshape(-1, 1) + 0.5, ys.reshape(-1, 1) + 0.5
    dx, dy = px - means2d[order, 0], py - means2d[order, 1]
    c = conics[order]
    sigma = 0.5 * (c[:, 0] * dx * dx + c[:, 2] * dy * dy) + c[:, 1] * dx * dy
    alpha = (opacities[order] * torch.exp(-sigma)).clamp_max(0.999)
    use = (sigma >= 0) & (alpha >= 1 / 255)
    alpha = torch.where(use, alpha, torch.zeros_like(alpha))
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1]], 1), 1)
    done = use & (trans * (1 - alpha) <= 1e-4)
    drawn = use & (torch.cumsum(done.int(), 1) == 0)
    weight = torch.where(drawn, alpha * trans, torch.zeros_like(alpha))
    final_t = torch.prod(torch.where(drawn, 1 - alpha, torch.ones_like(alpha)), 1)
    image = weight @ colors[order] + final_t[:, None] * background
    depth = weight @ depths[order]
    return image.reshape(height, width, -1), (1 - final_t).reshape(height, width), depth.reshape(height, width)


def scene(seed=0, n=60, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    means = (torch.rand(n, 3, generator=g, dtype=dtype) - 0.5) * 1.6
    scales = torch.exp(torch.empty(n, 3, dtype=dtype).uniform_(-3.5, -1.2, generator=g))
    scales[0] = 1e-4  # tiny
    scales[1] = 3.0  # huge, covers the view
    means[2] = torch.tensor([0.0, 0.0, -3.5])  # behind the camera
    means[3] = torch.tensor([0.0, 0.0, -2.995])  # 5 mm in front of the camera, past the near plane
    scales[3] = 0.2
    quats = torch.randn(n, 4, generator=g, dtype=dtype)
    opacities = torch.empty(n, dtype=dtype).uniform_(0.05, 0.98, generator=g)
    opacities[1] = 0.3
    means[4:10] = torch.stack([torch.zeros(6), torch.zeros(6), torch.linspace(-0.5, 0.5, 6)], 1).to(dtype)
    scales[4:10] = 0.3
    opacities[4:10] = 0.97  # an opaque stack: transmittance falls below 1e-4, pixels end early
    colors = torch.rand(n, 3, generator=g, dtype=dtype)
    return means, quats, scales, opacities, colors


BACKENDS = ["numba", "torch"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", [(40, 32), (48, 48)])
def test_forward_matches_dense_reference(size, backend):
    width, height = size
    params64 = scene()
    view, K = camera(width, height)
    bg = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    ref_image, ref_alpha, ref_depth = dense_reference(*params64, view, K, width, height, bg)
    params32 = [p.float() for p in params64]
    image, alpha, _ = rasterize(*params32, view.float(), K.float(), width, height, backgrounds=bg.float()[None],
                                backend=backend)
    assert image.dtype == torch.float32
    assert (image[0].double() - ref_image).abs().max() < 1e-5
    assert (alpha[0, ..., 0].double() - ref_alpha).abs().max() < 1e-5
    depth, _, _ = rasterize(*params64, view, K, width, height, render_mode="D", backend=backend)
    assert (depth[0, ..., 0] - ref_depth).abs().max() < 1e-9
    assert ref_alpha.min() > 0.2  # the huge Gaussian covers everything
    assert (ref_alpha < 0.99).any() and (ref_alpha > 0.9995).any()  # opaque stacks end pixels early


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_match_dense_reference(backend):
    width, height = 40, 32
    view, K = camera(width, height)
    bg = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    weights = torch.rand(height, width, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)

    def grads(render):
        params = [p.clone().requires_grad_(True) for p in scene(seed=1)]
        image, alpha, depth = render(params)
        loss = (image * weights).sum() + (alpha * weights[..., 0]).sum() + 0.1 * (depth * weights[..., 1]).sum()
        loss.backward()
        return [p.grad for p in params]

    ours = grads(lambda p: _split(rasterize(*p, view, K, width, height, backgrounds=bg[None], render_mode="RGB+D",
                                            backend=backend)))
    reference = grads(lambda p: dense_reference(*p, view, K, width, height, bg))
    for name, a, b in zip(("means", "quats", "scales", "opacities", "colors"), ours, reference, strict=True):
        assert torch.linalg.norm(a - b) <= 1e-4 * torch.linalg.norm(b) + 1e-12, name


def _split(outputs):
    colors, alpha, _ = outputs
    return colors[0, ..., :3], alpha[0, ..., 0], colors[0, ..., 3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_tiny_scene(backend):
    width, height = 10, 8
    view, K = camera(width, height, eye=(0.0, 0.0, -2.0))
    means = torch.tensor([[0.0, 0.0, 0.0], [0.15, -0.1, 0.3], [-0.2, 0.1, -0.2]], dtype=torch.float64)
    quats = torch.tensor([[1.0, 0.1, 0.2, 0.0], [0.9, -0.2, 0.1, 0.3], [1.0, 0.0, 0.0, 0.4]], dtype=torch.float64)
    scales = torch.tensor([[0.3, 0.2, 0.1], [0.15, 0.25, 0.2], [0.2, 0.2, 0.3]], dtype=torch.float64)
    opacities = torch.tensor([0.6, 0.5, 0.7], dtype=torch.float64)
    colors = torch.tensor([[0.9, 0.1, 0.2], [0.1, 0.8, 0.3], [0.2, 0.3, 0.9]], dtype=torch.float64)

    def render(*params):
        out, alpha, _ = rasterize(*params, view, K, width, height, render_mode="RGB+D",
                                  backgrounds=torch.tensor([[0.3, 0.3, 0.3]], dtype=torch.float64), backend=backend)
        return out, alpha

    inputs = [p.clone().requires_grad_(True) for p in (means, quats, scales, opacities, colors)]
    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sh_colours_and_batched_cameras(backend):
    means, quats, scales, opacities, _ = scene(n=30)
    sh = torch.randn(30, 16, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 0.3
    views = torch.cat([camera(24, 24, eye=e)[0] for e in ((0.3, 0.2, -3.0), (3.0, 0.5, 0.2))])
    Ks = camera(24, 24)[1].expand(2, 3, 3)
    images, alphas, meta = rasterize(means, quats, scales, opacities, sh, views, Ks, 24, 24, sh_degree=3,
                                     backend=backend)
    assert images.shape == (2, 24, 24, 3) and alphas.shape == (2, 24, 24, 1) and meta["radii"].shape == (2, 30, 2)
    single, _, _ = rasterize(means, quats, scales, opacities, sh, views[1:], Ks[1:], 24, 24, sh_degree=3,
                             backend=backend)
    assert torch.allclose(images[1], single[0])
    degree0, _, _ = rasterize(means, quats, scales, opacities, sh, views, Ks, 24, 24, sh_degree=0, backend=backend)
    assert not torch.allclose(images, degree0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_scene_renders_the_background(backend):
    means, quats, scales, opacities, colors = scene(n=12)
    view, K = camera(16, 16)
    empty = [p[:0] for p in (means, quats, scales, opacities, colors)]
    bg = torch.tensor([[0.2, 0.4, 0.6]], dtype=torch.float64)
    image, alpha, _ = rasterize(*empty, view, K, 16, 16, backgrounds=bg, backend=backend)
    assert torch.allclose(image, bg.expand(16, 16, 3)[None]) and torch.all(alpha == 0)
    behind = means + torch.tensor([0.0, 0.0, -10.0], dtype=means.dtype)  # all behind the camera
    image, alpha, meta = rasterize(behind, quats, scales, opacities, colors, view, K, 16, 16, backgrounds=bg,
                                   backend=backend)
    assert torch.allclose(image, bg.expand(16, 16, 3)[None]) and torch.all(alpha == 0)
    assert torch.all(meta["radii"] == 0)


def test_bad_input():
    means, quats, scales, opacities, colors = scene(n=12)
    view, K = camera(16, 16)
    nan = means.clone()
    nan[0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        rasterize(nan, quats, scales, opacities, colors, view, K, 16, 16)
    with pytest.raises(ValueError, match="image size"):
        rasterize(means, quats, scales, opacities, colors, view, K, 0, 16)
    with pytest.raises(ValueError, match="quats"):
        rasterize(means, quats[:3], scales, opacities, colors, view, K, 16, 16)
    with pytest.raises(ValueError, match="gsplat backend needs CUDA"):
        rasterize(means, quats, scales, opacities, colors, view, K, 16, 16, backend="gsplat")
    with pytest.raises(ValueError, match="unknown backend"):
        rasterize(means, quats, scales, opacities, colors, view, K, 16, 16, backend="opengl")
    with pytest.raises(ValueError, match="camera gradients"):
        rasterize(means, quats, scales, opacities, colors, view.requires_grad_(True), K, 16, 16, backend="numba")


def test_camera_gradients_use_the_torch_backend():
    """'auto' renders with the torch backend when a camera needs gradients, and they match finite differences."""
    means, quats, scales, opacities, colors = scene(seed=2, n=20)
    view, K = camera(24, 20)
    weights = torch.rand(20, 24, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def loss(view: torch.Tensor) -> torch.Tensor:
        return (rasterize(means, quats, scales, opacities, colors, view, K, 24, 20)[0][0] * weights).sum()

    view = view.clone().requires_grad_(True)
    loss(view).backward()
    step = torch.zeros_like(view)
    step[0, 0, 3] = 1e-6  # move the camera along its x axis
    numeric = (loss(view.detach() + step) - loss(view.detach() - step)) / 2e-6
    assert torch.isclose(view.grad[0, 0, 3], numeric, rtol=1e-4)


def figure_scene(count: int, size: int, cameras: int = 3) -> tuple:
    """The example figure (float32) seen by ``cameras`` views around it at size²."""
    from core.examples import figure_cloud
    from core.render.offline import framed_camera

    cloud = figure_cloud(count)
    rigs = [framed_camera(cloud, azimuth_deg=120.0 * i, elevation_deg=15.0 * i) for i in range(cameras)]
    views = torch.tensor(np.stack([rig.viewmat() for rig in rigs]), dtype=torch.float32)
    Ks = torch.tensor(np.stack([rig.intrinsics(size, size) for rig in rigs]), dtype=torch.float32)
    return ([cloud.means, cloud.quats, cloud.scales().detach(), cloud.opacities().detach(),
             cloud.base_colors().detach()], views, Ks)


def test_numba_matches_torch_backend_on_a_figure():
    """Thousands of overlapping splats seen from three sides: images and every gradient agree."""
    params, views, Ks = figure_scene(3000, 64)
    weights = torch.rand(3, 64, 64, 4, generator=torch.Generator().manual_seed(2))
    results = {}
    for backend in BACKENDS:
        leaves = [p.clone().requires_grad_(True) for p in params]
        image, alpha, _ = rasterize(*leaves, views, Ks, 64, 64, render_mode="RGB+ED", backend=backend)
        ((image * weights).sum() + (alpha[..., 0] * weights[..., 0]).sum()).backward()
        results[backend] = [image, alpha] + [leaf.grad for leaf in leaves]
    assert results["torch"][1].mean() > 0.1  # the figure is in view
    for name, a, b in zip(("image", "alpha", "means", "quats", "scales", "opacities", "colors"), *results.values(),
                          strict=True):
        assert torch.linalg.norm(a - b) <= 1e-4 * torch.linalg.norm(b), name


def test_numba_backend_gives_the_same_result_on_any_thread_count():
    params, views, Ks = figure_scene(2000, 48, cameras=1)
    results = []
    threads = torch.get_num_threads()
    try:
        for count in (1, 3):
            torch.set_num_threads(count)
            leaves = [p.clone().requires_grad_(True) for p in params]
            image, alpha, _ = rasterize(*leaves, views, Ks, 48, 48, backend="numba")
            (image.sum() + alpha.sum()).backward()
            results.append([image, alpha] + [leaf.grad for leaf in leaves])
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)
