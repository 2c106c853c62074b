"""From the network's per-query-point prediction to an :class:`core.avatar.avatar.Avatar`.

The query points are sparse, so the avatar's Gaussians are a dense stratified sampling of the body
surface; each takes the colour, outward offset, shape and opacity of its nearest query point (in
the T-pose): the network's scale multipliers and surface-frame rotation reshape a flat disc of
σ = 0.6 sample spacings in the surface and 0.1 across it (the render losses train them on the same
disc at the training points' spacing, see :mod:`core.train.render_loss`; :func:`core.avatar.binding.reshape_discs`).
Neither the network nor the refinement may thin the surface into pinholes or flatten it into a faint
outline seen edge-on (:func:`solid_floor`), also where Gaussians stand off the body and so lie
farther apart (:func:`local_spacing`).
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.avatar.binding import bind_to_triangles, reshape_discs, surface_discs
from core.body.model import BodyModel, canonical_body
from core.body.surface import lift_spread, mesh_area, sample_surface, surface_points
from core.fit.clothing import check_layer
from core.gaussians import GaussianCloud, rgb_to_sh0
from core.recon.model import Prediction
from core.recon.query import QueryPoints

_LAYOUTS: weakref.WeakKeyDictionary[QueryPoints, dict] = weakref.WeakKeyDictionary()
#: Least opacity of an avatar's Gaussian: the surface stays solid from every side.
MIN_OPACITY = 0.9
#: Least in-plane σ of an avatar's Gaussian, in sample spacings (a disc of the network's is 0.6): a
#: posed body stretches its surface (shoulders of a raised arm), which 0.6 leaves full of pinholes.
SOLID_DISC = 0.75
#: Least σ across a disc (its thin axis), in sample spacings: a surface seen edge-on (the outline from
#: any view but the photo's) is as many discs deep as it is thick, and flatter ones leave it faint.
SOLID_THICKNESS = 0.7


def sample_spacing(body: BodyModel, shape: np.ndarray, count: int) -> float:
    """Mean distance (metres) between ``count`` stratified samples of the T-pose body of ``shape`` [S]."""
    canonical, _ = canonical_body(body, shape)
    return math.sqrt(float(mesh_area(canonical, body.faces)) / count)


def least_log_scales(spacing: torch.Tensor | float, count: int) -> torch.Tensor:
    """The least log σ [count, 3] (metres; axes 0 and 1 in the disc's plane, 2 across it) of
    ``count`` Gaussians ``spacing`` metres apart ([count] or one value): :data:`SOLID_DISC` spacings in
    the plane, :data:`SOLID_THICKNESS` across."""
    least = torch.as_tensor(spacing, dtype=torch.float32).expand(count)[:, None] \
        * torch.tensor([SOLID_DISC, SOLID_DISC, SOLID_THICKNESS])
    return least.log()


def solid_floor(log_scales: torch.Tensor, opacity_logits: torch.Tensor, spacing: torch.Tensor | float
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``log_scales`` [N, 3] and ``opacity_logits`` [N] raised where needed so Gaussians ``spacing``
    metres apart ([N] or one value, :func:`local_spacing`) close the surface at any zoom and from any
    side: σ at least :func:`least_log_scales` (neighbours overlap: no pinholes however large the
    image; seen edge-on, the surface stays dense enough), opacity at least :data:`MIN_OPACITY`."""
    raised = torch.maximum(log_scales, least_log_scales(spacing, len(log_scales)).to(log_scales.dtype))
    return raised, opacity_logits.clamp_min(math.log(MIN_OPACITY / (1 - MIN_OPACITY)))


def local_spacing(surface: torch.Tensor, means: torch.Tensor, spacing: float) -> torch.Tensor:
    """Per Gaussian [N], the spacing (metres) between it and its neighbours: ``spacing`` where it lies
    on the body (at ``surface`` [N, 3], rest pose), widened by how far standing off the body (to
    ``means`` [N, 3]) spread it from its nearest surface neighbours (:func:`core.body.surface.lift_spread`)."""
    return spacing * lift_spread(surface, means).to(means.dtype)


def avatar_spacing(body: BodyModel, avatar: Avatar) -> torch.Tensor:
    """:func:`local_spacing` [N] of ``avatar``'s Gaussians (rest pose), for its body and shape."""
    with torch.no_grad():
        rest = body.rest(torch.tensor(avatar.shape)[None]).vertices[0]
    surface, _ = surface_points(body, rest, avatar.binding.triangles, avatar.binding.barycentric)
    return local_spacing(surface, avatar.cloud.means, sample_spacing(body, avatar.shape, len(avatar.cloud)))


def surface_layout(body: BodyModel, query: QueryPoints, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``count`` stratified surface samples (triangle [N], barycentric [N, 3]) and the index [N] of each
    one's nearest query point, all on the default body's T-pose: they depend on the mesh, not on the
    person, so they are computed once per (body, query points, count) and cached."""
    cache = _LAYOUTS.setdefault(query, {})
    key = (body.name, body.num_vertices, len(body.faces), count)
    if key not in cache:
        canonical, _ = canonical_body(body, body.default_shape()[0].numpy())
        _, triangles, barycentric = sample_surface(canonical, body.faces, count, seed=0, stratified=True)
        points, _ = surface_points(body, canonical, triangles, barycentric)
        anchors, _ = surface_points(body, canonical, query.triangles, query.barycentric)
        nearest = torch.cat([torch.cdist(chunk, anchors).argmin(1) for chunk in points.split(4096)])
        cache[key] = (triangles, barycentric, nearest)
    return cache[key]


def build_avatar(body: BodyModel, query: QueryPoints, shape: np.ndarray, prediction: Prediction,
                 count: int = 40000, clothing: np.ndarray | None = None) -> Avatar:
    """``count`` Gaussians on ``body`` of ``shape`` [S] coloured by ``prediction`` (batch of 1). With a
    fit's clothing layer (``clothing`` [V] metres, :mod:`core.fit.clothing`) each Gaussian stands off
    the body by the larger of the network's offset and the layer's offset where it sits."""
    triangles, barycentric, nearest = surface_layout(body, query, count)
    with torch.no_grad():
        rest = body.rest(torch.tensor(shape)[None]).vertices[0]
    points, frames = surface_points(body, rest, triangles, barycentric)
    colour = prediction.colour[0, nearest].float().clamp(0, 1)
    offset = prediction.offset[0, nearest].float()
    if clothing is not None:
        layer = (check_layer(clothing, body.num_vertices)[body.faces[triangles]] * barycentric).sum(1)
        offset = torch.maximum(offset, layer)
    means = points + offset[:, None] * frames[..., 2]
    spacing = sample_spacing(body, shape, count)
    quats, log_scales = reshape_discs(*surface_discs(frames, spacing), prediction.log_scale[0, nearest].float(),
                                      prediction.rotation[0, nearest].float())
    log_scales, opacity_logits = solid_floor(log_scales, prediction.opacity_logit[0, nearest].float(),
                                             local_spacing(points, means, spacing))
    cloud = GaussianCloud(means=means.contiguous(), quats=quats.contiguous(), log_scales=log_scales.contiguous(),
                          opacity_logits=opacity_logits.contiguous(), sh=rgb_to_sh0(colour)[:, None, :])
    return Avatar(cloud, bind_to_triangles(triangles, barycentric, body), body.name, np.asarray(shape, np.float32))
