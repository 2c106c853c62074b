"""``Avatar``: Gaussians bound to a body, posable by linear blend skinning.

The Gaussians live in the body model's own rest pose (anny: its A-pose), where ``binding`` attaches
each to a triangle and blends the triangle's skin weights; ``posed`` moves them with the body's
bone transforms (:mod:`core.avatar.skinning`). ``canonical`` is the zero (T-) pose that 3DGS files
of the avatar use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.avatar.binding import Binding
from core.avatar.skinning import skin_gaussians
from core.body.joints import zero_pose
from core.body.model import BodyModel
from core.gaussians import GaussianCloud


@dataclass
class Avatar:
    """Rest-pose Gaussians, their binding and the body they are bound to."""

    cloud: GaussianCloud  # in the body model's rest pose, world metres
    binding: Binding
    body_model: str  # "anny" or "smplx"
    shape: np.ndarray  # [S] the body's shape parameters

    def posed(self, body: BodyModel, pose: torch.Tensor, root: torch.Tensor | None = None) -> GaussianCloud:
        """The Gaussians in ``pose`` [55, 3] with pelvis translation ``root`` [3] (world metres)."""
        if body.name != self.body_model:
            raise ValueError(f"this avatar is bound to the {self.body_model} body, not {body.name}")
        with torch.no_grad():
            out = body.forward(torch.tensor(self.shape)[None], torch.as_tensor(pose, dtype=torch.float32)[None],
                               None if root is None else torch.as_tensor(root, dtype=torch.float32)[None])
        return skin_gaussians(self.cloud, self.binding, out.transforms[0])

    def reshaped(self, body: BodyModel, shape: np.ndarray) -> Avatar:
        """The avatar on a body of another ``shape`` [S]: each Gaussian moves with its anchor point on
        the rest mesh (the barycentric blend of its triangle's vertex displacement); sizes, colours
        and skin weights are kept."""
        if body.name != self.body_model:
            raise ValueError(f"this avatar is bound to the {self.body_model} body, not {body.name}")
        shape = np.asarray(shape, dtype=np.float32).reshape(-1)
        with torch.no_grad():
            before = body.rest(torch.tensor(self.shape)[None]).vertices[0]
            after = body.rest(torch.tensor(shape)[None]).vertices[0]
            corners = body.faces[self.binding.triangles]  # [N, 3] vertex ids
            shift = ((after - before)[corners] * self.binding.barycentric[..., None]).sum(1)
        cloud = self.cloud
        moved = GaussianCloud(cloud.means + shift.to(cloud.means), cloud.quats, cloud.log_scales,
                              cloud.opacity_logits, cloud.sh)
        return Avatar(moved, self.binding, self.body_model, shape)

    def canonical(self, body: BodyModel) -> GaussianCloud:
        """The Gaussians in the zero (T-) pose."""
        return self.posed(body, zero_pose())
