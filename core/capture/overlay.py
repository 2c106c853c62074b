"""Checking a captured motion against its video: the body of any frame drawn over that frame."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.body.joints import KEYPOINT_NAMES
from core.body.model import BodyModel
from core.capture.capture import CapturedMotion
from core.fit.overlay import draw_fit, fitted_keypoints
from core.fit.result import BodyFit
from core.io.video_reader import read_frame


def frame_fit(body: BodyModel, captured: CapturedMotion, index: int) -> BodyFit:
    """Frame ``index``'s fit in the video's camera, with its keypoint residuals (video pixels)."""
    if not 0 <= index < len(captured.poses):
        raise IndexError(f"frame {index} is outside the motion's {len(captured.poses)} frames")
    fit = dataclasses.replace(captured.anchor, pose=captured.poses[index].astype(np.float64),
                              root=captured.roots[index].astype(np.float64), keypoint_residuals={}, pins={}, locked=())
    detected = captured.keypoints[index]
    distances = np.linalg.norm(fitted_keypoints(body, fit) - detected[:, :2], axis=-1)
    residuals = {name: float(d) for name, d, c in zip(KEYPOINT_NAMES, distances, detected[:, 2], strict=True) if c > 0}
    return dataclasses.replace(fit, keypoint_residuals=residuals)


def draw_frame(body: BodyModel, captured: CapturedMotion, index: int) -> np.ndarray:
    """RGB uint8 [H, W, 3]: frame ``index`` of the video with that frame's fitted body, skeleton and
    detected keypoints over it (:func:`core.fit.overlay.draw_fit`)."""
    fit = frame_fit(body, captured, index)
    return draw_fit(read_frame(captured.clip, index), fit, body, captured.keypoints[index], captured.height_px)
