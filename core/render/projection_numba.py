"""EWA projection compiled by Numba, fused with the covariance (like gsplat's ``fully_fused_projection``),
with a hand-written backward. ``projection.project`` (autograd) is its pure-PyTorch reference.

The maths of ``projection``: Σ = R S Sᵀ Rᵀ from quaternions (wxyz, normalised here) and standard
deviations; camera-space mean p = W m + t; Σ₂ = T Σ Tᵀ + eps2d·I with T = J W, J the perspective
Jacobian at the mean with x/z and y/z clamped to 1.3× the field of view; conic = Σ₂⁻¹; extent
``ceil(e·sqrt(Σ₂ diagonal))`` with ``e = min(3.33, sqrt(2 ln(255 o)))``; culling as ``project``.
Gradients reach means, quaternions and scales (not the cameras, not opacity: opacity only culls).
Arithmetic is float64 whatever the input dtype.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from core.render.projection import ALPHA_THRESHOLD, Projected
from core.render.threads import run_split


@njit(nogil=True, cache=True)
def _rotation(q: np.ndarray, r: np.ndarray) -> None:
    """Write into r [3, 3] the rotation matrix of a unit quaternion q [4] (wxyz)."""
    w, x, y, z = q[0], q[1], q[2], q[3]
    r[0, 0], r[0, 1], r[0, 2] = 1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)
    r[1, 0], r[1, 1], r[1, 2] = 2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)
    r[2, 0], r[2, 1], r[2, 2] = 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)


@njit(nogil=True, cache=True)
def _camera_terms(view: np.ndarray, k: np.ndarray, width: int, height: int, mean: np.ndarray
                  ) -> tuple[float, float, float, float, float, float, bool, bool, float, float]:
    """Camera-space x, y, z, z kept off 0, the clamped tx, ty, whether each was clamped, and x/z, y/z
    after clamping."""
    x = view[0, 0] * mean[0] + view[0, 1] * mean[1] + view[0, 2] * mean[2] + view[0, 3]
    y = view[1, 0] * mean[0] + view[1, 1] * mean[1] + view[1, 2] * mean[2] + view[1, 3]
    z = view[2, 0] * mean[0] + view[2, 1] * mean[1] + view[2, 2] * mean[2] + view[2, 3]
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    safe_z = z if abs(z) > 1e-12 else 1e-12
    lim_x_neg, lim_x_pos = -(cx / fx + 0.3 * 0.5 * width / fx), (width - cx) / fx + 0.3 * 0.5 * width / fx
    lim_y_neg, lim_y_pos = -(cy / fy + 0.3 * 0.5 * height / fy), (height - cy) / fy + 0.3 * 0.5 * height / fy
    ratio_x, ratio_y = x / safe_z, y / safe_z
    bound_x = min(max(ratio_x, lim_x_neg), lim_x_pos)
    bound_y = min(max(ratio_y, lim_y_neg), lim_y_pos)
    return x, y, z, safe_z, safe_z * bound_x, safe_z * bound_y, bound_x != ratio_x, bound_y != ratio_y, bound_x, bound_y


@njit(nogil=True, cache=True)
def _jacobian_rows(view: np.ndarray, k: np.ndarray, z: float, tx: float, ty: float, t0: np.ndarray,
                   t1: np.ndarray) -> None:
    """Write into t0, t1 [3] the rows of T = J W."""
    rz = 1.0 / z
    jx, jxz = k[0, 0] * rz, k[0, 0] * tx * rz * rz
    jy, jyz = k[1, 1] * rz, k[1, 1] * ty * rz * rz
    for i in range(3):
        t0[i] = jx * view[0, i] - jxz * view[2, i]
        t1[i] = jy * view[1, i] - jyz * view[2, i]


@njit(nogil=True, cache=True)
def _cov2d(t0: np.ndarray, t1: np.ndarray, sigma: np.ndarray, eps2d: float) -> tuple[float, float, float]:
    """Σ₂ = T Σ Tᵀ + eps2d·I as (a, b, c) for [[a, b], [b, c]], T's rows t0, t1 [3], Σ [3, 3]."""
    a, b, c = eps2d, 0.0, eps2d
    for i in range(3):
        for j in range(3):
            a += t0[i] * sigma[i, j] * t0[j]
            b += t0[i] * sigma[i, j] * t1[j]
            c += t1[i] * sigma[i, j] * t1[j]
    return a, b, c


