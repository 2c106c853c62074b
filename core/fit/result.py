"""``BodyFit``: a body fitted to a photo, with its camera and how well it fits; JSON on disk.

Frames: the body's world frame (Y up, metres); the camera is OpenCV (x right, y down, z forward)
with ``viewmat`` world-to-camera and ``K`` in pixels of the photo (its processing copy, EXIF-upright).
The default camera looks down world −Z from the origin (``viewmat = diag(1, −1, −1, 1)``), so a body
with zero pelvis rotation faces it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.body.joints import JOINT_NAMES, NUM_JOINTS
from core.io.atomic import write_bytes_atomic
from core.io.errors import read_errors_as

FORMAT = "avatarium-body-fit"
VERSION = 1
#: World-to-camera of the fitting camera: at the origin, looking down world −Z, world Y up.
CAMERA_VIEWMAT = np.diag([1.0, -1.0, -1.0, 1.0])


MAX_OFFSET = 1.0  # metres, the largest clothing offset a fit may hold


class FitFileError(ValueError):
    """A fit file cannot be read; the message names the file and the problem."""


@dataclass
class BodyFit:
    """A fitted body: model, shape, pose, root translation, camera, residuals and quality."""

    body_model: str  # "anny" or "smplx"
    shape: np.ndarray  # [S] the model's shape parameters
    pose: np.ndarray  # [55, 3] rotation vectors (SMPL-X vocabulary, radians)
    root: np.ndarray  # [3] pelvis translation from its rest position, world metres
    K: np.ndarray  # [3, 3] photo pixels
    image_size: tuple[int, int]  # photo (width, height), pixels
    viewmat: np.ndarray = field(default_factory=lambda: CAMERA_VIEWMAT.copy())  # [4, 4] world-to-camera
    keypoint_residuals: dict[str, float] = field(default_factory=dict)  # photo pixels, seen keypoints only
    silhouette_iou: float = float("nan")  # fitted body vs person mask (the body is under the clothes)
    quality: float = float("nan")  # 0 (useless) … 1 (keypoints and silhouette both agree)
    clothing: np.ndarray | None = None  # [V] clothing layer: offsets along the rest normals, metres (core.fit.clothing)
    clothed_iou: float = float("nan")  # the body with its clothing layer vs the person mask
    pins: dict[str, tuple[float, float]] = field(default_factory=dict)  # user-pinned points, photo pixels
    locked: tuple[str, ...] = ()  # joints whose rotation the user locked
    seconds: float = 0.0  # time the fit took

    def __post_init__(self) -> None:
        self.shape = np.asarray(self.shape, dtype=np.float32).reshape(-1)
        self.pose = np.asarray(self.pose, dtype=np.float32).reshape(NUM_JOINTS, 3)
        self.root = np.asarray(self.root, dtype=np.float32).reshape(3)
        self.K = np.asarray(self.K, dtype=np.float64).reshape(3, 3)
        self.viewmat = np.asarray(self.viewmat, dtype=np.float64).reshape(4, 4)
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        if self.clothing is not None:
            self.clothing = np.asarray(self.clothing, dtype=np.float32).reshape(-1)
            if not np.isfinite(self.clothing).all() or (self.clothing < 0).any() or (self.clothing > MAX_OFFSET).any():
                raise ValueError(f"the fit's clothing offsets must lie from 0 to {MAX_OFFSET * 1000:.0f} mm")
        for name, array in (("shape", self.shape), ("pose", self.pose), ("root", self.root), ("K", self.K),
                            ("viewmat", self.viewmat)):
            if not np.isfinite(array).all():
                raise ValueError(f"the fit's {name} contains NaN or infinite values")

    @property
    def mean_residual(self) -> float:
        """Mean keypoint residual in photo pixels (NaN when no keypoint was seen)."""
        values = list(self.keypoint_residuals.values())
        return float(np.mean(values)) if values else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (pose also keyed by joint name for people reading the file)."""
        def number(value: float) -> float | None:
            return None if math.isnan(value) else round(float(value), 6)

        return {
            "format": FORMAT, "version": VERSION, "body_model": self.body_model,
            "shape": self.shape.tolist(), "pose": {n: self.pose[i].tolist() for i, n in enumerate(JOINT_NAMES)},
            "root": self.root.tolist(), "K": self.K.tolist(), "viewmat": self.viewmat.tolist(),
            "image_size": list(self.image_size),
            "keypoint_residuals": {k: round(v, 3) for k, v in self.keypoint_residuals.items()},
            "silhouette_iou": number(self.silhouette_iou), "quality": number(self.quality),
            "clothed_iou": number(self.clothed_iou),
            "pins": {k: list(v) for k, v in self.pins.items()}, "locked": list(self.locked),
            "seconds": round(self.seconds, 4),
            "clothing_mm": None if self.clothing is None else np.round(self.clothing.astype(float) * 1e3, 1).tolist(),
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "fit") -> BodyFit:
        """Inverse of :meth:`to_dict`; any problem raises :class:`FitFileError` naming ``source``."""
        def fail(problem: str) -> FitFileError:
            return FitFileError(f"{source}: {problem}")

        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise fail(f"not an Avatarium body fit (expected \"format\": \"{FORMAT}\")")
        if not isinstance(data.get("version"), int) or data["version"] > VERSION:
            raise fail(f"fit format version {data.get('version')!r} is not supported (this build reads ≤ {VERSION})")
        try:
            return cls._from_checked_dict(data, fail)
        except FitFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
            raise fail(f"malformed fit ({type(exc).__name__}: {exc})") from None

    @classmethod
    def _from_checked_dict(cls, data: dict, fail) -> BodyFit:
        with np.errstate(over="ignore", invalid="ignore"):  # huge numbers become inf and are refused below
            pose_table = data["pose"]
            if not isinstance(pose_table, dict):
                raise fail("\"pose\" must map joint names to rotation vectors")
            unknown = set(pose_table) - set(JOINT_NAMES)
            if unknown:
                raise fail(f"unknown joint(s) in \"pose\": {', '.join(sorted(unknown)[:5])}")
            pose = np.zeros((NUM_JOINTS, 3), dtype=np.float32)
            for i, name in enumerate(JOINT_NAMES):
                if name in pose_table:
                    pose[i] = np.asarray(pose_table[name], dtype=np.float32).reshape(3)
            return cls(
                body_model=str(data["body_model"]), shape=np.asarray(data["shape"], dtype=np.float32), pose=pose,
                root=np.asarray(data["root"], dtype=np.float32), K=np.asarray(data["K"], dtype=np.float64),
                image_size=tuple(int(v) for v in data["image_size"]),
                viewmat=np.asarray(data.get("viewmat", CAMERA_VIEWMAT), dtype=np.float64),
                keypoint_residuals={str(k): float(v) for k, v in data.get("keypoint_residuals", {}).items()},
                silhouette_iou=float("nan") if data.get("silhouette_iou") is None else float(data["silhouette_iou"]),
                quality=float("nan") if data.get("quality") is None else float(data["quality"]),
                clothing=_clothing(data.get("clothing_mm"), fail),
                clothed_iou=float("nan") if data.get("clothed_iou") is None else float(data["clothed_iou"]),
                pins={str(k): (float(v[0]), float(v[1])) for k, v in data.get("pins", {}).items()},
                locked=tuple(str(v) for v in data.get("locked", ())),
                seconds=float(data.get("seconds", 0.0)),
            )

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`: indented for people, the clothing offsets on one line."""
        data = self.to_dict()
        clothing = data.pop("clothing_mm")
        text = json.dumps(data, indent=1)
        return text[:-2] + f',\n "clothing_mm": {json.dumps(clothing, separators=(",", ":"))}\n}}\n'

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` atomically."""
        target = Path(path)
        write_bytes_atomic(target, self.to_json().encode())
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str], max_bytes: int = 10_000_000) -> BodyFit:
        """Read a fit written by :meth:`save`."""
        path = Path(path)
        with read_errors_as(FitFileError, f"{path.name}: cannot be read as a fit file",
                            (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError)):
            if path.stat().st_size > max_bytes:
                raise FitFileError(f"{path.name}: {path.stat().st_size:,} bytes is too large for a fit file")
            data = json.loads(path.read_text(encoding="utf-8"))
        return cls.from_dict(data, path.name)


def _clothing(values: Any, fail) -> np.ndarray | None:
    """The clothing layer [V] (metres) of a fit file's ``clothing_mm`` (a flat list of millimetres, or
    null); :class:`BodyFit` checks the values' range."""
    if values is None:
        return None
    if not isinstance(values, list) or len(values) > 1_000_000:
        raise fail("\"clothing_mm\" must be a list of at most a million offsets in millimetres")
    with np.errstate(over="ignore", invalid="ignore"):
        offsets = np.asarray(values, dtype=np.float64) / 1000
    if offsets.ndim != 1:
        raise fail("\"clothing_mm\" must be a flat list of numbers")
    return offsets
