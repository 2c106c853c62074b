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
