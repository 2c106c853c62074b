"""The clothing layer of a body fit: how far the clothed outline stands off the bare body.

A fitted body is the body under the clothes; coats, skirts, loose trousers, hoods and hair reach
beyond it. As in SMPL+D (Alldieck et al., "Video Based Reconstruction of 3D People Models", 2018),
the layer is one offset per body vertex along the vertex's rest-pose normal (metres, ≥ 0), posed
by the body's own skinning: skinning is linear in the rest position, so the offset ``d`` moves a
posed vertex by ``d · A n`` with ``A`` the vertex's blended bone transform and ``n`` its rest
normal. It is fitted to the person mask after the body (the body stays as fitted) with the fit's
two-way silhouette distance (:mod:`core.fit.silhouette`), a smoothness term over the mesh edges
and a small pull towards zero, so it grows only where the mask reaches past the body.
One photo shows the outline, not the depth: offsets along the normal thicken the garment all round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from core.body.model import BodyModel, BodyOutput
from core.fit.silhouette import SilhouetteTarget
from core.progress import CancelToken, Progress, report


@dataclass(frozen=True)
class ClothingOptions:
    """Settings of :func:`fit_clothing`."""

    iterations: int = 40
    learning_rate: float = 0.005  # Adam step on the offsets, metres
    max_offset: float = 0.3  # metres
    smoothness: float = 0.1  # weight of Σ over mesh edges of (dᵢ − dⱼ)², metres²
    size: float = 0.1  # weight of the mean squared offset, metres²
    point_stride: int = 3  # every n-th vertex is compared with the mask
    cover_sigma: float = 0.05  # Geman–McClure scale of the silhouette's cover term (fraction of the mask side)


def offset_directions(body: BodyModel, shape: torch.Tensor, posed: BodyOutput) -> torch.Tensor:
    """Posed direction [V, 3] in which a unit offset along each vertex's rest normal moves it: the
    vertex's blended bone rotation-and-scale applied to its rest normal. ``shape`` [S]; ``posed`` the
    body's output for that shape (batch 1)."""
    from core.body.surface import vertex_normals

    with torch.no_grad():
        rest = body.rest(shape[None]).vertices[0]
        normals = torch.from_numpy(vertex_normals(rest.numpy(), body.faces.numpy()))
        blended = (body.skin_weights[..., None, None] * posed.transforms[0][body.skin_indices, :3, :3]).sum(1)
        return (blended @ normals[..., None])[..., 0]


def clothed_vertices(posed_vertices: torch.Tensor, directions: torch.Tensor, offsets: np.ndarray | torch.Tensor
                     ) -> torch.Tensor:
    """Posed vertices [V, 3] of the clothed outline: ``posed_vertices`` [V, 3] moved by ``offsets`` [V]
    (metres) along ``directions`` [V, 3] (from :func:`offset_directions`)."""
    offsets = check_layer(offsets, posed_vertices.shape[0]).to(posed_vertices.dtype)
    return posed_vertices + offsets[:, None] * directions


def check_layer(offsets: np.ndarray | torch.Tensor, vertices: int) -> torch.Tensor:
    """``offsets`` as a float32 tensor [V]; ValueError unless there is one per vertex of the body."""
    offsets = torch.as_tensor(offsets, dtype=torch.float32)
    if offsets.shape != (vertices,):
        raise ValueError(f"the clothing layer has {len(offsets)} offsets for a body of {vertices} vertices "
                         "(a fit of another body model?)")
    return offsets


def mesh_edges(faces: torch.Tensor) -> torch.Tensor:
    """Each edge [E, 2] of a triangle mesh (``faces`` [F, 3]) once, lower vertex first."""
    pairs = torch.cat([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).sort(1).values.numpy().astype(np.int64)
    keys = np.unique(pairs[:, 0] * (int(pairs.max()) + 1) + pairs[:, 1])
    return torch.from_numpy(np.stack(np.divmod(keys, int(pairs.max()) + 1), 1))


def fit_clothing(posed_vertices: torch.Tensor, directions: torch.Tensor, faces: torch.Tensor,
                 project: Callable[[torch.Tensor], torch.Tensor], target: SilhouetteTarget,
                 options: ClothingOptions | None = None, progress: Progress | None = None,
                 cancel: CancelToken | None = None) -> np.ndarray:
    """Offsets [V] (metres, float32) that make the clothed outline match ``target``'s mask.

    posed_vertices [V, 3] and directions [V, 3] (world metres), faces [F, 3]; ``project`` maps world
    points [N, 3] to the target mask's pixels [N, 2]."""
    options = options or ClothingOptions()
    edges = mesh_edges(faces)
    rows = torch.arange(0, posed_vertices.shape[0], options.point_stride)
    base, direction = posed_vertices[rows].detach(), directions[rows].detach()
    offsets = torch.zeros(posed_vertices.shape[0], requires_grad=True)
    optimiser = torch.optim.Adam([offsets], lr=options.learning_rate)
    for step in range(options.iterations):
        if step % 10 == 0:
            report(progress, step / options.iterations, "Fitting the clothing layer", cancel)
        outside, cover = target.loss(project(base + offsets[rows, None] * direction), options.cover_sigma)
        smooth = (offsets[edges[:, 0]] - offsets[edges[:, 1]]).square().sum()
        loss = outside + cover + options.smoothness * smooth + options.size * offsets.square().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        with torch.no_grad():  # projected gradient descent: offsets stay in [0, max_offset]
            offsets.clamp_(0.0, options.max_offset)
    report(progress, 1.0, "Clothing layer fitted", cancel)
    return offsets.detach().numpy().astype(np.float32)
