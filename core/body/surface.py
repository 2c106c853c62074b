"""Geometry on the body's mesh: areas, triangle frames, points given by triangle and barycentric
coordinates, their body parts, area-uniform samples and vertex normals. Metres; triangles wound
counter-clockwise seen from outside."""

from __future__ import annotations

import numpy as np
import torch

from core.body.model import BodyModel
from core.body.parts import vertex_parts


def mesh_area(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Total area (m²) of the mesh ``vertices`` [V, 3], ``faces`` [F, 3]."""
    corners = vertices[faces]
    return torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]).norm(dim=1).sum() / 2


def triangle_frames(corners: torch.Tensor) -> torch.Tensor:
    """Orthonormal frames [N, 3, 3] of triangles ``corners`` [N, 3, 3]: columns are the first edge's
    direction, the in-plane perpendicular and the normal (by the winding's right-hand rule)."""
    edge = corners[:, 1] - corners[:, 0]
    normal = torch.linalg.cross(edge, corners[:, 2] - corners[:, 0])
    normal = normal / normal.norm(dim=1, keepdim=True).clamp_min(1e-12)
    tangent = edge / edge.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return torch.stack([tangent, torch.linalg.cross(normal, tangent), normal], dim=2)


def surface_points(body: BodyModel, vertices: torch.Tensor, triangles: torch.Tensor, barycentric: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions [N, 3] and rotation frames [N, 3, 3] (third column: the outward normal) of points
    given by triangle [N] and barycentric [N, 3] on the mesh ``vertices`` [V, 3] of ``body``."""
    corners = vertices[body.faces[triangles]]
    return (barycentric[..., None] * corners).sum(1), triangle_frames(corners)


def surface_parts(body: BodyModel, triangles: torch.Tensor, barycentric: torch.Tensor) -> torch.Tensor:
    """Body part [N] (:mod:`core.body.parts`) of points given by triangle [N] and barycentric [N, 3]:
    their nearest corner's."""
    return vertex_parts(body)[body.faces[triangles, barycentric.argmax(1)]]


def sample_surface(vertices: torch.Tensor, faces: torch.Tensor, count: int, seed: int = 0, stratified: bool = False
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``count`` points spread uniformly by area on the mesh: positions [N, 3], triangles [N],
    barycentric coordinates [N, 3]; deterministic for a given seed. ``stratified`` gives every
    triangle its share of points up to one (systematic sampling along the cumulative area) instead
    of independent draws, which leaves no clusters and gaps: splat renders close without holes."""
    g = torch.Generator().manual_seed(seed)
    corners = vertices[faces]
    wide = corners.double()  # float64 areas: last-bit differences of the vertices between machines move fewer samples
    areas = torch.linalg.cross(wide[:, 1] - wide[:, 0], wide[:, 2] - wide[:, 0]).norm(dim=1)
    if stratified:
        cumulative = torch.cumsum(areas, 0)
        positions = (torch.arange(count, dtype=torch.float64) + torch.rand(1, generator=g, dtype=torch.float64)) \
            * (cumulative[-1] / count)
        triangles = torch.searchsorted(cumulative, positions).clamp_max(len(faces) - 1)
    else:
        triangles = torch.multinomial(areas, count, replacement=True, generator=g)
    u, v = torch.rand(count, generator=g), torch.rand(count, generator=g)
    flip = u + v > 1
    u, v = torch.where(flip, 1 - u, u), torch.where(flip, 1 - v, v)
    barycentric = torch.stack([1 - u - v, u, v], 1)
    return (barycentric[..., None] * corners[triangles]).sum(1), triangles, barycentric


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit normals [V, 3] of a mesh (``vertices`` [V, 3], ``faces`` [F, 3] wound counter-clockwise
    seen from outside): the area-weighted mean of the adjacent faces' normals."""
    vertices = np.asarray(vertices, dtype=np.float64)
    corners = vertices[faces]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(length, 1e-12)).astype(np.float32)


#: Surface neighbours over which the spread of points lifted off the body is measured.
SPREAD_NEIGHBOURS = 6
#: Most that standing off the body may widen a point's spacing (a coat 8 cm off a 4 cm forearm).
MAX_SPREAD = 3.0


def surface_neighbours(points: torch.Tensor, k: int = SPREAD_NEIGHBOURS) -> torch.Tensor:
    """Indices [..., N, k] of each of ``points`` [..., N, 3]' ``k`` nearest others (itself excluded).
    A k-d tree per point set: fine for any N (the avatar's 40k Gaussians, a photo's 60k splats)."""
    from scipy.spatial import cKDTree

    flat = points.detach().double().cpu().numpy().reshape(-1, *points.shape[-2:])
    found = [cKDTree(p).query(p, k=k + 1)[1][:, 1:] for p in flat]
    return torch.from_numpy(np.stack(found).reshape(*points.shape[:-1], k)).to(points.device)


def lift_spread(surface: torch.Tensor, lifted: torch.Tensor, neighbours: torch.Tensor | None = None
                ) -> torch.Tensor:
    """How far lifting points off the body (``surface`` [..., N, 3] → ``lifted`` [..., N, 3], same frame)
    spread them from their surface ``neighbours`` [..., N, K] (indices; default
    :func:`surface_neighbours` of ``surface``): the mean distance to them after over before, per point
    [..., N], 1 to :data:`MAX_SPREAD`. A coat around a thin arm is a wider tube than the arm with as
    many points, so they stand farther apart."""
    neighbours = surface_neighbours(surface) if neighbours is None else neighbours

    def mean_distance(points: torch.Tensor) -> torch.Tensor:
        index = neighbours.reshape(*neighbours.shape[:-2], -1, 1).expand(*neighbours.shape[:-2], -1, 3)
        near = torch.gather(points, -2, index).reshape(*neighbours.shape, 3)
        return (near - points[..., None, :]).norm(dim=-1).mean(-1)

    with torch.no_grad():
        surface, lifted = surface.double(), lifted.double()
        return (mean_distance(lifted) / mean_distance(surface).clamp_min(1e-9)).clamp(1.0, MAX_SPREAD).float()