@njit(nogil=True, cache=True)
def _covariance(quat: np.ndarray, scale: np.ndarray, q: np.ndarray, rot: np.ndarray, m: np.ndarray,
                sigma: np.ndarray) -> float:
    """Write the unit quaternion q [4], its rotation rot [3, 3], m = rot·diag(scale) and Σ = m mᵀ; return |quat|."""
    norm = math.sqrt(quat[0] ** 2 + quat[1] ** 2 + quat[2] ** 2 + quat[3] ** 2)
    for i in range(4):
        q[i] = quat[i] / norm
    _rotation(q, rot)
    for i in range(3):
        for j in range(3):
            m[i, j] = rot[i, j] * scale[j]
    for i in range(3):
        for j in range(3):
            sigma[i, j] = m[i, 0] * m[j, 0] + m[i, 1] * m[j, 1] + m[i, 2] * m[j, 2]
    return norm


@njit(nogil=True, cache=True)
def _forward(items: np.ndarray, means: np.ndarray, quats: np.ndarray, scales: np.ndarray, opacities: np.ndarray,
             views: np.ndarray, ks: np.ndarray, width: int, height: int, near: float, far: float, eps2d: float,
             means2d: np.ndarray, conics: np.ndarray, depths: np.ndarray, radii: np.ndarray) -> None:
    """Fill means2d [C, N, 2], conics [C, N, 3], depths [C, N], radii [C, N, 2] (int32) of Gaussians ``items``."""
    q, rot, m, sigma = np.empty(4), np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3))
    t0, t1 = np.empty(3), np.empty(3)
    for n in items:
        _covariance(quats[n], scales[n], q, rot, m, sigma)
        for c in range(views.shape[0]):
            view, k = views[c], ks[c]
            x, y, raw_z, z, tx, ty, _, _, _, _ = _camera_terms(view, k, width, height, means[n])
            _jacobian_rows(view, k, z, tx, ty, t0, t1)
            a, b, cc = _cov2d(t0, t1, sigma, eps2d)
            det = a * cc - b * b
            safe_det = det if det > 0 else 1.0
            conics[c, n, 0], conics[c, n, 1], conics[c, n, 2] = cc / safe_det, -b / safe_det, a / safe_det
            u, v = k[0, 0] * x / z + k[0, 2], k[1, 1] * y / z + k[1, 2]
            means2d[c, n, 0], means2d[c, n, 1] = u, v
            depths[c, n] = raw_z
            o = opacities[n]
            extend = min(3.33, math.sqrt(2.0 * math.log(max(o, ALPHA_THRESHOLD) / ALPHA_THRESHOLD)))
            rx, ry = math.ceil(extend * math.sqrt(max(a, 0.0))), math.ceil(extend * math.sqrt(max(cc, 0.0)))
            inside = u + rx > 0 and u - rx < width and v + ry > 0 and v - ry < height
            valid = near <= raw_z <= far and det > 0 and o >= ALPHA_THRESHOLD and inside and rx > 0 and ry > 0
            radii[c, n, 0], radii[c, n, 1] = (rx, ry) if valid else (0, 0)


