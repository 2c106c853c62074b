"""Binding points (Gaussian centres) to a body mesh: anchor triangle, barycentrics, skin weights.

A point takes the closest point of the rest mesh as its anchor and the barycentric blend of that
triangle's vertex skin weights, truncated to the top ``k`` bones and renormalised. Candidate
triangles are those around the point's nearest mesh vertices, which finds the true closest point
for points near the surface (what Gaussians of an avatar are); far-away points still get a valid,
nearby anchor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.body.lbs import strongest_influences
from core.body.model import BodyModel
from core.rotations import quat_multiply, rotmat_to_quat

_CHUNK = 8192
#: Most bones per point: anny's own vertex weights use up to 9.
MAX_BONES = 9


@dataclass(frozen=True)
class Binding:
    """How N points are attached to a body of K bones (rest pose of the model)."""

    triangles: torch.Tensor  # [N] int64 anchor triangle
    barycentric: torch.Tensor  # [N, 3] float32 weights of the triangle's vertices
    bone_indices: torch.Tensor  # [N, k] int64, k ≤ MAX_BONES
    bone_weights: torch.Tensor  # [N, k] float32, rows sum to 1
    bone_parents: tuple[int, ...]  # the body's skeleton (parents precede children)

    def __len__(self) -> int:
        return self.triangles.shape[0]

    def top(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` strongest bones per point and their renormalised weights ([N, k] each, padded with
        weight 0 where a point has fewer)."""
        return strongest_influences(self.bone_indices, self.bone_weights, k)


def closest_point_on_triangles(points: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor
                               ) -> torch.Tensor:
    """Barycentric coordinates [..., 3] of the closest point to ``points`` on triangles (a, b, c),
    all [..., 3] (Ericson, Real-Time Collision Detection, 5.1.5)."""
    ab, ac, ap = b - a, c - a, points - a
    d1, d2 = (ab * ap).sum(-1), (ac * ap).sum(-1)
    bp = points - b
    d3, d4 = (ab * bp).sum(-1), (ac * bp).sum(-1)
    cp = points - c
    d5, d6 = (ab * cp).sum(-1), (ac * cp).sum(-1)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    denom = (va + vb + vc)
    safe = torch.where(denom.abs() > 1e-30, denom, torch.ones_like(denom))
    v, w = vb / safe, vc / safe  # interior
    bary = torch.stack([1 - v - w, v, w], -1)

    def edge(t: torch.Tensor, i: int, j: int) -> torch.Tensor:
        out = torch.zeros_like(bary)
        out[..., i] = 1 - t
        out[..., j] = t
        return out

    eps = 1e-30
    t_ab = (d1 / (d1 - d3).where((d1 - d3).abs() > eps, torch.ones_like(d1))).clamp(0, 1)
    t_ac = (d2 / (d2 - d6).where((d2 - d6).abs() > eps, torch.ones_like(d2))).clamp(0, 1)
    t_bc_den = (d4 - d3) + (d5 - d6)
    t_bc = ((d4 - d3) / t_bc_den.where(t_bc_den.abs() > eps, torch.ones_like(t_bc_den))).clamp(0, 1)
    conditions = [
        ((d1 <= 0) & (d2 <= 0), edge(torch.zeros_like(d1), 0, 1)),  # vertex a
        ((d3 >= 0) & (d4 <= d3), edge(torch.ones_like(d1), 0, 1)),  # vertex b
        ((d6 >= 0) & (d5 <= d6), edge(torch.ones_like(d1), 0, 2)),  # vertex c
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), edge(t_ab, 0, 1)),  # edge ab
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), edge(t_ac, 0, 2)),  # edge ac
        ((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0), edge(t_bc, 1, 2)),  # edge bc
    ]
    for condition, value in reversed(conditions):  # the first matching region wins
        bary = torch.where(condition[..., None], value, bary)
    return bary


def _vertex_triangles(faces: torch.Tensor, num_vertices: int, width: int = 8) -> torch.Tensor:
    """[V, width] triangles around each vertex (padded by repeating; every vertex has ≥ 1)."""
    owner = faces.reshape(-1)
    tri = torch.arange(faces.shape[0]).repeat_interleave(3)
    order = torch.argsort(owner, stable=True)
    owner, tri = owner[order], tri[order]
    counts = torch.bincount(owner, minlength=num_vertices)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(width)[None, :] % counts.clamp_min(1)[:, None]
    table = tri[(starts[:, None] + slot).clamp_max(len(tri) - 1)]
    return torch.where(counts[:, None] > 0, table, torch.zeros_like(table))


