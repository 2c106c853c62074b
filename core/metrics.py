"""Accuracy measures shared by benchmarks and tests (plain NumPy, float64)."""

from __future__ import annotations

import numpy as np


def similarity_transform(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The similarity (``scale``, ``rotation`` [3, 3], ``translation`` [3]) that moves ``source``
    [N, 3] onto ``target`` [N, 3] with least squared distances, applied to row vectors as
    ``scale · x @ rotation + translation`` (Umeyama 1991; reflections excluded)."""
    x, y = np.asarray(source, np.float64), np.asarray(target, np.float64)
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    u, s, vt = np.linalg.svd(xc.T @ yc)
    d = np.sign(np.linalg.det(u @ vt))
    correction = np.diag([1.0, 1.0, d])
    rotation = u @ correction @ vt
    scale = float((s * np.diag(correction)).sum() / max((xc ** 2).sum(), 1e-12))
    return scale, rotation, my - scale * mx @ rotation


def procrustes_align(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` [N, 3] moved onto ``target`` [N, 3] by :func:`similarity_transform`."""
    scale, rotation, translation = similarity_transform(source, target)
    return scale * np.asarray(source, np.float64) @ rotation + translation


def mpjpe(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean per-joint position error (same units as the inputs) of [N, 3] joint sets."""
    return float(np.linalg.norm(np.asarray(predicted, np.float64) - truth, axis=-1).mean())


def pa_mpjpe(predicted: np.ndarray, truth: np.ndarray) -> float:
    """MPJPE after Procrustes alignment of ``predicted`` onto ``truth`` (removes global rotation,
    scale and translation, which one photo cannot determine)."""
    return mpjpe(procrustes_align(predicted, truth), truth)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two masks [H, W] thresholded at 0.5 (1.0 when both are empty)."""
    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


def ssim_map(image, truth, window: int = 11, sigma: float = 1.5):
    """Differentiable structural similarity [C, H', W'] (valid windows, mean over channels) of images
    [C, H, W, 3] in [0, 1] (torch tensors; Gaussian window, constants of Wang et al. 2004)."""
    import torch

    coords = torch.arange(window, dtype=image.dtype, device=image.device) - window // 2
    g = torch.exp(-coords.square() / (2 * sigma ** 2))
    kernel = (g[:, None] * g[None, :] / g.sum() ** 2).expand(3, 1, window, window)

    def blur(x):
        return torch.nn.functional.conv2d(x, kernel, groups=3)

    x, y = image.permute(0, 3, 1, 2), truth.permute(0, 3, 1, 2)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return (((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))).mean(1)


def ssim(image, truth, mask=None, window: int = 11, sigma: float = 1.5) -> float:
    """Mean structural similarity (:func:`ssim_map`) of two images [H, W, 3] in [0, 1] over the
    pixels where ``mask`` [H, W] is set (default: all)."""
    value = ssim_map(image[None].float(), truth[None].float(), window, sigma)[0]
    if mask is None:
        return float(value.mean())
    inner = mask[window // 2: mask.shape[0] - window // 2, window // 2: mask.shape[1] - window // 2].float()
    return float((value * inner).sum() / inner.sum().clamp_min(1))


#: CIE D65 reference white (XYZ, Y = 1) of sRGB.
_D65 = np.array([0.95047, 1.0, 1.08883])
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* [..., 3] (D65; L in 0–100) of sRGB colours [..., 3] in [0, 1]."""
    c = np.clip(np.asarray(rgb, np.float64), 0.0, 1.0)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    t = linear @ _SRGB_TO_XYZ.T / _D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference [...] of L*a*b* colours [..., 3] (Sharma, Wu & Dalal 2005;
    kL = kC = kH = 1). About 1: just noticeable; above 10: clearly another colour."""
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    zero = c1p * c2p == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(zero, 0.0, dh)
    d_l, d_c = l2 - l1, c2p - c1p
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    h_mean = np.where(zero, h_sum, h_mean)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_mean, 1 + 0.015 * cp_mean * t
    r_t = -2 * np.sqrt(cp_mean ** 7 / (cp_mean ** 7 + 25.0 ** 7)) \
        * np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
    return np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))
