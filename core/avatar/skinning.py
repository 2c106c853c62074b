"""Linear blend skinning of points and Gaussians.

For a point with bones i_k and weights w_k, and per-bone transforms T (posed · rest⁻¹, world):
``A = Σ_k w_k T_{i_k}``, ``x' = A x``. A Gaussian's rotation becomes ``R' = rot(A₃ₓ₃) R`` where
rot() is the rotation nearest the blended matrix (one Newton step of the polar decomposition,
then its quaternion, kept unit); scales are unchanged. Every function accepts leading batch
dimensions on the transforms (frames).
"""

from __future__ import annotations

import torch

from core.avatar.binding import Binding
from core.gaussians import GaussianCloud
from core.rotations import rotmat_to_quat


def blend_transforms(indices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
    """Blended 3x4 transforms [..., N, 3, 4] for indices/weights [N, k] and transforms [..., K, 4, 4]."""
    top = transforms[..., :3, :].reshape(*transforms.shape[:-2], 12)  # [..., K, 12]
    blended = (top[..., indices, :] * weights[..., None].to(top)).sum(-2)  # [..., N, 12]
    return blended.reshape(*blended.shape[:-1], 3, 4)


def skin_points(points: torch.Tensor, indices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor
                ) -> torch.Tensor:
    """Posed points [..., N, 3] from rest points [N, 3], bones/weights [N, k], transforms [..., K, 4, 4]."""
    blended = blend_transforms(indices, weights, transforms)
    return (blended[..., :3] @ points.to(blended)[..., None])[..., 0] + blended[..., 3]


def quat_multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a ⊗ b of wxyz quaternions [..., 4] (rotation b, then a)."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], -1)


def skin_gaussian_arrays(cloud: GaussianCloud, binding: Binding, transforms: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Posed means [..., N, 3] and unit quaternions [..., N, 4] (wxyz) for transforms [..., K, 4, 4]."""
    if len(binding) != len(cloud):
        raise ValueError(f"binding has {len(binding)} points but the cloud {len(cloud)} Gaussians")
    blended = blend_transforms(binding.bone_indices, binding.bone_weights, transforms.to(cloud.dtype))
    means = (blended[..., :3] @ cloud.means[..., None])[..., 0] + blended[..., 3]
    linear = blended[..., :3]
    linear = 0.5 * (linear + torch.linalg.inv(linear).transpose(-1, -2))  # a Newton step towards polar(A)
    rotations = rotmat_to_quat(linear)  # the nearest rotation's quaternion, unit, w ≥ 0
    quats = quat_multiply(rotations, cloud.rotations())
    return means, quats / quats.norm(dim=-1, keepdim=True)


def skin_gaussians(cloud: GaussianCloud, binding: Binding, transforms: torch.Tensor) -> GaussianCloud:
    """``cloud`` (rest pose) posed by one set of bone transforms [K, 4, 4]."""
    means, quats = skin_gaussian_arrays(cloud, binding, transforms)
    return GaussianCloud(means, quats, cloud.log_scales, cloud.opacity_logits, cloud.sh)