def closest_points_on_mesh(points: torch.Tensor, vertices: torch.Tensor, faces: torch.Tensor,
                           neighbours: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Anchor triangle [N], barycentrics [N, 3] and distance [N] (metres) of each point [N, 3] on
    the mesh (vertices [V, 3], faces [F, 3]), searching the triangles of its ``neighbours``
    nearest vertices."""
    around = _vertex_triangles(faces, vertices.shape[0])
    out_tri, out_bary, out_dist = [], [], []
    for start in range(0, points.shape[0], _CHUNK):
        chunk = points[start: start + _CHUNK]
        nearest = torch.cdist(chunk, vertices).topk(neighbours, dim=1, largest=False).indices
        candidates = around[nearest].reshape(chunk.shape[0], -1)  # [n, neighbours·8]
        corners = vertices[faces[candidates]]  # [n, c, 3, 3]
        bary = closest_point_on_triangles(chunk[:, None], corners[..., 0, :], corners[..., 1, :], corners[..., 2, :])
        closest = (bary[..., None] * corners).sum(-2)
        dist = (closest - chunk[:, None]).norm(dim=-1)
        best = dist.argmin(1, keepdim=True)
        out_tri.append(candidates.gather(1, best)[:, 0])
        out_bary.append(bary.gather(1, best[..., None].expand(-1, 1, 3))[:, 0])
        out_dist.append(dist.gather(1, best)[:, 0])
    return torch.cat(out_tri), torch.cat(out_bary), torch.cat(out_dist)


def bind_points(points: torch.Tensor, body: BodyModel, rest_vertices: torch.Tensor, k: int = MAX_BONES
                ) -> Binding:
    """Bind ``points`` [N, 3] (rest pose, world metres) to ``body`` whose rest-pose vertices for the
    avatar's shape are ``rest_vertices`` [V, 3]; keeps the top ``k`` (≤ 9) bones per point."""
    points = points.detach().float()
    triangles, barycentric, _ = closest_points_on_mesh(points, rest_vertices.detach().float(), body.faces)
    return bind_to_triangles(triangles, barycentric, body, k)


def bind_to_triangles(triangles: torch.Tensor, barycentric: torch.Tensor, body: BodyModel, k: int = MAX_BONES
                      ) -> Binding:
    """Binding of points given by their triangle [N] and barycentric coordinates [N, 3] on ``body``:
    the barycentric blend of the corners' skin weights, truncated to the top ``k`` bones."""
    if not 1 <= k <= MAX_BONES:
        raise ValueError(f"k must be between 1 and {MAX_BONES} bones per point, got {k}")
    corner_vertices = body.faces[triangles]  # [N, 3]
    count = len(triangles)
    bones = body.skin_indices[corner_vertices].reshape(count, -1)  # [N, 3·kv]
    weights = (body.skin_weights[corner_vertices] * barycentric[..., None]).reshape(count, -1)
    dense = torch.zeros(count, len(body.bone_names))
    dense.scatter_add_(1, bones, weights)
    top_weights, top_bones = dense.topk(k, dim=1)
    top_weights = top_weights / top_weights.sum(1, keepdim=True).clamp_min(1e-12)
    return Binding(triangles, barycentric.float(), top_bones, top_weights, tuple(body.bone_parents))


#: σ of a flat surface disc in point spacings (tangent, bitangent, normal).
DISC = (0.6, 0.6, 0.1)
#: Largest |log-multiplier| of a disc's σ that the network may apply.
MAX_LOG_MULTIPLIER = 3.0


def surface_discs(frames: torch.Tensor, spacing: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
    """Quaternions [N, 4] wxyz and log-σ [N, 3] (metres) of flat discs lying in the surface at points
    with surface ``frames`` [N, 3, 3] that are ``spacing`` metres apart (σ = :data:`DISC` spacings)."""
    log_sigma = (torch.tensor(DISC, device=frames.device) * spacing).log().expand(len(frames), 3)
    return rotmat_to_quat(frames), log_sigma


def reshape_discs(quats: torch.Tensor, log_sigma: torch.Tensor, log_scale: torch.Tensor, rotation: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Discs ``quats`` [N, 4], ``log_sigma`` [N, 3] reshaped by the network: σ times
    e^``log_scale`` [N, 3] (clamped to ±MAX_LOG_MULTIPLIER), turned by ``rotation`` [N, 4] wxyz in the surface frame."""
    return quat_multiply(quats, rotation), log_sigma + log_scale.clamp(-MAX_LOG_MULTIPLIER, MAX_LOG_MULTIPLIER)