@njit(nogil=True, cache=True)
def _backward(items: np.ndarray, means: np.ndarray, quats: np.ndarray, scales: np.ndarray, views: np.ndarray,
              ks: np.ndarray, width: int, height: int, eps2d: float, grad_means2d: np.ndarray, grad_conics: np.ndarray,
              grad_depths: np.ndarray, grad_means: np.ndarray, grad_quats: np.ndarray, grad_scales: np.ndarray) -> None:
    """Fill grad_means [N, 3], grad_quats [N, 4], grad_scales [N, 3] of Gaussians ``items`` from the outputs'
    gradients (grad_means2d [C, N, 2], grad_conics [C, N, 3], grad_depths [C, N])."""
    q, rot, m, sigma = np.empty(4), np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3))
    t0, t1 = np.empty(3), np.empty(3)
    g_sigma, g_m, g_rot, g_q = np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3)), np.empty(4)
    g_t0, g_t1, g_mean = np.empty(3), np.empty(3), np.empty(3)
    for n in items:
        norm = _covariance(quats[n], scales[n], q, rot, m, sigma)
        g_sigma[:] = 0.0
        g_mean[:] = 0.0
        for c in range(views.shape[0]):
            view, k = views[c], ks[c]
            fx, fy = k[0, 0], k[1, 1]
            x, y, _, z, tx, ty, clamped_x, clamped_y, bound_x, bound_y = _camera_terms(view, k, width, height, means[n])
            rz = 1.0 / z
            _jacobian_rows(view, k, z, tx, ty, t0, t1)
            a, b, cc = _cov2d(t0, t1, sigma, eps2d)
            # conic (A, B, C) = (c, -b, a) / det → cov2d (a, b, c); det = ac − b² (held at 1 where ≤ 0)
            g_ca, g_cb, g_cc = grad_conics[c, n, 0], grad_conics[c, n, 1], grad_conics[c, n, 2]
            det = a * cc - b * b
            if det > 0:
                i2 = 1.0 / (det * det)
                g_a = (g_ca * -cc * cc + g_cb * b * cc + g_cc * (det - a * cc)) * i2
                g_b = (g_ca * 2 * b * cc + g_cb * (-det - 2 * b * b) + g_cc * 2 * a * b) * i2
                g_c = (g_ca * (det - cc * a) + g_cb * b * a + g_cc * -a * a) * i2
            else:
                g_a, g_b, g_c = g_cc, -g_cb, g_ca
            # cov2d = T Σ Tᵀ: a = t0 Σ t0ᵀ, b = t0 Σ t1ᵀ, c = t1 Σ t1ᵀ
            g_t0[:] = 0.0
            g_t1[:] = 0.0
            for i in range(3):
                for j in range(3):
                    g_sigma[i, j] += g_a * t0[i] * t0[j] + g_b * t0[i] * t1[j] + g_c * t1[i] * t1[j]
                    g_t0[i] += 2 * g_a * sigma[i, j] * t0[j] + g_b * sigma[i, j] * t1[j]
                    g_t1[i] += g_b * sigma[i, j] * t0[j] + 2 * g_c * sigma[i, j] * t1[j]
            # t0 = jx W₀ − jxz W₂, t1 = jy W₁ − jyz W₂ with jx = fx/z, jxz = fx tx/z², jy = fy/z, jyz = fy ty/z²
            g_jx = g_t0[0] * view[0, 0] + g_t0[1] * view[0, 1] + g_t0[2] * view[0, 2]
            g_jxz = -(g_t0[0] * view[2, 0] + g_t0[1] * view[2, 1] + g_t0[2] * view[2, 2])
            g_jy = g_t1[0] * view[1, 0] + g_t1[1] * view[1, 1] + g_t1[2] * view[1, 2]
            g_jyz = -(g_t1[0] * view[2, 0] + g_t1[1] * view[2, 1] + g_t1[2] * view[2, 2])
            g_rz = g_jx * fx + g_jxz * fx * tx * 2 * rz + g_jy * fy + g_jyz * fy * ty * 2 * rz
            g_tx, g_ty = g_jxz * fx * rz * rz, g_jyz * fy * rz * rz
            # means2d = (fx x/z + cx, fy y/z + cy)
            g_u, g_v = grad_means2d[c, n, 0], grad_means2d[c, n, 1]
            g_x, g_y = g_u * fx * rz, g_v * fy * rz
            g_rz += g_u * fx * x + g_v * fy * y
            g_z = grad_depths[c, n] - g_rz * rz * rz
            # tx = z · clamp(x/z): x itself where not clamped, z times the bound where clamped
            if clamped_x:
                g_z += g_tx * bound_x
            else:
                g_x += g_tx
            if clamped_y:
                g_z += g_ty * bound_y
            else:
                g_y += g_ty
            for i in range(3):  # p = W m + t
                g_mean[i] += view[0, i] * g_x + view[1, i] * g_y + view[2, i] * g_z
        grad_means[n] = g_mean
        # Σ = M Mᵀ, M = R diag(s)
        for i in range(3):
            for j in range(3):
                g_m[i, j] = 0.0
                for k in range(3):
                    g_m[i, j] += (g_sigma[i, k] + g_sigma[k, i]) * m[k, j]
        for j in range(3):
            grad_scales[n, j] = g_m[0, j] * rot[0, j] + g_m[1, j] * rot[1, j] + g_m[2, j] * rot[2, j]
            for i in range(3):
                g_rot[i, j] = g_m[i, j] * scales[n, j]
        w, qx, qy, qz = q[0], q[1], q[2], q[3]
        g = g_rot
        g_q[0] = 2 * (-qz * g[0, 1] + qy * g[0, 2] + qz * g[1, 0] - qx * g[1, 2] - qy * g[2, 0] + qx * g[2, 1])
        g_q[1] = 2 * (qy * g[0, 1] + qz * g[0, 2] + qy * g[1, 0] - 2 * qx * g[1, 1] - w * g[1, 2] + qz * g[2, 0]
                      + w * g[2, 1] - 2 * qx * g[2, 2])
        g_q[2] = 2 * (-2 * qy * g[0, 0] + qx * g[0, 1] + w * g[0, 2] + qx * g[1, 0] + qz * g[1, 2] - w * g[2, 0]
                      + qz * g[2, 1] - 2 * qy * g[2, 2])
        g_q[3] = 2 * (-2 * qz * g[0, 0] - w * g[0, 1] + qx * g[0, 2] + w * g[1, 0] - 2 * qz * g[1, 1] + qy * g[1, 2]
                      + qx * g[2, 0] + qy * g[2, 1])
        dot = g_q[0] * q[0] + g_q[1] * q[1] + g_q[2] * q[2] + g_q[3] * q[3]
        for i in range(4):  # through q = quat / |quat|
            grad_quats[n, i] = (g_q[i] - q[i] * dot) / norm


