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


class BodyModel(abc.ABC):
    """A skinned parametric body; subclasses fill the attributes in ``__init__``.

    Attributes:
        name: backend id ("anny", "smplx").
        bone_names / bone_parents: the skinning skeleton (K bones; parent -1 for the root).
        shape_parameters: the shape controls, in the order ``shape`` tensors use.
        faces: [F, 3] int64 triangle vertex indices.
        uvs / uv_faces: [T, 2] texture coordinates and [F, 3] indices into them, or None.
        skin_indices / skin_weights: [V, k] top-k bones per vertex and weights (rows sum to 1).
    """

    name: str
    bone_names: tuple[str, ...]
    bone_parents: tuple[int, ...]
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
    def forward(self, shape: torch.Tensor, pose: torch.Tensor, root: torch.Tensor | None = None) -> BodyOutput:
        """Pose the body: shape [B, S], pose [B, 55, 3] rotation vectors, root [B, 3] translation
        of the pelvis relative to its rest position (metres; None = 0). Differentiable."""
