"""Motions: per-frame joint rotations in the SMPL-X vocabulary, a root translation and a frame rate.

Readers (all raise :class:`MotionError` with a message for the user, never execute pickles):

- AMASS-style ``.npz``: ``poses`` [T, 156] (SMPL+H: root, 21 body, 2×15 hand joints) or [T, 165]
  (SMPL-X: root, 21 body, jaw, 2 eyes, 2×15 hand joints), ``trans`` [T, 3] and ``mocap_framerate``
  (or ``mocap_frame_rate``). AMASS worlds are Z up: ``up="z"`` (default) turns them Y up.
- LHM-style folders of per-frame SMPL-X ``.json`` (``root_pose``, ``body_pose`` 21×3,
  ``lhand_pose``/``rhand_pose`` 15×3, optional ``jaw_pose``, ``leye_pose``, ``reye_pose``,
  ``trans``; an ``fps`` in the first frame overrides the rate asked for), frames in file-name order.
  They come from video in camera coordinates (OpenCV:
  y down, z away from the camera): ``frame="opencv"`` (default) turns them Y up, facing the camera.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.body.joints import NUM_JOINTS
from core.io.archive import DAMAGED_ARCHIVE
from core.limits import how_to_raise, limit
from core.rotations import (
    axis_angle_to_quat,
    axis_angle_to_rotmat,
    quat_slerp,
    quat_to_axis_angle,
    rotmat_to_axis_angle,
)

_MAX_JSON_FRAME_BYTES = 1_000_000  # one SMPL-X frame is a few kilobytes


class MotionError(ValueError):
    """A motion file or folder that cannot be read; the message says why."""


@dataclass(frozen=True)
class Motion:
    """``poses`` [T, 55, 3] rotation vectors (radians, parent-relative, zero = T-pose), ``trans``
    [T, 3] pelvis translation (metres, world, Y up), ``fps`` frames per second."""

    poses: torch.Tensor
    trans: torch.Tensor
    fps: float
    name: str = "motion"

    def __post_init__(self) -> None:
        t = self.poses.shape[0]
        if self.poses.shape != (t, NUM_JOINTS, 3) or self.trans.shape != (t, 3) or t == 0:
            raise MotionError(f"motion '{self.name}' has poses {tuple(self.poses.shape)} and trans "
                              f"{tuple(self.trans.shape)}; expected [T, 55, 3] and [T, 3] with T ≥ 1")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise MotionError(f"motion '{self.name}' has an invalid frame rate {self.fps}")
        if not (torch.isfinite(self.poses).all() and torch.isfinite(self.trans).all()):
            raise MotionError(f"motion '{self.name}' contains NaN or infinite values")

    def __len__(self) -> int:
        return self.poses.shape[0]

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return (len(self) - 1) / self.fps

    def sample(self, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Poses [N, 55, 3] and translations [N, 3] at ``times`` [N] seconds (clamped to the clip),
        rotations slerped, translations interpolated linearly."""
        position = (torch.as_tensor(times, dtype=torch.float64) * self.fps).clamp(0, len(self) - 1)
        lo = position.floor().long()
        hi = (lo + 1).clamp_max(len(self) - 1)
        t = (position - lo).to(self.poses.dtype)
        quats = axis_angle_to_quat(self.poses)
        poses = quat_to_axis_angle(quat_slerp(quats[lo], quats[hi], t[:, None].expand(-1, NUM_JOINTS)))
        trans = self.trans[lo] + t[:, None] * (self.trans[hi] - self.trans[lo])
        return poses, trans

    def resample(self, fps: float) -> Motion:
        """The same motion at ``fps`` frames per second."""
        if not fps > 0:
            raise MotionError(f"target frame rate must be positive, got {fps}")
        count = max(1, round(self.duration * fps) + 1)
        poses, trans = self.sample(torch.arange(count, dtype=torch.float64) / fps)
        return Motion(poses, trans, float(fps), self.name)


