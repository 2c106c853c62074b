"""Posed keypoints straight from bone transforms, for one body shape.

A keypoint is a weighted sum of mesh vertices (:meth:`BodyModel.keypoint_regressor`) and each vertex
is skinned linearly, ``v = Σ_b s_b T_b [v_rest; 1]``, so a keypoint is ``Σ_b T_b m_b`` with the
homogeneous 4-vector ``m_b = Σ_i w_i s_ib [v_rest,i; 1]`` summed once per shape. Posing a frame then
costs the skeleton's forward kinematics and 23 small sums instead of skinning the 1,400 vertices the
regressor reads: a video's hundreds of frames fit in one batch.
"""

from __future__ import annotations

import torch

from core.body.model import BodyModel


class KeypointSkin:
    """COCO-23 keypoints of ``body`` with shape ``shape`` [1, S] as a linear function of bone transforms."""

    def __init__(self, body: BodyModel, shape: torch.Tensor) -> None:
        indices, weights = body.keypoint_regressor()  # [23, k]
        with torch.no_grad():
            rest = body.rest(shape).vertices[0].double()  # [V, 3] the model's rest pose
        homogeneous = torch.cat([rest, torch.ones(len(rest), 1, dtype=rest.dtype)], 1)  # [V, 4]
        bones = len(body.bone_names)
        blend = torch.zeros(indices.shape[0], bones, 4, dtype=torch.float64)
        skin_indices, skin_weights = body.skin_indices[indices], body.skin_weights[indices].double()  # [23, k, s]
        contribution = (weights.double()[..., None] * skin_weights)[..., None] * homogeneous[indices][:, :, None, :]
        for n in range(indices.shape[0]):
            blend[n].index_add_(0, skin_indices[n].reshape(-1), contribution[n].reshape(-1, 4))
        self.blend = blend.float()  # [23, K, 4]

    def keypoints(self, transforms: torch.Tensor) -> torch.Tensor:
        """Posed keypoints [..., 23, 3] (world metres) of skinning ``transforms`` [..., K, 4, 4]."""
        return torch.einsum("...kij,nkj->...ni", transforms[..., :3, :], self.blend)
