"""Every file reader of Avatarium as a fuzz target: bytes in, a result or the reader's one
documented error out. Anything else (another exception, a crash, a hang) is a bug.

Used by ``tests/core/test_fuzz_readers.py`` (hypothesis, in CI) and ``tests/fuzz/run_atheris.py``
(coverage-guided, run by hand). Each reader has a seed: the bytes of a valid file to mutate.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Reader:
    name: str
    suffix: str  # the input file's suffix
    read: Callable[[Path], object]  # reads the input file at this path
    errors: tuple[type[Exception], ...]  # what it may raise
    seed: Callable[[Path], bytes]  # a valid input (given a scratch folder)


def check(reader: Reader, data: bytes, folder: Path) -> str:
    """Feed ``data`` to ``reader``: "ok" or "error" (its documented error); anything else raises."""
    path = folder / f"input{reader.suffix}"
    path.write_bytes(data)
    try:
        reader.read(path)
    except reader.errors:
        return "error"
    return "ok"


# ---------------------------------------------------------------- readers and seeds
def _read_image(path: Path):
    from core.io.images import load_image

    return load_image(path)


def _seed_png(_folder: Path) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (24, 16, 4), dtype=np.uint8), "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def _seed_jpeg(_folder: Path) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (24, 16, 3), dtype=np.uint8)).save(buffer, "JPEG",
                                                                                                  exif=b"Exif\0\0")
    return buffer.getvalue()


def _read_ply(path: Path):
    from core.io.ply import read_ply

    return read_ply(path)


def _seed_ply(folder: Path) -> bytes:
    from core.examples import figure_cloud
    from core.io.ply import write_ply

    write_ply(folder / "seed.ply", figure_cloud(16))
    return (folder / "seed.ply").read_bytes()


def _read_amass(path: Path):
    from core.body.motion_files import load_amass

    return load_amass(path)


def _seed_amass(_folder: Path) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, poses=np.zeros((4, 165)), trans=np.zeros((4, 3)), mocap_framerate=np.array(30.0))
    return buffer.getvalue()


def _read_motion_json(path: Path):
    from core.body.motion_files import load_smplx_json_folder

    folder = path.parent / "frames"
    folder.mkdir(exist_ok=True)
    shutil.copy(path, folder / "0000.json")
    return load_smplx_json_folder(folder)


def _seed_motion_json(_folder: Path) -> bytes:
    return json.dumps({"root_pose": [0.1, 0, 0], "body_pose": [[0, 0, 0]] * 21, "trans": [0, 0, 2],
                       "lhand_pose": [[0, 0, 0]] * 15}).encode()


def _read_bundle(path: Path):
    from core.persist.bundle import load_bundle

    return load_bundle(path)


def _seed_bundle(folder: Path) -> bytes:
    import torch

    from core.avatar.avatar import Avatar
    from core.avatar.binding import Binding
    from core.gaussians import GaussianCloud
    from core.persist.bundle import save_bundle

    count = 4
    cloud = GaussianCloud(torch.randn(count, 3), torch.tensor([1.0, 0, 0, 0]).repeat(count, 1),
                          torch.full((count, 3), -4.0), torch.zeros(count), torch.zeros(count, 1, 3))
    binding = Binding(torch.arange(count), torch.full((count, 3), 1 / 3), torch.zeros(count, 2, dtype=torch.long),
                      torch.tensor([[1.0, 0.0]]).repeat(count, 1), (-1, 0))
    save_bundle(folder / "seed.avatar", Avatar(cloud, binding, "anny", np.full(6, 0.5, np.float32)), _fit())
    return (folder / "seed.avatar").read_bytes()


def _fit():
    from core.fit.result import BodyFit

    return BodyFit(body_model="anny", shape=np.full(6, 0.5), pose=np.zeros((55, 3)), root=np.zeros(3), K=np.eye(3),
                   image_size=(10, 10), pins={"left_wrist": (1.0, 2.0)})


def _read_fit(path: Path):
    from core.fit.result import BodyFit

    return BodyFit.load(path)


def _seed_fit(folder: Path) -> bytes:
    return _fit().save(folder / "seed.json").read_bytes()


def _read_smplx(path: Path):
    from core.body.smplx_body import load_smplx_arrays

    return load_smplx_arrays(path)


def _seed_smplx(folder: Path) -> bytes:
    from core.body.anny_body import AnnyBody
    from tests.synthetic_smplx import write_synthetic_smplx

    return write_synthetic_smplx(folder / "SMPLX_NEUTRAL.npz", AnnyBody()).read_bytes()


def _read_config(path: Path):
    from core.train.train import load_config

    return load_config(path)


def _seed_config(_folder: Path) -> bytes:
    from core.resources import resource_path

    return resource_path("models", "avatarium-small", "config.json").read_bytes()


def _read_network(path: Path):
    """``path`` is the checkpoint.json of a copy of the shipped network folder."""
    from core.recon.loading import load_network
    from core.resources import resource_path

    folder = path.parent / "network"
    if not folder.is_dir():
        shutil.copytree(resource_path("models", "avatarium-small"), folder)
    shutil.copy(path, folder / "checkpoint.json")
    return load_network(folder)


def _seed_network(_folder: Path) -> bytes:
    from core.resources import resource_path

    return resource_path("models", "avatarium-small", "checkpoint.json").read_bytes()


def _read_session(path: Path):
    """``path`` is the state.json of a valid session."""
    from core.persist.session import load_session

    folder = path.parent / "session"
    if not folder.is_dir():
        _write_session(folder)
    shutil.copy(path, folder / "state.json")
    return load_session(folder)


def _write_session(folder: Path) -> None:
    from core.persist.bundle import load_bundle
    from core.persist.session import Session, save_session

    folder.mkdir(parents=True)
    _seed_bundle(folder)
    avatar = load_bundle(folder / "seed.avatar").avatar
    save_session(folder, Session(avatar, _fit(), None, None, np.zeros((55, 3), np.float32), {"left_wrist": (1, 2)}))


def _seed_session(folder: Path) -> bytes:
    _write_session(folder / "seed-session")
    return (folder / "seed-session" / "state.json").read_bytes()


def _errors() -> dict[str, tuple[type[Exception], ...]]:
    from core.body.motion_files import MotionError
    from core.body.smplx_body import BodyModelError
    from core.fit.result import FitFileError
    from core.io.images import ImageLoadError
    from core.io.ply import PlyError
    from core.persist.bundle import BundleError
    from core.persist.session import SessionError
    from core.recon.loading import ModelError
    from core.train.train import TrainingError

    return {"image": (ImageLoadError,), "ply": (PlyError,), "motion": (MotionError,), "bundle": (BundleError,),
            "fit": (FitFileError,), "smplx": (BodyModelError,), "config": (TrainingError,), "network": (ModelError,),
            "session": (SessionError,)}


def readers() -> list[Reader]:
    errors = _errors()
    return [
        Reader("png", ".png", _read_image, errors["image"], _seed_png),
        Reader("jpeg", ".jpg", _read_image, errors["image"], _seed_jpeg),
        Reader("ply", ".ply", _read_ply, errors["ply"], _seed_ply),
        Reader("amass", ".npz", _read_amass, errors["motion"], _seed_amass),
        Reader("motion_json", ".json", _read_motion_json, errors["motion"], _seed_motion_json),
        Reader("bundle", ".avatar", _read_bundle, errors["bundle"], _seed_bundle),
        Reader("fit", ".json", _read_fit, errors["fit"], _seed_fit),
        Reader("smplx", ".npz", _read_smplx, errors["smplx"], _seed_smplx),
        Reader("config", ".json", _read_config, errors["config"], _seed_config),
        Reader("network", ".json", _read_network, errors["network"], _seed_network),
        Reader("session", ".json", _read_session, errors["session"], _seed_session),
    ]


READER_NAMES = ("png", "jpeg", "ply", "amass", "motion_json", "bundle", "fit", "smplx", "config", "network",
                "session")
