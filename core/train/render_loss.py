"""Render losses: the network's Gaussians and the true ones, rendered around the T-pose body.

The true Gaussians sit at the supervised query points: at the true outward offset along the
surface normal, with the true unlit colour, as flat surface discs (σ = 0.6 point spacings in the
surface, 0.1 across it; the spacing is the point set's median nearest-neighbour distance × 1.25,
about √(area / points) for a stratified sample) of opacity 0.99; where standing off the body spreads
the points apart (a coat round an arm, a skirt), the discs widen by the same factor
(:func:`true_log_scale`), so the true garment is closed. The network's Gaussians sit at its
offset with its colour, its opacity and the disc reshaped by its scale multipliers and its
rotation in the surface frame. Both are rendered by :func:`core.render.rasterize` from random
cameras around the canonical body, so the loss sees what a viewer sees (seams, overlaps, the
back), and scale, rotation and opacity get their only supervision here.

Terms (HumanSplat / LHM): per-pixel MSE with head and hand pixels weighted ×2 (through the
rendered body-part weight of the truth), 1 − SSIM, alpha MSE (mask loss), LHM's
as-spherical-as-possible term (here: the scale multipliers stay equal across axes, i.e. the disc
keeps its shape) and as-close-as-possible term (offsets beyond ``margin`` are penalised).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.avatar.binding import reshape_discs, surface_discs
from core.body.parts import PART_INDEX
from core.body.surface import lift_spread, surface_neighbours
from core.camera import intrinsics_from_fov, look_at
from core.metrics import ssim_map
from core.recon.model import Prediction
from core.render.rasterize import rasterize

TRUE_OPACITY = 0.99
DETAIL_PARTS = (PART_INDEX["head"], PART_INDEX["left_hand"], PART_INDEX["right_hand"])


@dataclass(frozen=True)
class RenderLossConfig:
    """Weights and sampling of the render losses (0 weight: the term is skipped)."""

    weight: float = 1.0  # of the weighted pixel MSE
    ssim_weight: float = 0.2
    mask_weight: float = 0.5
    asap_weight: float = 0.01
    acap_weight: float = 10.0  # per m² beyond the margin
    margin: float = 0.08  # metres of offset allowed before the as-close-as-possible term (coats, skirts, long hair)
    detail_weight: float = 2.0  # head and hand pixels
    people: int = 2  # rendered people per step (the first of the batch)
    views: int = 2  # random cameras per person
    size: int = 64  # pixels

    def __post_init__(self) -> None:
        for name in ("people", "views", "size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4096:
                raise ValueError(f"render.{name} must be a whole number from 1 to 4096, got {value!r}")
        for name in ("weight", "ssim_weight", "mask_weight", "asap_weight", "acap_weight", "margin", "detail_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"render.{name} must be a finite number ≥ 0, got {value!r}")


def disc_spacing(points: torch.Tensor, neighbours: torch.Tensor | None = None) -> torch.Tensor:
    """Point spacing [B] (metres) of ``points`` [B, P, 3] on a surface: median nearest-neighbour distance × 1.25
    (``neighbours`` [B, P, K]: :func:`core.body.surface.surface_neighbours` of ``points``, if already known)."""
    neighbours = surface_neighbours(points) if neighbours is None else neighbours
    with torch.no_grad():
        nearest = torch.gather(points, 1, neighbours[..., :1].expand(-1, -1, 3))
        return 1.25 * (nearest - points).norm(dim=-1).median(-1).values


def true_log_scale(surface: torch.Tensor, lifted: torch.Tensor, neighbours: torch.Tensor | None = None
                   ) -> torch.Tensor:
    """The true discs' log scale multiplier [..., P] at points lifted off the body (``surface`` [..., P, 3]
    → ``lifted`` [..., P, 3]; ``neighbours`` as for :func:`core.body.surface.lift_spread`): standing off
    spreads them apart and the discs widen by as much (a skirt or coat stays closed, no background
    through it), on every axis (the disc keeps its shape)."""
    return lift_spread(surface, lifted, neighbours).log()


def random_views(rng: np.random.Generator, count: int, target: np.ndarray, size: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` world-to-camera matrices [count, 4, 4] at random azimuths (all around) and elevations
    (−15° to 30°) looking at ``target`` [3] from 2.6 m (a T-pose fills most of a 40° view), and K [count, 3, 3]."""
    views = []
    for _ in range(count):
        azimuth, elevation = rng.uniform(0, 2 * math.pi), math.radians(rng.uniform(-15, 30))
        eye = target + 2.6 * np.array([math.sin(azimuth) * math.cos(elevation), math.sin(elevation),
                                       math.cos(azimuth) * math.cos(elevation)])
        views.append(look_at(eye, target))
    K = torch.tensor(intrinsics_from_fov(40.0, size, size), dtype=torch.float32).expand(count, 3, 3)
    return torch.tensor(np.stack(views), dtype=torch.float32), K.contiguous()


