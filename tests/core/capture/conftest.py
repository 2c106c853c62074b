"""One capture of the shared wave video, and its frames, for the capture tests."""

from __future__ import annotations

import pytest

from core.capture.capture import capture_motion
from core.io.video_reader import open_video, read_frames


@pytest.fixture(scope="package")
def frames(wave_video):
    return list(read_frames(open_video(wave_video.path)))


@pytest.fixture(scope="package")
def captured(wave_video, anny_body):
    progress = []
    result = capture_motion(wave_video.path, anny_body, progress=lambda f, m: progress.append((f, m)))
    result.progress_seen = progress
    return result


@pytest.fixture(scope="package")
def fist_video(tmp_path_factory, anny_body):
    """A generated person waving with the right hand closed to a fist and the left open (0.6 s, 540×960
    portrait: the hands about 50 px across), and the true poses."""
    import numpy as np

    from core.bench.motion import render_video, turned_motion
    from core.body.joints import JOINT_INDEX
    from core.body.motion_files import Motion
    from core.body.motions import builtin_motion

    wave = turned_motion(builtin_motion("wave"), -10.0, seconds=0.6)
    poses = wave.poses.clone()
    for name, joint in JOINT_INDEX.items():  # the right fingers curl about +z (their joint limits)
        if name.startswith("right_") and name[6:-1] in ("index", "middle", "ring", "pinky"):
            poses[:, joint, 2] = 1.2 if name[-1] in "12" else 0.8
    motion = Motion(poses, wave.trans, wave.fps, "fist")
    path = tmp_path_factory.mktemp("fist") / "fist.mp4"
    render_video(anny_body, motion, path, np.random.default_rng(7), size=(540, 960), splats=60000)
    return path, poses.numpy()
