"""Reading videos: constant rate, span, downscaling, portrait and variable-rate files, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.io.video import write_video
from core.io.video_reader import VideoError, open_video, read_frame, read_frames


def _ramp(count: int, width: int = 96, height: int = 64) -> list[np.ndarray]:
    """Frames whose brightness tells their index (0, 8, 16, …)."""
    return [np.full((height, width, 3), 8 * i, np.uint8) for i in range(count)]


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "ramp.mp4"
    write_video(path, _ramp(30), fps=30)
    return path


def test_reads_every_frame_in_order(clip_path):
    clip = open_video(clip_path)
    frames = list(read_frames(clip))
    assert (clip.width, clip.height, clip.fps) == (96, 64, 30.0)
    assert abs(len(frames) - 30) <= 1 and abs(clip.frame_count - 30) <= 1
    levels = [float(f.mean()) for f in frames]
    assert np.all(np.diff(levels) > 0)  # in order, none repeated
    assert abs(levels[0] - 0) < 4 and abs(levels[10] - 80) < 4


def test_span_and_rate(clip_path):
    clip = open_video(clip_path, start=0.5, fps=10)
    frames = list(read_frames(clip))
    assert abs(len(frames) - 5) <= 1
    assert abs(float(frames[0].mean()) - 8 * 15) <= 10  # the frame at 0.5 s (ffmpeg may pick the next one)


def test_large_frames_are_scaled_down_with_a_note(tmp_path):
    path = tmp_path / "big.mp4"
    write_video(path, [np.zeros((1080, 1920, 3), np.uint8)] * 3, fps=30)
    clip = open_video(path, max_side=640)
    frame = next(read_frames(clip))
    assert frame.shape == (360, 640, 3) == (clip.height, clip.width, 3)
    assert any("scaled" in note for note in clip.notes)


def test_variable_frame_rate_becomes_even(tmp_path):
    """A GIF whose frames last 50, 150 and 300 ms, read at 20 fps: each moment shows the frame of that time."""
    path = tmp_path / "vfr.gif"
    images = [Image.fromarray(f) for f in _ramp(3)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=[50, 150, 300], loop=0)
    frames = list(read_frames(open_video(path, fps=20)))
    levels = np.round([float(f.mean()) / 8 for f in frames]).astype(int).tolist()
    assert levels[:1] == [0] and levels.count(1) == 3 and levels.count(2) >= 5


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\x00\x01garbage" * 100, "could not be read")])
def test_bad_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match=message):
        open_video(path)


def test_truncated_video_is_refused_or_read_to_where_it_breaks(clip_path, tmp_path):
    path = tmp_path / "cut.mp4"
    path.write_bytes(clip_path.read_bytes()[: clip_path.stat().st_size // 3])
    try:
        clip = open_video(path)
    except VideoError as exc:
        assert "could not be read" in str(exc)
        return
    assert len(list(read_frames(clip))) < 30


def test_other_mistakes(tmp_path, clip_path):
    with pytest.raises(VideoError, match="does not exist"):
        open_video(tmp_path / "none.mp4")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(VideoError, match="not a video"):
        open_video(tmp_path / "notes.txt")
    with pytest.raises(VideoError, match="empty"):
        open_video(clip_path, start=5.0)
    with pytest.raises(VideoError, match="frame rate"):
        open_video(clip_path, fps=0)


def test_one_frame_by_seeking_is_the_frame_read_through(clip_path):
    clip = open_video(clip_path)
    frames = list(read_frames(clip))
    for index in (0, 17, len(frames) - 1):
        assert abs(float(read_frame(clip, index).mean()) - float(frames[index].mean())) < 3, index  # 8 per frame
    with pytest.raises(VideoError, match="outside"):
        read_frame(clip, clip.frame_count)
