"""Accuracy measures shared by benchmarks and tests (plain NumPy, float64)."""

from __future__ import annotations

import numpy as np


def procrustes_align(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` [N, 3] moved onto ``target`` [N, 3] by the similarity (rotation, uniform scale,
    translation) that minimises the squared distances (Umeyama 1991; reflections excluded)."""
    x, y = np.asarray(source, np.float64), np.asarray(target, np.float64)
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    u, s, vt = np.linalg.svd(xc.T @ yc)
    d = np.sign(np.linalg.det(u @ vt))
    correction = np.diag([1.0, 1.0, d])
    rotation = u @ correction @ vt  # x_row @ rotation ≈ y_row
    scale = float((s * np.diag(correction)).sum() / max((xc ** 2).sum(), 1e-12))
    return scale * xc @ rotation + my


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