def change_frame(poses: torch.Tensor, trans: torch.Tensor, rotation: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Re-express a motion in a rotated world: root rotation and translation turn by ``rotation``."""
    root = rotation @ axis_angle_to_rotmat(poses[:, 0])
    poses = poses.clone()
    poses[:, 0] = rotmat_to_axis_angle(root)
    return poses, trans @ rotation.T


_Z_UP_TO_Y_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
_OPENCV_TO_Y_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])


def _poses_from_columns(columns: np.ndarray, path: Path) -> torch.Tensor:
    """[T, 156|165] AMASS pose columns → [T, 55, 3] vocabulary poses."""
    t, width = columns.shape
    poses = np.zeros((t, NUM_JOINTS, 3), dtype=np.float32)
    if width == 165:  # SMPL-X: root, body, jaw, eyes, hands: exactly the vocabulary order
        poses[:] = columns.reshape(t, NUM_JOINTS, 3)
    elif width == 156:  # SMPL+H: root, body, hands (no jaw or eyes)
        poses[:, :22] = columns[:, :66].reshape(t, 22, 3)
        poses[:, 25:] = columns[:, 66:].reshape(t, 30, 3)
    else:
        raise MotionError(f"{path.name}: 'poses' has {width} columns; AMASS files have 156 (SMPL+H) or 165 (SMPL-X)")
    return torch.from_numpy(poses)


def _npy_shape(npz, key: str) -> tuple[int, ...]:
    """The shape an ``.npz`` member declares, read from its header without loading the array."""
    with npz.zip.open(f"{key}.npy") as stream:
        version = np.lib.format.read_magic(stream)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = read(stream)
    return tuple(shape)


def _check_frames(count: int, max_frames: int, name: str) -> None:
    if count > max_frames:
        raise MotionError(f"{name} has {count:,} frames, more than the limit of {max_frames:,}; "
                          f"{how_to_raise('motion_frames')}")


def load_amass(path: str | os.PathLike[str], up: str = "z", max_frames: int | None = None) -> Motion:
    """Read an AMASS-style ``.npz`` (see the module docstring); more than ``max_frames`` (default
    :func:`core.limits.limit` ``("motion_frames")``) is refused before the poses are loaded."""
    path = Path(path)
    max_frames = limit("motion_frames", max_frames)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in ("poses", "trans") if k not in npz.files]
            if missing:
                raise MotionError(f"{path.name} is not an AMASS motion: it lacks {', '.join(missing)}")
            rate_key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in npz.files), None)
            if rate_key is None:
                raise MotionError(f"{path.name} has no mocap_framerate; cannot tell its speed")
            for key in ("poses", "trans"):
                shape = _npy_shape(npz, key)
                _check_frames(shape[0] if shape else 0, max_frames, path.name)
                if len(shape) != 2 or shape[1] > 1000:
                    raise MotionError(f"{path.name}: '{key}' has shape {shape}, not frames × values")
            header = {k: npz[k] for k in ("poses", "trans", rate_key)}
    except MotionError:
        raise
    except FileNotFoundError:
        raise MotionError(f"{path} does not exist") from None
    except DAMAGED_ARCHIVE as exc:
        raise MotionError(f"{path.name} is not a readable .npz motion ({exc})") from None
    columns, trans = header["poses"], header["trans"]
    if columns.ndim != 2 or trans.shape != (columns.shape[0], 3) or columns.dtype.kind != "f":
        raise MotionError(f"{path.name}: poses {columns.shape} and trans {trans.shape} do not match")
    motion_poses = _poses_from_columns(columns, path)
    motion_trans = torch.as_tensor(trans, dtype=torch.float32)
    if up == "z":
        motion_poses, motion_trans = change_frame(motion_poses, motion_trans, _Z_UP_TO_Y_UP)
    elif up != "y":
        raise MotionError(f"up must be 'z' or 'y', got {up!r}")
    return Motion(motion_poses, motion_trans, float(np.asarray(header[rate_key]).reshape(-1)[0]), path.stem)


def _json_vector(frame: dict, key: str, count: int, path: Path) -> np.ndarray:
    if key not in frame:
        return np.zeros((count, 3), dtype=np.float32)
    try:
        value = np.asarray(frame[key], dtype=np.float32).reshape(count, 3)
    except (ValueError, TypeError):
        raise MotionError(f"{path.name}: '{key}' must hold {count}×3 numbers") from None
    return value


def load_smplx_json_folder(path: str | os.PathLike[str], fps: float = 30.0, frame: str = "opencv",
                           max_frames: int | None = None) -> Motion:
    """Read an LHM-style folder of per-frame SMPL-X ``.json`` files (see the module docstring)."""
    folder = Path(path)
    max_frames = limit("motion_frames", max_frames)
    if not folder.is_dir():
        raise MotionError(f"{folder} is not a folder of per-frame .json files")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise MotionError(f"{folder} holds no .json frames")
    _check_frames(len(files), max_frames, str(folder))
    poses = np.zeros((len(files), NUM_JOINTS, 3), dtype=np.float32)
    trans = np.zeros((len(files), 3), dtype=np.float32)
    for i, file in enumerate(files):
        try:
            if file.stat().st_size > _MAX_JSON_FRAME_BYTES:
                raise MotionError(f"{file.name} is {file.stat().st_size:,} bytes, too big for one SMPL-X frame")
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MotionError(f"{file.name} is not readable JSON ({exc})") from None
        if not isinstance(data, dict) or "body_pose" not in data:
            raise MotionError(f"{file.name} is not an SMPL-X frame (no 'body_pose')")
        poses[i, 0] = _json_vector(data, "root_pose", 1, file)[0]
        poses[i, 1:22] = _json_vector(data, "body_pose", 21, file)
        poses[i, 22] = _json_vector(data, "jaw_pose", 1, file)[0]
        poses[i, 23] = _json_vector(data, "leye_pose", 1, file)[0]
        poses[i, 24] = _json_vector(data, "reye_pose", 1, file)[0]
        poses[i, 25:40] = _json_vector(data, "lhand_pose", 15, file)
        poses[i, 40:55] = _json_vector(data, "rhand_pose", 15, file)
        trans[i] = _json_vector(data, "trans", 1, file)[0]
        if i == 0 and "fps" in data:  # our own folders state their rate
            try:
                fps = float(data["fps"])
            except (TypeError, ValueError):
                raise MotionError(f"{file.name}: 'fps' must be a number") from None
    motion_poses, motion_trans = torch.from_numpy(poses), torch.from_numpy(trans)
    if frame == "opencv":
        motion_poses, motion_trans = change_frame(motion_poses, motion_trans, _OPENCV_TO_Y_UP)
    elif frame != "world":
        raise MotionError(f"frame must be 'opencv' or 'world', got {frame!r}")
    return Motion(motion_poses, motion_trans, float(fps), folder.name)
