"""The body-model interface every downstream stage uses (fitting, binding, skinning, export).

World frame: right-handed, metres, Y up, the person faces +Z. Poses use the 55-joint SMPL-X
vocabulary of :mod:`core.body.joints` (zero pose = T-pose). Each backend skins its mesh with its
own bones; ``transforms`` map rest-pose points (the model's own rest pose, e.g. anny's A-pose) to
posed points: ``x_posed = Σ_k w_k T_k x_rest``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import torch

from core.body.joints import zero_pose


@dataclass(frozen=True)
class ShapeParameter:
    """One shape control: name, slider range and default (unitless unless the name says)."""

    name: str
    minimum: float
    maximum: float
    default: float
    description: str = ""


@dataclass(frozen=True)
class BodyOutput:
    """Result of :meth:`BodyModel.forward` (B = batch)."""

    vertices: torch.Tensor  # [B, V, 3] posed vertices, world metres
    joints: torch.Tensor  # [B, 55, 3] posed positions of the SMPL-X vocabulary joints
    transforms: torch.Tensor  # [B, K, 4, 4] per-bone skinning transforms (posed · rest⁻¹)


@dataclass(frozen=True)
class RestBody:
    """A body of a given shape in the model's rest pose (B = batch)."""

    vertices: torch.Tensor  # [B, V, 3] world metres
    joints: torch.Tensor  # [B, 55, 3] vocabulary joint positions in the rest pose


def sparse_rows(dense: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``count`` largest entries of each row of ``dense`` [R, V] as (indices [R, count], weights
    [R, count]) with rows renormalised to sum 1; padding entries (weight 0) repeat the row's first
    index, so the set of indices used stays small."""
    weights, indices = dense.float().topk(min(count, dense.shape[1]), dim=1)
    weights = weights.clamp_min(0.0)
    indices = torch.where(weights > 0, indices, indices[:, :1])
    return indices, weights / weights.sum(1, keepdim=True)


class BodyModel(abc.ABC):
    """A skinned parametric body; subclasses fill the attributes in ``__init__``.

    Attributes:
        name: backend id ("anny", "smplx").
        bone_names / bone_parents: the skinning skeleton (K bones; parent -1 for the root).
        joint_bones: vocabulary joint name → the bone whose head is that joint (joints without a bone of
            their own, e.g. anny's jaw, are absent).
        shape_parameters: the shape controls, in the order ``shape`` tensors use.
        faces: [F, 3] int64 triangle vertex indices.
        uvs / uv_faces: [T, 2] texture coordinates and [F, 3] indices into them, or None.
        skin_indices / skin_weights: [V, k] top-k bones per vertex and weights (rows sum to 1).
    """

    name: str
    bone_names: tuple[str, ...]
    bone_parents: tuple[int, ...]
    joint_bones: dict[str, str]
    shape_parameters: tuple[ShapeParameter, ...]
    faces: torch.Tensor
    uvs: torch.Tensor | None
    uv_faces: torch.Tensor | None
    skin_indices: torch.Tensor
    skin_weights: torch.Tensor

    @property
    def num_vertices(self) -> int:
        return self.skin_indices.shape[0]

    def default_shape(self, batch: int = 1) -> torch.Tensor:
        """Default shape parameters [batch, S]."""
        return torch.tensor([[p.default for p in self.shape_parameters]] * batch)

    def check_shape(self, shape: torch.Tensor) -> torch.Tensor:
        """``shape`` as [B, S] float32, or ValueError naming the expected parameters."""
        shape = torch.as_tensor(shape, dtype=torch.float32)
        if shape.ndim == 1:
            shape = shape[None]
        if shape.ndim != 2 or shape.shape[1] != len(self.shape_parameters):
            names = ", ".join(p.name for p in self.shape_parameters)
            raise ValueError(f"{self.name} shape must be [B, {len(self.shape_parameters)}] ({names}), "
                             f"got {tuple(shape.shape)}")
        return shape

    @abc.abstractmethod
    def rest(self, shape: torch.Tensor) -> RestBody:
        """The body of ``shape`` [B, S] in the model's rest pose."""

    @abc.abstractmethod
    def shape_state(self, shape: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything posing needs that depends on ``shape`` [B, S] only (rest vertices, rest bones…),
        as float tensors [B, …]; differentiable in ``shape``. Fitting linearises it in the shape (one
        batch of the shape and its neighbours)."""

    @abc.abstractmethod
    def posed(self, state: dict[str, torch.Tensor], pose: torch.Tensor, root: torch.Tensor | None = None,
              vertex_ids: torch.Tensor | None = None) -> BodyOutput:
        """Pose a :meth:`shape_state`: pose [B, 55, 3] rotation vectors, root [B, 3] translation of
        the pelvis relative to its rest position (metres; None = 0). Differentiable.
        ``vertex_ids`` [n] skins only those vertices (``vertices`` is then [B, n, 3]): fitting needs a
        few thousand of them and the full mesh would dominate its time."""

    def forward(self, shape: torch.Tensor, pose: torch.Tensor, root: torch.Tensor | None = None,
                vertex_ids: torch.Tensor | None = None) -> BodyOutput:
        """:meth:`posed` of the :meth:`shape_state` of ``shape`` [1, S]."""
        return self.posed(self.shape_state(shape), pose, root, vertex_ids)

    def bone_transforms(self, shape: torch.Tensor, poses: torch.Tensor, roots: torch.Tensor, batch: int = 64
                        ) -> torch.Tensor:
        """Skinning transforms [T, K, 4, 4] of many poses [T, 55, 3] with pelvis translations [T, 3] (a
        motion's frames), ``batch`` frames at a time and without posing the mesh (one vertex only)."""
        one_vertex = torch.zeros(1, dtype=torch.int64)
        with torch.no_grad():
            return torch.cat([self.forward(shape, poses[i: i + batch].float(), roots[i: i + batch].float(),
                                           vertex_ids=one_vertex).transforms for i in range(0, len(poses), batch)])

    @abc.abstractmethod
    def rest_bones(self, shape: torch.Tensor) -> torch.Tensor:
        """World transforms [K, 4, 4] of the skinning bones in the rest pose of ``shape`` [1, S] (the
        bind pose of exported rigs): rotation = the bone's frame, translation = its head, metres."""

    @abc.abstractmethod
    def keypoint_regressor(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(indices [23, k] int64, weights [23, k]) over the vertices: the COCO-23 keypoints of
        :data:`core.body.joints.KEYPOINT_NAMES` are ``Σ_k weights · vertices[indices]`` (weights sum to 1)."""

    def keypoints(self, vertices: torch.Tensor) -> torch.Tensor:
        """COCO-23 keypoints [..., 23, 3] of posed ``vertices`` [..., V, 3] (all of the mesh's)."""
        indices, weights = self.keypoint_regressor()
        return (vertices[..., indices, :] * weights.to(vertices)[..., None]).sum(-2)


def canonical_body(body: BodyModel, shape) -> tuple[torch.Tensor, torch.Tensor]:
    """T-pose (zero pose) vertices [V, 3] and joints [55, 3] of ``shape`` [S]: the canonical space."""
    with torch.no_grad():
        out = body.forward(torch.as_tensor(shape, dtype=torch.float32)[None], zero_pose(1))
    return out.vertices[0], out.joints[0]