def _float64(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().numpy(), dtype=np.float64)


class _Project(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means, quats, scales, opacities, viewmats, Ks, width, height, near, far, eps2d):
        arrays = [_float64(t) for t in (means, quats, scales, opacities, viewmats, Ks)]
        cameras, count = viewmats.shape[0], means.shape[0]
        means2d, conics = np.empty((cameras, count, 2)), np.empty((cameras, count, 3))
        depths, radii = np.empty((cameras, count)), np.empty((cameras, count, 2), np.int32)
        run_split(_forward, np.arange(count), *arrays, width, height, near, far, eps2d, means2d, conics, depths,
                  radii)
        ctx.arrays, ctx.settings = arrays, (width, height, eps2d)
        ctx.mark_non_differentiable(radii_t := torch.from_numpy(radii))
        return (*(torch.from_numpy(x).to(means.dtype) for x in (means2d, conics, depths)), radii_t)

    @staticmethod
    def backward(ctx, grad_means2d, grad_conics, grad_depths, _grad_radii):
        means, quats, scales, _, views, ks = ctx.arrays
        width, height, eps2d = ctx.settings
        grads = np.empty_like(means), np.empty_like(quats), np.empty_like(scales)
        run_split(_backward, np.arange(len(means)), means, quats, scales, views, ks, width, height, eps2d,
                  _float64(grad_means2d), _float64(grad_conics), _float64(grad_depths), *grads)
        dtype = grad_means2d.dtype
        return (*(torch.from_numpy(g).to(dtype) for g in grads), None, None, None, None, None, None, None, None)


def project_fused(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                  viewmats: torch.Tensor, Ks: torch.Tensor, width: int, height: int, near: float = 0.01,
                  far: float = 1e10, eps2d: float = 0.3) -> Projected:
    """Project means [N, 3], quats [N, 4] (wxyz, any norm), scales [N, 3] (standard deviations, metres) and
    opacities [N] into C cameras (viewmats [C, 4, 4] world-to-camera, OpenCV axes; Ks [C, 3, 3] pixels).
    Same result as ``project(means, covariance(quats, scales), ...)``; CPU tensors, camera gradients unsupported."""
    if viewmats.requires_grad or Ks.requires_grad:
        raise ValueError("the fused projection has no camera gradients; use backend='torch' to optimise cameras")
    means2d, conics, depths, radii = _Project.apply(means, quats, scales, opacities, viewmats, Ks, width, height,
                                                    near, far, eps2d)
    return Projected(means2d, conics, depths, radii)
