"""Reading videos as RGB frames at a constant rate, through imageio-ffmpeg's bundled ffmpeg.

ffmpeg decodes, rotates by the file's orientation tag, resamples to a constant frame rate (a phone's
variable-rate video becomes evenly spaced frames: each output frame is the input frame shown at that
moment) and scales frames larger than ``max_side`` down, so memory and detection time stay bounded.
Every problem is a :class:`VideoError` whose message says what to do.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

VIDEO_READ_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".gif")
MAX_SIDE = 1280  # longer side of the frames handed on (pixels); larger videos are scaled down
MAX_SECONDS = 600.0  # the longest stretch read at once


class VideoError(ValueError):
    """A video that cannot be read as asked; the message says why and what to do."""


@dataclass(frozen=True)
class VideoClip:
    """What will be read: frame size after scaling, constant rate, time span and notes for the user."""

    path: Path
    width: int  # pixels of the frames handed on
    height: int
    fps: float  # frames per second handed on
    start: float  # seconds into the file
    end: float  # seconds into the file (exclusive)
    source_size: tuple[int, int]  # the file's own (width, height)
    source_fps: float
    notes: list[str] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        """Frames the span holds at :attr:`fps` (ffmpeg may deliver one fewer at the very end)."""
        return max(1, int(math.floor((self.end - self.start) * self.fps + 1e-6)))


def _meta(path: Path) -> dict:
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise VideoError(f"{path.name} could not be read as a video (damaged, or not a video ffmpeg knows). "
                         "Re-export it as an .mp4 (H.264) and try again.") from exc
    return meta


def open_video(path: str | os.PathLike[str], start: float = 0.0, end: float | None = None,
               fps: float | None = None, max_side: int = MAX_SIDE, max_fps: float = 30.0) -> VideoClip:
    """Check ``path`` and plan the read: the span ``start``–``end`` seconds (None: to the end), at ``fps``
    (None: the file's own rate, at most ``max_fps``), frames scaled to at most ``max_side`` pixels."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path.name} is empty (0 bytes); choose the complete video file")
    if path.suffix.lower() not in VIDEO_READ_SUFFIXES:
        raise VideoError(f"{path.name} is not a video this program reads; use one of {', '.join(VIDEO_READ_SUFFIXES)}")
    meta = _meta(path)
    width, height = (int(v) for v in meta.get("size") or (0, 0))
    if int(meta.get("rotate") or 0) % 180 == 90:  # a portrait phone video: ffmpeg turns its frames upright
        width, height = height, width
    duration = float(meta.get("duration") or 0.0)
    source_fps = float(meta.get("fps") or 0.0)
    if width <= 0 or height <= 0 or duration <= 0:
        raise VideoError(f"{path.name} holds no video frames (zero length or audio only)")
    notes = []
    if not (math.isfinite(source_fps) and source_fps > 0):
        source_fps = 30.0
        notes.append("the video states no frame rate; it is read at 30 frames per second")
    end = duration if end is None else min(float(end), duration)
    if not (0.0 <= start < end):
        raise VideoError(f"the span {start:g}–{end:g} s is empty: the video lasts {duration:.2f} s")
    if end - start > MAX_SECONDS:
        raise VideoError(f"{end - start:.0f} s of video is more than the {MAX_SECONDS:.0f} s read at once; "
                         "choose a shorter span (--start, --end)")
    rate = min(source_fps, max_fps) if fps is None else float(fps)
    if not (math.isfinite(rate) and 0 < rate <= 120):
        raise VideoError(f"frame rate {fps} is not between 0 and 120 frames per second")
    if fps is None and rate < source_fps:
        notes.append(f"read at {rate:g} of its {source_fps:g} frames per second")
    scale = min(1.0, max_side / max(width, height))
    out_w, out_h = (max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))) if scale < 1 \
        else (width, height)
    if scale < 1:
        notes.append(f"frames scaled from {width}×{height} to {out_w}×{out_h} pixels")
    return VideoClip(path, out_w, out_h, rate, float(start), end, (width, height), source_fps, notes)


def read_frames(clip: VideoClip) -> Iterator[np.ndarray]:
    """The clip's frames, RGB uint8 [H, W, 3], in order (lazily; closing the iterator stops ffmpeg)."""
    import imageio_ffmpeg

    filters = f"fps={clip.fps:.6g}"
    if (clip.width, clip.height) != clip.source_size:
        filters += f",scale={clip.width}:{clip.height}:flags=area"
    input_params = ["-ss", f"{clip.start:.6f}"] if clip.start > 0 else []
    output_params = ["-t", f"{clip.end - clip.start:.6f}", "-vf", filters]
    reader = imageio_ffmpeg.read_frames(str(clip.path), input_params=input_params, output_params=output_params)
    try:
        meta = next(reader)
        width, height = (int(v) for v in meta["size"])
        if (width, height) != (clip.width, clip.height):  # ffmpeg's autorotation turned a portrait video
            clip = replace(clip, width=width, height=height)
        for raw in reader:
            yield np.frombuffer(raw, np.uint8).reshape(clip.height, clip.width, 3)
    except (OSError, RuntimeError) as exc:
        raise VideoError(f"{clip.path.name} could not be decoded to the end ({exc}). The file may be damaged; "
                         "re-export it or choose a shorter span.") from exc
    finally:
        reader.close()


def read_frame(clip: VideoClip, index: int) -> np.ndarray:
    """Frame ``index`` of the clip (at its frame rate), RGB uint8 [H, W, 3]: one seek, not a read from the start."""
    if not 0 <= index < clip.frame_count:
        raise VideoError(f"frame {index} is outside the clip's {clip.frame_count} frames")
    start = clip.start + max(0.0, index - 0.5) / clip.fps  # half a frame early: the seek lands between frames
    one = replace(clip, start=start, end=min(clip.end, start + 1.5 / clip.fps))
    frames = read_frames(one)
    try:
        return next(frames)
    except StopIteration:
        raise VideoError(f"frame {index} of {clip.path.name} could not be decoded") from None
    finally:
        frames.close()
