"""``rasterize``: differentiable Gaussian splatting behind gsplat's ``rasterization`` signature.

Backends, one maths:
- ``"numba"`` (CPU tensors): projection fused with the covariance and tile compositing, both compiled
  by Numba with hand-written backwards (``projection_numba``, ``composite_numba``). The fast path.
- ``"torch"`` (CPU tensors): pure PyTorch, the reference the fast path is tested against: projection
  by autograd (``projection``), tile-sparse compositing with a hand-written backward (``composite_torch``).
  The only CPU backend with gradients for the cameras (``viewmats``, ``Ks``).
- ``"gsplat"`` (CUDA tensors, gsplat installed; imported lazily).
``"auto"`` picks gsplat for CUDA tensors, torch when a camera needs gradients, numba otherwise.

Conventions as gsplat: quaternions wxyz (normalised here), scales are standard deviations
(metres), opacities in (0, 1), cameras OpenCV (``viewmats`` world-to-camera), pixel centres at +0.5.
Empty inputs (0 Gaussians) render the background; invalid inputs raise ``ValueError``.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch

from core.gaussians import covariance, eval_sh
from core.render import composite_numba, composite_torch, depth_sort
from core.render.projection import EPS_2D, project
from core.render.projection_numba import project_fused

RenderMode = Literal["RGB", "D", "ED", "RGB+D", "RGB+ED"]
Backend = Literal["auto", "numba", "torch", "gsplat"]


def _check(means, quats, scales, opacities, colors, viewmats, Ks, width, height, sh_degree) -> None:
    n = means.shape[0] if means.ndim == 2 else -1
    if means.ndim != 2 or means.shape[1] != 3:
        raise ValueError(f"means must be [N, 3], got {tuple(means.shape)}")
    for name, value, shape in (("quats", quats, (n, 4)), ("scales", scales, (n, 3)), ("opacities", opacities, (n,))):
        if tuple(value.shape) != shape:
            raise ValueError(f"{name} must be {shape} for N = {n}, got {tuple(value.shape)}")
    if viewmats.ndim != 3 or viewmats.shape[1:] != (4, 4) or Ks.shape != (viewmats.shape[0], 3, 3):
        raise ValueError(f"viewmats must be [C, 4, 4] and Ks [C, 3, 3], got {tuple(viewmats.shape)}, "
                         f"{tuple(Ks.shape)}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if sh_degree is not None:
        if colors.ndim != 3 or colors.shape[0] != n or colors.shape[1] < (sh_degree + 1) ** 2:
            raise ValueError(f"SH colors must be [N, K ≥ {(sh_degree + 1) ** 2}, 3], got {tuple(colors.shape)}")
    elif not (colors.ndim == 2 and colors.shape[0] == n) and not (
            colors.ndim == 3 and colors.shape[:2] == (viewmats.shape[0], n)):
        raise ValueError(f"colors must be [N, D] or [C, N, D], got {tuple(colors.shape)}")
    for name, value in (("means", means), ("quats", quats), ("scales", scales), ("opacities", opacities),
                        ("colors", colors), ("viewmats", viewmats), ("Ks", Ks)):
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} contains NaN or infinite values")


def rasterize(
    means: torch.Tensor,  # [N, 3] world metres
    quats: torch.Tensor,  # [N, 4] wxyz, any norm
    scales: torch.Tensor,  # [N, 3] standard deviations, metres
    opacities: torch.Tensor,  # [N] in (0, 1)
    colors: torch.Tensor,  # [N, D] or [C, N, D], or SH [N, K, 3] with sh_degree
    viewmats: torch.Tensor,  # [C, 4, 4] world-to-camera (OpenCV)
    Ks: torch.Tensor,  # [C, 3, 3] pixels
    width: int,
    height: int,
    near_plane: float = 0.01,
    far_plane: float = 1e10,
    eps2d: float = EPS_2D,
    sh_degree: int | None = None,
    backgrounds: torch.Tensor | None = None,  # [C, D] (default black)
    render_mode: RenderMode = "RGB",
    backend: Backend = "auto",
) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Render C views. Returns colours [C, H, W, X] (X = D, 1 or D + 1 by ``render_mode``), alphas
    [C, H, W, 1] and a dict with per-view ``radii`` [C, N, 2], ``means2d`` [C, N, 2], ``depths`` [C, N]."""
    _check(means, quats, scales, opacities, colors, viewmats, Ks, width, height, sh_degree)
    if backend not in get_args(Backend):
        raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(get_args(Backend))}")
    if backend == "auto":
        if means.is_cuda:
            backend = "gsplat" if _gsplat_available() else "torch"  # torch explains what to install
        else:
            backend = "torch" if viewmats.requires_grad or Ks.requires_grad else "numba"
    if backend == "gsplat":
        return _rasterize_gsplat(means, quats, scales, opacities, colors, viewmats, Ks, width, height,
                                 near_plane, far_plane, eps2d, sh_degree, backgrounds, render_mode)
    if means.device.type != "cpu":
        raise ValueError(f"the {backend} backend runs on the CPU, but the tensors are on {means.device}: move them "
                         "to the CPU, or install gsplat ('avatarium[cuda]') to render on CUDA")
    cameras = viewmats.shape[0]
    if backend == "numba":
        projected = project_fused(means, quats, scales, opacities, viewmats, Ks, width, height, near_plane,
                                  far_plane, eps2d)
        composite = composite_numba.composite
    else:
        projected = project(means, covariance(quats, scales), opacities, viewmats, Ks, width, height,
                            near_plane, far_plane, eps2d)
        composite = composite_torch.composite
    if sh_degree is not None:
        eyes = -(viewmats[:, :3, :3].transpose(-1, -2) @ viewmats[:, :3, 3:])[..., 0]  # [C, 3]
        dirs = means[None] - eyes[:, None]
        dirs = dirs / dirs.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        per_view = eval_sh(colors[None, :, : (sh_degree + 1) ** 2], dirs).clamp_min(0.0)
        per_view = per_view.expand(cameras, -1, -1)  # [C, N, 3] (degree 0 does not depend on the view)
    else:
        per_view = colors.expand(cameras, *colors.shape[-2:]) if colors.ndim == 2 else colors
    channels = per_view.shape[-1]
    if backgrounds is None:
        backgrounds = torch.zeros(cameras, channels, dtype=means.dtype, device=means.device)
    images, alphas, depths = [], [], []
    for cam in range(cameras):
        image, alpha, depth = composite(projected.means2d[cam], projected.conics[cam], per_view[cam], opacities,
                                        projected.depths[cam], projected.radii[cam], backgrounds[cam], width, height)
        images.append(image)
        alphas.append(alpha)
        depths.append(depth)
    image, alpha, depth = torch.stack(images), torch.stack(alphas)[..., None], torch.stack(depths)[..., None]
    if render_mode in ("ED", "RGB+ED"):
        depth = depth / alpha.clamp_min(1e-10)
    output = {"RGB": image, "D": depth, "ED": depth}.get(render_mode)
    if output is None:  # RGB+D, RGB+ED
        output = torch.cat([image, depth], -1)
    meta = {"radii": projected.radii, "means2d": projected.means2d, "depths": projected.depths}
    return output, alpha, meta


