"""Rendering per-query-point colours on the posed body from any camera (previews and evaluation).

The query points are sparse (thousands), so the surface is splatted densely (stratified samples)
and each sample takes the colour and offset of its nearest query point in canonical space; the
splats are flat discs in the surface (σ ≈ 0.6 sample spacings) rendered with ``core.render``.
"""

from __future__ import annotations

import math

import torch

from core.avatar.binding import surface_discs
from core.body.model import BodyModel
from core.body.surface import mesh_area, surface_points
from core.recon.avatar_builder import surface_layout
from core.recon.query import QueryPoints
from core.train.synthetic import LitSplats


class SurfacePainter:
    """Dense splats of one body (``canonical`` T-pose and ``posed`` vertices [V, 3]) coloured from query points."""

    def __init__(self, body: BodyModel, query: QueryPoints, canonical: torch.Tensor, posed: torch.Tensor,
                 samples: int = 20000) -> None:
        triangles, barycentric, self.nearest = surface_layout(body, query, samples)
        self.means, frames = surface_points(body, posed, triangles, barycentric)
        self.normals = frames[..., 2]
        self.quats, log_sigma = surface_discs(frames, math.sqrt(float(mesh_area(canonical, body.faces)) / samples))
        self.scales = log_sigma.exp().contiguous()

    def render(self, colours: torch.Tensor, offsets: torch.Tensor | None, viewmats: torch.Tensor, K: torch.Tensor,
               size: int, background: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Images [C, size, size, 3] and alphas [C, size, size] of the body painted with query-point
        ``colours`` [P, 3] (and outward ``offsets`` [P] metres) from ``viewmats`` [C, 4, 4], ``K`` [3, 3]."""
        means = self.means if offsets is None else self.means + offsets[self.nearest, None] * self.normals
        splats = LitSplats(means, self.quats, self.scales, colours[self.nearest].float())
        image, alpha = splats.render(viewmats, K, size, size, torch.full((len(viewmats), 3), background))
        return image.clamp(0, 1), alpha[..., 0]


def psnr(image: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR (dB) of images [..., H, W, 3] inside ``mask`` [..., H, W] (values in [0, 1])."""
    error = ((image - truth).square().mean(-1) * mask).sum() / mask.sum().clamp_min(1)
    return float(-10 * torch.log10(error.clamp_min(1e-10)))
