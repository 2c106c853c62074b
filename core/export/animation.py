"""An avatar playing a motion: posed 3DGS ``.ply`` sequences and videos (``.mp4`` / ``.gif``).

Frames are sampled from the motion at ``fps`` (rotations slerped); the video camera is fixed, aimed
at the middle of the space the avatar moves through, framing all of it (front view, 10° above).
Each ``.ply`` is written atomically; the video appears only when complete.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.body.motion_files import Motion
from core.camera import OrbitCamera
from core.gaussians import GaussianCloud
from core.io.ply import write_ply
from core.progress import CancelToken
from core.render.offline import render_image

Counter = Callable[[int, int], None]


def frame_times(motion: Motion, fps: float) -> torch.Tensor:
    """Sample times [T] (seconds) covering the motion at ``fps``."""
    count = max(1, int(math.floor(motion.duration * fps)) + 1)
    return torch.arange(count, dtype=torch.float64) / fps


def posed_frames(avatar: Avatar, body: BodyModel, motion: Motion, fps: float,
                 cancel: CancelToken | None = None) -> Iterator[GaussianCloud]:
    """The avatar's Gaussians at each frame of ``motion`` (lazily)."""
    poses, trans = motion.sample(frame_times(motion, fps))
    for pose, root in zip(poses, trans, strict=True):
        if cancel is not None:
            cancel.check()
        yield avatar.posed(body, pose.float(), root.float())


def save_ply_sequence(folder: str | os.PathLike[str], avatar: Avatar, body: BodyModel, motion: Motion,
                      fps: float = 24.0, progress: Counter | None = None, cancel: CancelToken | None = None
                      ) -> list[Path]:
    """``folder/<motion>_0000.ply`` … one posed 3DGS file per frame."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    total = len(frame_times(motion, fps))
    written = []
    for i, cloud in enumerate(posed_frames(avatar, body, motion, fps, cancel)):
        target = folder / f"{motion.name}_{i:04d}.ply"
        write_ply(target, cloud)
        written.append(target)
        if progress is not None:
            progress(i + 1, total)
    return written


def motion_camera(avatar: Avatar, body: BodyModel, motion: Motion) -> OrbitCamera:
    """A fixed camera framing the avatar over the whole motion (its first and last frames)."""
    first, last = (avatar.posed(body, *(v[0].float() for v in motion.sample(torch.tensor([t]))))
                   for t in (0.0, motion.duration))
    points = torch.cat([first.means, last.means])
    lo, hi = points.min(0).values, points.max(0).values
    camera = OrbitCamera(fov_y=40.0)
    camera.frame(((lo + hi) / 2).double().numpy(), float((hi - lo).norm()) / 2)
    camera.elevation = math.radians(10.0)
    return camera


def animation_images(avatar: Avatar, body: BodyModel, motion: Motion, fps: float = 24.0, size: int = 512,
                     progress: Counter | None = None, cancel: CancelToken | None = None) -> Iterator[np.ndarray]:
    """Rendered RGB frames [size, size, 3] uint8 of the avatar playing ``motion`` (lazily)."""
    camera = motion_camera(avatar, body, motion)
    total = len(frame_times(motion, fps))
    for i, cloud in enumerate(posed_frames(avatar, body, motion, fps, cancel)):
        yield render_image(cloud, camera, size)
        if progress is not None:
            progress(i + 1, total)
