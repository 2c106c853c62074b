"""Rotation conversions. Quaternions are **wxyz** (scalar first), matrices act on column vectors.

All functions accept any leading batch dimensions.
"""

from __future__ import annotations

import torch


def quat_to_rotmat(quats: torch.Tensor) -> torch.Tensor:
    """Rotation matrices [..., 3, 3] from quaternions [..., 4] wxyz (normalised first)."""
    q = quats / quats.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        dim=-1,
    ).reshape(q.shape[:-1] + (3, 3))


def quat_multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a ⊗ b of wxyz quaternions [..., 4] (rotate by b, then by a); broadcasts."""
    a, b = torch.broadcast_tensors(a, b)
    (aw, ax, ay, az), (bw, bx, by, bz) = a.movedim(-1, 0).contiguous(), b.movedim(-1, 0).contiguous()

    def term(p: torch.Tensor, q: torch.Tensor, *rest: tuple[torch.Tensor, torch.Tensor, float]) -> torch.Tensor:
        out = p * q
        for u, v, sign in rest:
            out.addcmul_(u, v, value=sign)  # in place: no temporaries on large batches
        return out

    return torch.stack([
        term(aw, bw, (ax, bx, -1.0), (ay, by, -1.0), (az, bz, -1.0)),
        term(aw, bx, (ax, bw, 1.0), (ay, bz, 1.0), (az, by, -1.0)),
        term(aw, by, (ax, bz, -1.0), (ay, bw, 1.0), (az, bx, 1.0)),
        term(aw, bz, (ax, by, 1.0), (ay, bx, -1.0), (az, bw, 1.0)),
    ], -1)


def rotmat_to_quat(matrices: torch.Tensor) -> torch.Tensor:
    """Unit quaternions [..., 4] wxyz with w ≥ 0 from rotation matrices [..., 3, 3].

    Uses the numerically stable branch (largest of w, x, y, z) per element.
    """
    m = matrices
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    candidates = torch.stack(
        [
            torch.stack([1 + m00 + m11 + m22, m[..., 2, 1] - m[..., 1, 2],
                         m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
            torch.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m00 - m11 - m22,
                         m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
            torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0],
                         1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]], -1),
            torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0],
                         m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22], -1),
        ],
        dim=-2,
    )  # [..., 4 candidates, 4]; candidate i has its largest entry at position i
    best = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22,
                        1 - m00 - m11 + m22], -1).argmax(-1)
    q = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def axis_angle_to_rotmat(rotvecs: torch.Tensor) -> torch.Tensor:
    """Rotation matrices [..., 3, 3] from rotation vectors [..., 3] (axis × angle in radians).

    Differentiable everywhere, including at zero (second-order Taylor terms near 0).
    """
    angle2 = (rotvecs * rotvecs).sum(-1, keepdim=True)[..., None]  # [..., 1, 1]
    small = angle2 < 1e-8
    safe2 = torch.where(small, torch.ones_like(angle2), angle2)
    angle = safe2.sqrt()
    a = torch.where(small, 1 - angle2 / 6, torch.sin(angle) / angle)
    b = torch.where(small, 0.5 - angle2 / 24, (1 - torch.cos(angle)) / safe2)
    x, y, z = rotvecs.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(rotvecs.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=rotvecs.dtype, device=rotvecs.device)
    return eye + a * k + b * (k @ k)


def rotmat_to_axis_angle(matrices: torch.Tensor) -> torch.Tensor:
    """Rotation vectors [..., 3] (angle in [0, π]) from rotation matrices [..., 3, 3]."""
    return quat_to_axis_angle(rotmat_to_quat(matrices))


def rotation_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The smallest rotation [..., 3, 3] taking direction a [..., 3] onto direction b [..., 3]."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    axis = torch.linalg.cross(a, b)
    sin = axis.norm(dim=-1, keepdim=True)
    cos = (a * b).sum(-1, keepdim=True)
    angle = torch.atan2(sin, cos)
    # opposite directions: any axis perpendicular to a
    helper = torch.where(a[..., :1].abs() < 0.9, torch.tensor([1.0, 0, 0], dtype=a.dtype, device=a.device),
                         torch.tensor([0, 1.0, 0], dtype=a.dtype, device=a.device))
    fallback = torch.linalg.cross(a, helper)
    axis = torch.where(sin > 1e-9, axis / sin.clamp_min(1e-12), fallback / fallback.norm(dim=-1, keepdim=True))
    return axis_angle_to_rotmat(axis * angle)


def axis_angle_to_quat(rotvecs: torch.Tensor) -> torch.Tensor:
    """Unit quaternions [..., 4] wxyz from rotation vectors [..., 3]."""
    angle = rotvecs.norm(dim=-1, keepdim=True)
    half = 0.5 * angle
    scale = torch.where(angle > 1e-8, torch.sin(half) / angle.clamp_min(1e-12), 0.5 - angle**2 / 48)
    return torch.cat([torch.cos(half), rotvecs * scale], -1)


def quat_to_axis_angle(quats: torch.Tensor) -> torch.Tensor:
    """Rotation vectors [..., 3] (angle in [0, π]) from quaternions [..., 4] wxyz (any norm)."""
    q = quats / quats.norm(dim=-1, keepdim=True)
    q = torch.where(q[..., :1] < 0, -q, q)
    sin_half = q[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2 * torch.atan2(sin_half, q[..., :1])
    scale = torch.where(sin_half > 1e-12, angle / sin_half.clamp_min(1e-12), 2 / q[..., :1].clamp_min(1e-12))
    return q[..., 1:] * scale


def quat_slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation [..., 4] between unit quaternions a and b (shortest arc), t in [0, 1]."""
    t = torch.as_tensor(t, dtype=a.dtype)
    if t.ndim:
        t = t[..., None]
    dot = (a * b).sum(-1, keepdim=True)
    b = torch.where(dot < 0, -b, b)
    dot = dot.abs().clamp(max=1.0)
    theta = torch.arccos(dot)
    sin = torch.sin(theta)
    linear = sin < 1e-6
    wa = torch.where(linear, 1 - t, torch.sin((1 - t) * theta) / sin.clamp_min(1e-12))
    wb = torch.where(linear, t, torch.sin(t * theta) / sin.clamp_min(1e-12))
    out = wa * a + wb * b
    return out / out.norm(dim=-1, keepdim=True)
