"""Fingers from a video (``hands``): a fist and an open hand come out different only when asked for."""

from __future__ import annotations

import numpy as np
import pytest

from core.body.joints import JOINT_INDEX
from core.capture.capture import CaptureOptions, capture_motion

pytestmark = pytest.mark.slow


def _curl(poses: np.ndarray, side: str) -> float:
    """Mean rotation (degrees) of a hand's four fingers' joints."""
    joints = [j for n, j in JOINT_INDEX.items() if n.startswith(f"{side}_") and n[len(side) + 1:-1]
              in ("index", "middle", "ring", "pinky")]
    return float(np.degrees(np.linalg.norm(poses[:, joints], axis=-1).mean()))


def test_fist_and_open_hand(fist_video, anny_body):
    path, truth = fist_video
    assert _curl(truth, "right") > 55 and _curl(truth, "left") == 0
    with_hands = capture_motion(path, anny_body, CaptureOptions(hands=True))
    seen = with_hands.hands[..., 2] > 0
    assert seen[:, :16].any(-1).mean() > 0.8 and seen[:, 16:].any(-1).mean() > 0.8  # both hands found
    assert _curl(with_hands.poses, "right") > _curl(with_hands.poses, "left") + 12
    without = capture_motion(path, anny_body)
    assert not (without.hands[..., 2] > 0).any()
    assert abs(_curl(without.poses, "right") - _curl(without.poses, "left")) < 3  # fingers not fitted