_KERNELS_READY = False


def prepare_cpu_kernels() -> None:
    """Make the numba kernels ready in this process (the numba backend's, by rendering a tiny scene with
    gradients, and the viewport's depth sort): they are compiled on their first use after an install
    or an update (about 20 s on two cores; Numba keeps them in its on-disk cache) and loaded from that
    cache afterwards (about 1 s). Later calls return at once. Call it where a wait is expected
    (start-up, before a long job) to keep it out of the first render."""
    global _KERNELS_READY
    if _KERNELS_READY:
        return
    means = torch.tensor([[0.0, 0.0, 2.0], [0.05, 0.0, 2.2]], requires_grad=True)
    quats = torch.tensor([[1.0, 0.0, 0.0, 0.0]]).expand(2, 4)
    scales = torch.full((2, 3), 0.05)
    K = torch.tensor([[[16.0, 0.0, 8.0], [0.0, 16.0, 8.0], [0.0, 0.0, 1.0]]])
    image, alpha, _ = rasterize(means, quats, scales, torch.full((2,), 0.8), torch.ones(2, 3), torch.eye(4)[None], K,
                                16, 16, backend="numba")
    (image.sum() + alpha.sum()).backward()
    depth_sort.prepare()
    _KERNELS_READY = True


def _gsplat_available() -> bool:
    try:
        import gsplat  # noqa: F401
    except ImportError:
        return False
    return True


def _rasterize_gsplat(means, quats, scales, opacities, colors, viewmats, Ks, width, height, near_plane,
                      far_plane, eps2d, sh_degree, backgrounds, render_mode):
    if not means.is_cuda:
        raise ValueError("the gsplat backend needs CUDA tensors; use backend='torch' on the CPU")
    if not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available")
    try:
        from gsplat import rasterization
    except ImportError as exc:
        raise ValueError("the gsplat backend needs the 'cuda' extra: pip install 'avatarium[cuda]'") from exc
    colors_out, alphas, meta = rasterization(
        means, quats, scales, opacities, colors, viewmats, Ks, width, height, near_plane=near_plane,
        far_plane=far_plane, eps2d=eps2d, sh_degree=sh_degree, backgrounds=backgrounds, render_mode=render_mode,
        packed=False,
    )
    return colors_out, alphas, meta
