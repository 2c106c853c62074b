"""EWA projection of 3D Gaussians to the image plane, with gsplat's maths (perspective, classic).

Σ₂ = J W Σ Wᵀ Jᵀ + eps2d·I (pixels², eps2d = 0.3 as gsplat), J the perspective Jacobian at the
camera-space mean with the mean's x/z and y/z clamped to 1.3× the field of view (as gsplat), pixel
centres at (i + 0.5, j + 0.5). A Gaussian is kept when its depth lies in [near, far], its opacity
reaches 1/255, Σ₂ is positive definite and its extent rectangle touches the image. Its extent (as
gsplat ≥ 1.4) is ``ceil(e · sqrt(Σ₂ diagonal))`` per axis with ``e = min(3.33, sqrt(2 ln(255 o)))``,
the box around the ellipse where alpha ≥ 1/255. Differentiable (autograd) except the radii.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

ALPHA_THRESHOLD = 1.0 / 255.0
EPS_2D = 0.3


@dataclass(frozen=True)
class Projected:
    """Per camera C and Gaussian N."""

    means2d: torch.Tensor  # [C, N, 2] pixels
    conics: torch.Tensor  # [C, N, 3] inverse of Σ₂: (a, b, c) for [[a, b], [b, c]]
    depths: torch.Tensor  # [C, N] camera-space z, metres
    radii: torch.Tensor  # [C, N, 2] int32 half-extent in pixels, 0 where culled


def project(means: torch.Tensor, covars: torch.Tensor, opacities: torch.Tensor, viewmats: torch.Tensor,
            Ks: torch.Tensor, width: int, height: int, near: float = 0.01, far: float = 1e10,
            eps2d: float = EPS_2D) -> Projected:
    """Project means [N, 3] / world covariances [N, 3, 3] / opacities [N] into C cameras
    (viewmats [C, 4, 4] world-to-camera, OpenCV axes; Ks [C, 3, 3] pixels)."""
    # Elementwise on contiguous [C, N] fields: tiny batched matrix products are slow on the CPU.
    rotation = viewmats[:, :3, :3]  # [C, 3, 3]
    x, y, z = (torch.matmul(rotation, means.T) + viewmats[:, :3, 3:]).unbind(1)  # camera space, [C, N] each
    fx, fy = Ks[:, 0, 0, None], Ks[:, 1, 1, None]
    cx, cy = Ks[:, 0, 2, None], Ks[:, 1, 2, None]
    tan_x, tan_y = 0.5 * width / fx, 0.5 * height / fy
    safe_z = torch.where(z.abs() > 1e-12, z, torch.full_like(z, 1e-12))
    tx = safe_z * torch.minimum(torch.maximum(x / safe_z, -(cx / fx + 0.3 * tan_x)), (width - cx) / fx + 0.3 * tan_x)
    ty = safe_z * torch.minimum(torch.maximum(y / safe_z, -(cy / fy + 0.3 * tan_y)), (height - cy) / fy + 0.3 * tan_y)
    rz = 1.0 / safe_z
    # Rows of T = J W (world offsets → pixels), J the perspective Jacobian at the clamped mean.
    jx, jxz = fx * rz, fx * tx * rz * rz
    jy, jyz = fy * rz, fy * ty * rz * rz
    t0 = [jx * rotation[:, 0, k, None] - jxz * rotation[:, 2, k, None] for k in range(3)]
    t1 = [jy * rotation[:, 1, k, None] - jyz * rotation[:, 2, k, None] for k in range(3)]
    sigma = [[covars[:, i, j] for j in range(3)] for i in range(3)]
    t0_sigma = [t0[0] * sigma[0][k] + t0[1] * sigma[1][k] + t0[2] * sigma[2][k] for k in range(3)]  # T₀ Σ
    t1_sigma = [t1[0] * sigma[0][k] + t1[1] * sigma[1][k] + t1[2] * sigma[2][k] for k in range(3)]
    a = t0_sigma[0] * t0[0] + t0_sigma[1] * t0[1] + t0_sigma[2] * t0[2] + eps2d
    b = t0_sigma[0] * t1[0] + t0_sigma[1] * t1[1] + t0_sigma[2] * t1[2]
    c = t1_sigma[0] * t1[0] + t1_sigma[1] * t1[1] + t1_sigma[2] * t1[2] + eps2d
    det = a * c - b * b
    safe_det = torch.where(det > 0, det, torch.ones_like(det))
    conics = torch.stack([c / safe_det, -b / safe_det, a / safe_det], -1)
    means2d = torch.stack([fx * x * rz + cx, fy * y * rz + cy], -1)

    with torch.no_grad():
        o = opacities.detach().expand_as(z)
        extend = torch.sqrt(2.0 * torch.log(o.clamp_min(ALPHA_THRESHOLD) / ALPHA_THRESHOLD)).clamp_max(3.33)
        radius = torch.stack([torch.ceil(extend * a.detach().clamp_min(0).sqrt()),
                              torch.ceil(extend * c.detach().clamp_min(0).sqrt())], -1)
        m = means2d.detach()
        inside = ((m[..., 0] + radius[..., 0] > 0) & (m[..., 0] - radius[..., 0] < width)
                  & (m[..., 1] + radius[..., 1] > 0) & (m[..., 1] - radius[..., 1] < height))
        valid = (z >= near) & (z <= far) & (det > 0) & (o >= ALPHA_THRESHOLD) & inside & (radius > 0).all(-1)
        radii = torch.where(valid[..., None], radius, torch.zeros_like(radius)).to(torch.int32)
    return Projected(means2d, conics, z, radii)

