"""Write image sequences as .mp4 (H.264 through imageio-ffmpeg's bundled ffmpeg) or .gif (Pillow),
and single images as .png/.jpg, always atomically (a temporary file beside the target, then a rename)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from core.io.atomic import atomic_path, atomic_write

VIDEO_SUFFIXES = (".mp4", ".gif")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def write_image(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Write an RGB uint8 image [H, W, 3] (format from the suffix) atomically."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"cannot write '{path.suffix}' images; use one of {', '.join(IMAGE_SUFFIXES)}")
    with atomic_write(path) as stream:
        Image.fromarray(image).save(stream, format="PNG" if path.suffix.lower() == ".png" else "JPEG", quality=95)


def write_video(path: str | os.PathLike[str], frames: Iterable[np.ndarray], fps: float = 24.0) -> int:
    """Write RGB uint8 frames [H, W, 3] (all the same size) as .mp4 or .gif; returns the frame count.

    The file appears only when complete: an interrupted or failed write leaves no partial video.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ValueError(f"cannot write '{path.suffix}' videos; use {' or '.join(VIDEO_SUFFIXES)}")
    with atomic_path(path) as tmp:
        return _write_mp4(tmp, frames, fps) if suffix == ".mp4" else _write_gif(tmp, frames, fps)


def _write_mp4(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    import imageio_ffmpeg

    writer = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264",
                                                     pix_fmt_out="yuv420p", quality=8, macro_block_size=2,
                                                     ffmpeg_log_level="error")
                writer.send(None)  # start the generator
            writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
            count += 1
    finally:
        if writer is not None:
            writer.close()
    if count == 0:
        raise ValueError("no frames to write")
    return count


def _write_gif(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    images = [Image.fromarray(frame) for frame in frames]
    if not images:
        raise ValueError("no frames to write")
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return len(images)
