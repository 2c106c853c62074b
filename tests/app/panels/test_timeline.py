"""The motion timeline: scrubbing, looping, clamping, speed, and importing a motion file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.panels.timeline import NO_MOTION, MotionTimeline
from core.body.motions import load_motion


@pytest.fixture
def timeline(qtbot):
    widget = MotionTimeline()
    qtbot.addWidget(widget)
    return widget


def test_scrub_shows_the_clip_pose_at_that_time(timeline):
    frames = []
    timeline.frame.connect(lambda pose, root: frames.append((pose, root)))
    motion = load_motion("wave")
    timeline.set_motion(motion)
    timeline.scrub.setValue(250)
    pose, root = motion.sample(torch.tensor([motion.duration / 4]))
    assert torch.allclose(frames[-1][0], pose[0], atol=1e-4) and torch.allclose(frames[-1][1], root[0], atol=1e-5)
    assert timeline.time == pytest.approx(motion.duration / 4, rel=1e-3)


def test_loop_wraps_and_no_loop_clamps(timeline):
    motion = load_motion("walk")
    timeline.set_motion(motion)
    timeline.show_time(motion.duration * 1.25)
    assert timeline.time == pytest.approx(motion.duration * 0.25)
    timeline.loop.setChecked(False)
    timeline.show_time(motion.duration * 1.25)
    assert timeline.time == pytest.approx(motion.duration)


def test_play_advances_at_the_chosen_speed(qtbot, timeline):
    timeline.set_motion(load_motion("walk"))
    timeline.speed.setValue(2.0)
    timeline.play()
    assert timeline.playing and timeline.play_button.text() == "Pause"
    qtbot.wait(400)
    timeline.pause()
    assert 0.4 < timeline.time < 2.5  # about 0.8 s of motion in 0.4 s
    assert not timeline.playing


def test_importing_a_broken_motion_reports_it(timeline, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an archive")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    errors = []
    timeline.failed.connect(lambda title, message: errors.append(message))
    timeline._on_clip(timeline.clip.count() - 1)  # "Import motion…"
    assert errors and "bad.npz" in errors[0]
    assert timeline.motion is None and timeline.clip.currentText() == NO_MOTION


def test_an_amass_file_can_be_imported(timeline, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "dance.npz"
    np.savez(path, poses=np.zeros((30, 156), np.float32), trans=np.zeros((30, 3), np.float32),
             mocap_framerate=np.float64(30.0))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    timeline._on_clip(timeline.clip.count() - 1)
    assert timeline.motion is not None and len(timeline.motion) == 30 and timeline.playing
    timeline.pause()
