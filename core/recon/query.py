"""Query points: where on the body surface the network predicts Gaussians.

A layout is data: a network's weights are tied to its points, so a trained network carries its
``query.npz`` and datasets are made for it (``avatarium synth --query``); :func:`query_points` makes a
new layout only when asked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.body.model import BodyModel, canonical_body
from core.body.surface import sample_surface, surface_parts, surface_points
from core.io.archive import DAMAGED_ARCHIVE
from core.io.atomic import atomic_path
from core.recon.hidden_side import partner_positions


class LayoutError(ValueError):
    """A query-point file or layout that cannot be used; the message says why."""


@dataclass(frozen=True, eq=False)  # identity semantics: tensors do not compare to one bool
class QueryPoints:
    """Points on the body surface where the network predicts Gaussians (same for every subject)."""

    triangles: torch.Tensor  # [P] int64 triangle of the body mesh
    barycentric: torch.Tensor  # [P, 3] float32
    parts: torch.Tensor  # [P] int64 body part (core.body.parts)
    mirror: torch.Tensor  # [P] int64 the query point nearest the left/right mirror image of each
    opposite: torch.Tensor  # [P] int64 the query point nearest the front/back mirror image (its body part's
    #                         mid-plane), e.g. the back of the chest for a point on its front
    anchors: torch.Tensor  # [A] int64 farthest-point subset (the transformer's body tokens)
    neighbours: torch.Tensor  # [P, 3] int64 the three nearest anchors of each point (indices into anchors)
    weights: torch.Tensor  # [P, 3] float32 inverse-distance weights of those anchors (rows sum to 1)

    _KEYS = ("triangles", "barycentric", "parts", "mirror", "opposite", "anchors", "neighbours", "weights")

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as stream:
            np.savez(stream, **{k: getattr(self, k).numpy() for k in self._KEYS})

    @classmethod
    def load(cls, path: Path) -> QueryPoints:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(**{k: torch.from_numpy(data[k].copy()) for k in cls._KEYS})
        except (KeyError, *DAMAGED_ARCHIVE) as exc:
            raise LayoutError(f"{path} is not a query-point file ({exc})") from None


def check_layout(query: QueryPoints, body: BodyModel) -> None:
    """DatasetError unless ``query`` lies on ``body``'s mesh (its triangles exist, barycentrics sum to 1)."""
    if len(query.triangles) == 0 or int(query.triangles.max()) >= len(body.faces) or int(query.triangles.min()) < 0:
        raise LayoutError(f"the query points lie on a mesh of another size than the {body.name} body's "
                           f"({len(body.faces)} triangles); use a layout made for this body")
    if not torch.allclose(query.barycentric.sum(1), torch.ones(len(query.barycentric)), atol=1e-4):
        raise LayoutError("the query points' barycentric coordinates do not sum to 1: not a query-point layout")


def same_layout(a: QueryPoints, b: QueryPoints) -> bool:
    """Whether two query-point layouts are the same points (a network's weights are tied to its layout)."""
    return all(torch.equal(getattr(a, k), getattr(b, k)) for k in ("triangles", "barycentric", "anchors"))


def load_layout(source: str | os.PathLike[str]) -> QueryPoints:
    """The query points of a model or dataset folder (its ``query.npz``) or of a ``query.npz`` file."""
    path = Path(source)
    if path.is_dir():
        path = path / "query.npz"
    if not path.is_file():
        raise LayoutError(f"{source} is neither a query.npz file nor a folder holding one")
    return QueryPoints.load(path)


def farthest_points(points: torch.Tensor, count: int) -> torch.Tensor:
    """Indices [count] of a farthest-point subset of ``points`` [N, 3] (starting from index 0)."""
    chosen = torch.zeros(count, dtype=torch.int64)
    distance = (points - points[0]).square().sum(1)
    for i in range(1, count):
        chosen[i] = torch.argmax(distance)
        distance = torch.minimum(distance, (points - points[chosen[i]]).square().sum(1))
    return chosen


def query_points(body: BodyModel, count: int = 6000, anchors: int = 384, seed: int = 0) -> QueryPoints:
    """``count`` stratified surface points of ``body``'s default T-pose body, their parts, left/right
    and front/back partners and ``anchors`` farthest-point anchors."""
    canonical, _ = canonical_body(body, body.default_shape()[0].numpy())
    _, triangles, barycentric = sample_surface(canonical, body.faces, count, seed=seed, stratified=True)
    positions, _ = surface_points(body, canonical, triangles, barycentric)
    parts = surface_parts(body, triangles, barycentric)

    def nearest(targets: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.cdist(chunk, positions).argmin(1) for chunk in targets.split(1024)])

    mirror = nearest(positions * torch.tensor([-1.0, 1.0, 1.0]))
    opposite = nearest(partner_positions(positions, parts))
    anchor_ids = farthest_points(positions, anchors)
    distance, neighbours = torch.cdist(positions, positions[anchor_ids]).topk(3, dim=1, largest=False)
    inverse = 1.0 / (distance + 1e-3)
    return QueryPoints(triangles, barycentric, parts, mirror, opposite, anchor_ids, neighbours,
                       inverse / inverse.sum(1, True))
