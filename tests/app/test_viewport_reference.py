"""The OpenGL viewport agrees with an independent NumPy implementation of the splat maths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.images import qimage_to_rgb
from app.viewport.gl_widget import SplatViewport
from core.gaussians import GaussianCloud

pytestmark = pytest.mark.usefixtures("gl_available")

SIZE = 160


def reference_image(cloud: GaussianCloud, view: np.ndarray, K: np.ndarray, size: int,
                    background: np.ndarray) -> np.ndarray:
    """EWA splatting in float64, written from the 3DGS paper: per-pixel front-to-back compositing
    of alpha = min(0.999, o·exp(-½ dᵀ Σ₂⁻¹ d)), alpha < 1/255 skipped, Σ₂ = J W Σ Wᵀ Jᵀ + 0.3 I."""
    means = cloud.means.double().numpy()
    covs = cloud.covariances().double().numpy()
    opacity = cloud.opacities().double().numpy()
    colors = cloud.base_colors().double().numpy()
    W, t = view[:3, :3], view[:3, 3]
    cam = means @ W.T + t
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    image = np.zeros((size, size, 3))
    transmittance = np.ones((size, size))
    for i in np.argsort(cam[:, 2]):
        x, y, z = cam[i]
        J = np.array([[K[0, 0] / z, 0, -K[0, 0] * x / z**2], [0, K[1, 1] / z, -K[1, 1] * y / z**2]])
        cov2 = J @ W @ covs[i] @ W.T @ J.T + 0.3 * np.eye(2)
        conic = np.linalg.inv(cov2)
        dx, dy = xs - (K[0, 0] * x / z + K[0, 2]), ys - (K[1, 1] * y / z + K[1, 2])
        sigma = 0.5 * (conic[0, 0] * dx**2 + conic[1, 1] * dy**2) + conic[0, 1] * dx * dy
        alpha = np.minimum(0.999, opacity[i] * np.exp(-sigma))
        alpha[(alpha < 1 / 255) | (sigma < 0)] = 0
        image += (transmittance * alpha)[..., None] * colors[i]
        transmittance *= 1 - alpha
    return image + transmittance[..., None] * background


def _scene() -> GaussianCloud:
    g = torch.Generator().manual_seed(7)
    n = 60
    return GaussianCloud.from_activated(
        means=(torch.rand(n, 3, generator=g) - 0.5) * torch.tensor([0.8, 0.8, 0.6]),
        rgb=torch.rand(n, 3, generator=g),
        scales=torch.exp(torch.empty(n, 3).uniform_(-4.0, -1.8, generator=g)),  # 2 cm to 16 cm
        opacities=torch.empty(n).uniform_(0.1, 0.95, generator=g),
        quats=torch.randn(n, 4, generator=g),
    )


def _render(qtbot, cloud: GaussianCloud) -> tuple[SplatViewport, np.ndarray]:
    view = SplatViewport()
    view.setFixedSize(SIZE, SIZE)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.set_cloud(cloud)
    view.camera.azimuth, view.camera.elevation = 0.6, 0.3
    return view, qimage_to_rgb(view.grabFramebuffer()).astype(np.float64) / 255


def test_viewport_matches_numpy_reference(qtbot):
    cloud = _scene()
    view, pixels = _render(qtbot, cloud)
    bg = np.array([view.background.redF(), view.background.greenF(), view.background.blueF()])
    expected = reference_image(cloud, view.camera.viewmat(), view.camera.intrinsics(SIZE, SIZE), SIZE, bg)
    difference = np.abs(pixels - expected)
    assert (np.abs(expected - bg).sum(-1) > 0.05).mean() > 0.2, "scene should cover the view"
    assert difference.mean() <= 2 / 255, difference.mean() * 255
    assert np.percentile(difference, 99) <= 4 / 255, np.percentile(difference, 99) * 255


def _cpu_image(view: SplatViewport, cloud: GaussianCloud) -> np.ndarray:
    """The viewport's view of ``cloud`` drawn by core.render.rasterize (torch backend), RGB [H, W, 3]."""
    from core.render.rasterize import rasterize

    bg = torch.tensor([[view.background.redF(), view.background.greenF(), view.background.blueF()]])
    near, far = view.camera.near_far(cloud.radius())
    degree = cloud.sh_degree
    image, _, _ = rasterize(cloud.means, cloud.quats, cloud.scales(), cloud.opacities(),
                            cloud.sh if degree else cloud.base_colors(),
                            torch.tensor(view.camera.viewmat(), dtype=torch.float32)[None],
                            torch.tensor(view.camera.intrinsics(SIZE, SIZE), dtype=torch.float32)[None],
                            SIZE, SIZE, near_plane=near, far_plane=far, backgrounds=bg,
                            sh_degree=degree or None, backend="torch")
    return image[0].clamp(0, 1).numpy()


def test_viewport_matches_cpu_rasterizer(qtbot):
    """The OpenGL viewport and core.render.rasterize (torch backend) draw the same image."""
    cloud = _scene()
    view, pixels = _render(qtbot, cloud)
    assert np.abs(pixels - _cpu_image(view, cloud)).mean() <= 3 / 255


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_view_dependent_colour_matches_cpu_rasterizer(qtbot, degree):
    """Spherical harmonics evaluated in the projection shader give the CPU renderer's colours."""
    plain = _scene()
    g = torch.Generator().manual_seed(degree)
    higher = 0.8 * torch.randn(len(plain), (degree + 1) ** 2 - 1, 3, generator=g)
    cloud = GaussianCloud(plain.means, plain.quats, plain.log_scales, plain.opacity_logits,
                          torch.cat([plain.sh, higher], 1))
    view, pixels = _render(qtbot, cloud)
    expected = _cpu_image(view, cloud)
    assert np.abs(expected - _cpu_image(view, plain)).mean() > 10 / 255, "the SH terms should show in this view"
    assert np.abs(pixels - expected).mean() <= 3 / 255
