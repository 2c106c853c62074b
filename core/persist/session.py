"""A working session on disk, for crash recovery: the avatar, its fit, the photo and the detected
person, and the editing state (pose, pins, locks).

A session folder holds ``avatar.avatar`` (the bundle, :mod:`core.persist.bundle`), ``photo.npz`` (the
photo's processing copy and the person observation; NumPy arrays, no pickles) and ``state.json``
(``"format": "avatarium-session"``, ``"version": 1``, ``pid`` of the writing process, ``saved``
(UTC), ``pose`` [55][3] radians, ``pins``, ``locked``, ``source`` (the photo's path) and ``bundle``
(where the user saved the avatar, or null)). Every file is written atomically and ``state.json``
last, so a session is complete whenever ``state.json`` exists; a damaged one raises
:class:`SessionError`.
"""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.avatar.avatar import Avatar
from core.body.joints import NUM_JOINTS
from core.detect.person import PersonObservation
from core.fit.result import BodyFit
from core.io.archive import DAMAGED_ARCHIVE
from core.io.atomic import write_bytes_atomic
from core.io.errors import read_errors_as
from core.io.images import Photo

FORMAT = "avatarium-session"
VERSION = 1
_FILES = ("state.json", "avatar.avatar", "photo.npz")


class SessionError(ValueError):
    """A session folder cannot be read; the message says why."""


@dataclass
class Session:
    avatar: Avatar
    fit: BodyFit | None
    photo: Photo | None
    observation: PersonObservation | None
    pose: np.ndarray  # [55, 3] radians
    pins: dict[str, tuple[float, float]] = field(default_factory=dict)
    locked: tuple[str, ...] = ()
    bundle: Path | None = None  # where the avatar was saved by the user, if it was
    pid: int = 0  # the process that wrote it
    saved: str = ""  # UTC time


def save_session(folder: str | os.PathLike[str], session: Session) -> Path:
    """Write ``session`` into ``folder`` (created); the state file written last."""
    from core.persist.bundle import save_bundle

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_bundle(folder / "avatar.avatar", session.avatar, session.fit)
    if session.photo is not None and session.observation is not None:
        o = session.observation
        buffer = io.BytesIO()
        np.savez_compressed(buffer, rgb=session.photo.rgb, mask=o.mask.astype(np.float32), keypoints=o.keypoints,
                            box=np.asarray(o.box, np.int64), half_body=np.asarray(o.half_body),
                            mask_source=np.asarray(o.mask_source), **({} if o.world is None else {"world": o.world}))
        write_bytes_atomic(folder / "photo.npz", buffer.getvalue())
    else:
        (folder / "photo.npz").unlink(missing_ok=True)
    source = session.photo.source if session.photo is not None else None
    state = {"format": FORMAT, "version": VERSION, "pid": os.getpid(),
             "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "pose": np.asarray(session.pose, np.float64).reshape(NUM_JOINTS, 3).tolist(),
             "pins": {name: [float(x), float(y)] for name, (x, y) in session.pins.items()},
             "locked": list(session.locked), "source": None if source is None else str(source),
             "bundle": None if session.bundle is None else str(session.bundle)}
    write_bytes_atomic(folder / "state.json", json.dumps(state).encode())
    return folder


def clear_session(folder: str | os.PathLike[str]) -> None:
    """Remove a session (the state file first, so a half-removed session is no session)."""
    for name in _FILES:
        (Path(folder) / name).unlink(missing_ok=True)


def session_state(folder: str | os.PathLike[str]) -> dict | None:
    """The state of the session in ``folder``, or None when there is none."""
    path = Path(folder) / "state.json"
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_bytes()[:1_000_000])
    except (OSError, ValueError) as exc:
        raise SessionError(f"the recovered session is damaged ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise SessionError("the recovered session is not one this version of Avatarium wrote")
    return state


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (then its session is not abandoned)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_session(folder: str | os.PathLike[str]) -> Session:
    """Read the session in ``folder`` (raises :class:`SessionError`, also when there is none)."""
    from core.persist.bundle import BundleError, load_bundle

    folder = Path(folder)
    state = session_state(folder)
    if state is None:
        raise SessionError(f"there is no session in {folder}")
    with read_errors_as(SessionError, "the recovered avatar is damaged", (), readers=(BundleError,)):
        bundle = load_bundle(folder / "avatar.avatar")
    with read_errors_as(SessionError, "the recovered session is damaged", (KeyError, TypeError, *DAMAGED_ARCHIVE)):
        pose = np.asarray(state["pose"], np.float32)
        if pose.shape != (NUM_JOINTS, 3) or not np.isfinite(pose).all():
            raise SessionError("the recovered session has an invalid pose")
        pins = {str(k): (float(v[0]), float(v[1])) for k, v in dict(state.get("pins") or {}).items()}
        locked = tuple(str(j) for j in state.get("locked") or ())
        photo = observation = None
        if (folder / "photo.npz").is_file():
            with np.load(folder / "photo.npz", allow_pickle=False) as data:
                rgb, mask = data["rgb"], data["mask"]
                if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or mask.shape != rgb.shape[:2]:
                    raise SessionError("the recovered photo is damaged")
                source = state.get("source")
                photo = Photo(rgb, None, rgb, None, 1.0, Path(source) if source else None)
                observation = PersonObservation(mask.astype(np.float32), data["keypoints"].astype(np.float64),
                                                tuple(int(v) for v in data["box"]), bool(data["half_body"]),
                                                str(data["mask_source"]),
                                                world=_optional(data, "world"))
    return Session(bundle.avatar, bundle.fit, photo, observation, pose, pins, locked,
                   Path(state["bundle"]) if state.get("bundle") else None, int(state.get("pid") or 0),
                   str(state.get("saved") or ""))


def _optional(data: np.lib.npyio.NpzFile, key: str) -> np.ndarray | None:
    """``data[key]`` as float32, or None when the file has no such array (sessions saved before it)."""
    return data[key].astype(np.float32) if key in data.files else None