def render_terms(prediction: Prediction, batch: dict[str, torch.Tensor], parts: torch.Tensor,
                 config: RenderLossConfig, rng: np.random.Generator, points: torch.Tensor | None = None
                 ) -> dict[str, torch.Tensor]:
    """Render-loss terms (scalars) for the first ``config.people`` people of ``batch`` (keys
    ``canonical`` [B, P, 3], ``frame`` [B, P, 3, 3], ``albedo`` [B, P, 3], ``offset`` [B, P]);
    ``parts`` [P] are the query points' body parts and ``points`` [p] the supervised subset."""
    chosen = slice(None) if points is None else points
    people = min(config.people, prediction.colour.shape[0])
    canonical, frames = batch["canonical"][:people, chosen], batch["frame"][:people, chosen].float()
    normals = frames[..., 2]
    detail = torch.isin(parts[chosen], torch.tensor(DETAIL_PARTS, device=parts.device))
    weight = 1 + (config.detail_weight - 1) * detail.float()
    neighbours = surface_neighbours(canonical)  # one neighbour search for the spacing and the widening
    spacing = disc_spacing(canonical, neighbours)
    true_means = canonical + batch["offset"][:people, chosen, None] * normals
    widen = true_log_scale(canonical, true_means, neighbours)[..., None]
    terms = {k: canonical.new_zeros(()) for k in ("render", "ssim", "mask")}
    for i in range(people):
        target = canonical[i].mean(0).detach().cpu().numpy().astype(np.float64)
        viewmats, K = random_views(rng, config.views, target, config.size)
        viewmats, K = viewmats.to(canonical.device), K.to(canonical.device)
        background = torch.from_numpy(rng.uniform(0, 1, (config.views, 4))).float().to(canonical.device)
        background[:, 3] = 1.0  # the weight channel: background pixels count once
        quats, log_sigma = surface_discs(frames[i], spacing[i])
        shaped_quats, shaped_log_sigma = reshape_discs(quats, log_sigma, prediction.log_scale[i],
                                                       prediction.rotation[i])
        with torch.no_grad():
            truth, truth_alpha, _ = rasterize(
                true_means[i], quats, (log_sigma + widen[i]).exp(),
                torch.full((len(quats),), TRUE_OPACITY, device=canonical.device),
                torch.cat([batch["albedo"][i, chosen], weight[:, None]], -1), viewmats, K, config.size, config.size,
                near_plane=0.05, backgrounds=background)
        image, alpha, _ = rasterize(
            canonical[i] + prediction.offset[i, :, None] * normals[i],
            shaped_quats, shaped_log_sigma.exp(),
            torch.sigmoid(prediction.opacity_logit[i]), prediction.colour[i], viewmats, K, config.size, config.size,
            near_plane=0.05, backgrounds=background[:, :3])
        pixel_weight = truth[..., 3]
        terms["render"] = terms["render"] + ((image - truth[..., :3]).square().mean(-1) * pixel_weight).sum() \
            / pixel_weight.sum() / people
        if config.ssim_weight:
            terms["ssim"] = terms["ssim"] + (1 - ssim_map(image, truth[..., :3], window=7).mean()) / people
        terms["mask"] = terms["mask"] + (alpha - truth_alpha).square().mean() / people
    log_scale = prediction.log_scale[:people]
    return {
        "render": config.weight * terms["render"], "ssim": config.ssim_weight * terms["ssim"],
        "mask": config.mask_weight * terms["mask"],
        "asap": config.asap_weight * (log_scale - log_scale.mean(-1, keepdim=True)).square().mean(),
        "acap": config.acap_weight * (prediction.offset[:people].abs() - config.margin).clamp_min(0).square().mean(),
    }
