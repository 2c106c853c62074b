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
