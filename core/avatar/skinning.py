"""Linear blend skinning of Gaussians (the LBS of points is ``core.body.lbs``).

A Gaussian's mean moves with its blended transform ``A``; its rotation becomes ``R' = q R`` with q
the normalised weighted blend of its bones' rotation quaternions, which matches the rotation nearest
A₃ₓ₃ (its polar factor) to within a degree and costs a few gathers; scales are unchanged. Every
function accepts leading batch dimensions on the transforms (frames).
"""

from __future__ import annotations

import torch

from core.avatar.binding import Binding
from core.body.lbs import blend_rows, blend_transforms, bone_quaternions
from core.gaussians import GaussianCloud
from core.rotations import quat_multiply


def skin_gaussian_arrays(cloud: GaussianCloud, binding: Binding, transforms: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Posed means [..., N, 3] and unit quaternions [..., N, 4] (wxyz) for transforms [..., K, 4, 4]."""
    if len(binding) != len(cloud):
        raise ValueError(f"binding has {len(binding)} points but the cloud {len(cloud)} Gaussians")
    transforms = transforms.to(cloud.dtype)
    blended = blend_transforms(binding.bone_indices, binding.bone_weights, transforms)
    x, y, z = (cloud.means[:, i: i + 1] for i in range(3))  # column by column: no [N, 3, 3] temporaries
    means = blended[..., 3] + blended[..., 0] * x + blended[..., 1] * y + blended[..., 2] * z
    blended_quats = blend_rows(binding.bone_indices, binding.bone_weights,
                                bone_quaternions(transforms, binding.bone_parents))
    quats = quat_multiply(blended_quats, cloud.quats)  # |a ⊗ b| = |a|·|b|: one normalisation suffices
    return means, quats / quats.norm(dim=-1, keepdim=True)


def skin_gaussians(cloud: GaussianCloud, binding: Binding, transforms: torch.Tensor) -> GaussianCloud:
    """``cloud`` (rest pose) posed by one set of bone transforms [K, 4, 4]."""
    means, quats = skin_gaussian_arrays(cloud, binding, transforms)
    return GaussianCloud(means, quats, cloud.log_scales, cloud.opacity_logits, cloud.sh)
