"""Video → motion on videos we render ourselves (real mediapipe, real anny, real H.264 files)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.bench.motion import motion_errors
from core.capture.capture import CaptureOptions, capture_motion
from core.capture.fit_motion import FEET
from core.detect.person import NoPersonError, SeveralPeopleError
from core.io.video import write_video
from core.progress import Cancelled, CancelToken

pytestmark = pytest.mark.slow


def test_motion_matches_the_truth(captured, wave_video, anny_body):
    errors = motion_errors(anny_body, captured, wave_video)
    assert errors["frames"] == len(wave_video.joints)
    assert errors["pa_mpjpe_mm"] < 90, errors
    assert errors["accel_error_mm"] < 15, errors
    assert errors["missing_frames"] == 0
    motion = captured.motion
    assert motion.fps == 30 and len(motion) == len(wave_video.joints)
    # the motion starts over the origin with the feet on the body's rest floor
    assert float(motion.trans[0, [0, 2]].abs().max()) < 1e-6
    with torch.no_grad():
        shape = torch.tensor(captured.shape)[None]
        feet = anny_body.forward(shape, motion.poses, motion.trans).joints[:, FEET, 1]
        rest = anny_body.forward(shape, torch.zeros(1, 55, 3)).joints[0, FEET, 1]
    assert abs(float(feet.min()) - float(rest.min())) < 0.03


def test_progress_counts_frames_and_rate(captured):
    fractions = [f for f, _ in captured.progress_seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("frames/s" in message for _, message in captured.progress_seen)


def test_cancel_stops_with_nothing(wave_video, anny_body):
    token = CancelToken()
    calls = []

    def progress(fraction, message):
        calls.append(fraction)
        if len(calls) == 5:
            token.cancel()

    with pytest.raises(Cancelled):
        capture_motion(wave_video.path, anny_body, progress=progress, cancel=token)
    assert len(calls) == 5


def test_frames_without_the_person_are_filled_in(frames, wave_video, anny_body, tmp_path):
    gap = range(12, 16)
    blank = [np.full_like(f, 200) if i in gap else f for i, f in enumerate(frames)]
    path = tmp_path / "gap.mp4"
    write_video(path, blank, fps=30)
    result = capture_motion(path, anny_body)
    assert result.missing == list(gap)
    errors = motion_errors(anny_body, result, wave_video)
    assert errors["pa_mpjpe_mm"] < 100, errors
    # the filled-in frames lie between their neighbours, not at some default pose
    roots = result.roots
    assert np.linalg.norm(roots[13] - (roots[11] + roots[16]) / 2) < 0.1


def test_nobody_or_mostly_nobody(frames, anny_body, tmp_path):
    empty = tmp_path / "empty.mp4"
    write_video(empty, [np.full_like(frames[0], 90)] * 10, fps=30)
    with pytest.raises(NoPersonError, match="Nobody was found"):
        capture_motion(empty, anny_body)
    mostly = tmp_path / "mostly.mp4"
    write_video(mostly, frames[:8] + [np.full_like(frames[0], 90)] * 20, fps=30)
    with pytest.raises(NoPersonError, match="seen in only"):
        capture_motion(mostly, anny_body)


def test_several_people_need_a_choice(frames, anny_body, tmp_path):
    """Two people side by side (the person and a mirrored copy): a clear error, then each one on request."""
    path = tmp_path / "two.mp4"
    # the middle half of the frame around the person, twice: the people stay as large in the frame as
    # in the one-person video (mediapipe's detector sees the frame at 256², and misses people ~50 px tall)
    width = frames[0].shape[1] // 2
    crops = [f[:, 150: 150 + width] for f in frames[:12]]
    write_video(path, [np.concatenate([f, f[:, ::-1]], 1) for f in crops], fps=30)
    with pytest.raises(SeveralPeopleError, match="--person") as info:
        capture_motion(path, anny_body)
    assert len(info.value.boxes) == 2
    centres = []
    for person in (0, 1):
        result = capture_motion(path, anny_body, CaptureOptions(person=person))
        assert result.missing == [] and result.people == 2
        assert np.isfinite(result.landmarks).all()  # the window's search gives their 3D landmarks too
        centres.append(result.keypoints[:, :, 0][result.keypoints[:, :, 2] > 0].mean())
    assert {c < width for c in centres} == {True, False}  # one on each side, followed throughout
    with pytest.raises(NoPersonError, match="--person 0 to 1"):
        capture_motion(path, anny_body, CaptureOptions(person=2))
