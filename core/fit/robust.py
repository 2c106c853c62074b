"""The robust 2D residual penalty of the photo fit and of motion capture (Geman–McClure)."""

from __future__ import annotations

import torch


def geman_mcclure(points: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, scale: float,
                  unit: float | torch.Tensor) -> torch.Tensor:
    """Weighted mean Geman–McClure penalty [...] (0 … 1) of image points [..., n, 2] against ``targets``
    [..., n, 2] (pixels), ``weights`` [n] or [..., n] (0: ignored): Σ w ρ / Σ w with ρ = r² / (r² + scale²),
    r the distance in units of ``unit`` pixels (a crop's side, a person's height). A far-off target pulls
    with a bounded force, so one wrong keypoint cannot drag the body."""
    r2 = ((points - targets) / unit).square().sum(-1)
    return (weights * r2 / (r2 + scale ** 2)).sum(-1) / weights.sum(-1).clamp_min(1e-6)
