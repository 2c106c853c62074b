"""Nothing is executed: a malicious pickle planted in every format that could carry one is refused
with the reader's own error and never runs (the payload would write a marker file)."""

from __future__ import annotations

import io
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest


class _Exploit:
    """Unpickling this writes ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def _evil(marker: Path) -> np.ndarray:
    return np.array([_Exploit(marker)], dtype=object)


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "pwned.txt"
    yield path
    assert not path.exists(), "the planted pickle was executed"


def _replace_member(archive: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(archive) as source:
        contents = {name: source.read(name) for name in source.namelist()}
    contents[member] = data
    with zipfile.ZipFile(archive, "w") as target:
        for name, content in contents.items():
            target.writestr(name, content)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_motion_npz(tmp_path, marker):
    from core.body.motion_files import MotionError, load_amass

    path = tmp_path / "evil.npz"
    path.write_bytes(_npz(poses=_evil(marker), trans=np.zeros((1, 3)), mocap_framerate=np.array(30.0)))
    with pytest.raises(MotionError):
        load_amass(path)
    path.write_bytes(pickle.dumps(_Exploit(marker)))  # a bare pickle named .npz
    with pytest.raises(MotionError):
        load_amass(path)


def test_avatar_bundle(tmp_path, marker):
    from core.persist.bundle import BundleError, load_bundle
    from tests.fuzz.readers import _seed_bundle

    path = tmp_path / "evil.avatar"
    path.write_bytes(_seed_bundle(tmp_path))
    _replace_member(path, "binding.npz", _npz(triangles=_evil(marker), barycentric=_evil(marker),
                                              bone_indices=_evil(marker), bone_weights=_evil(marker),
                                              bone_parents=_evil(marker)))
    with pytest.raises(BundleError):
        load_bundle(path)


def test_session(tmp_path, marker):
    from core.persist.session import SessionError, load_session
    from tests.fuzz.readers import _write_session

    folder = tmp_path / "session"
    _write_session(folder)
    (folder / "photo.npz").write_bytes(_npz(rgb=_evil(marker), mask=_evil(marker), keypoints=_evil(marker),
                                            box=_evil(marker), half_body=_evil(marker), mask_source=_evil(marker)))
    with pytest.raises(SessionError):
        load_session(folder)


def test_network_query_points(tmp_path, marker):
    from core.recon.loading import ModelError, load_network
    from core.resources import resource_path

    folder = tmp_path / "network"
    shutil.copytree(resource_path("models", "avatarium-small"), folder)
    (folder / "query.npz").write_bytes(_npz(triangles=_evil(marker)))
    with pytest.raises(ModelError):
        load_network(folder)
    (folder / "model.safetensors").write_bytes(pickle.dumps(_Exploit(marker)))  # weights are never unpickled
    with pytest.raises(ModelError):
        load_network(folder)


def test_training_dataset_shard(tmp_path, marker, tiny_model):
    from core.train.dataset import DatasetError, load_split

    _, data = tiny_model
    folder = tmp_path / "data"
    shutil.copytree(data, folder)
    shard = sorted(folder.glob("train-*.npz"))[0]
    with np.load(shard) as arrays:
        content = {key: arrays[key] for key in arrays.files}
    content["image"] = _evil(marker)
    shard.write_bytes(_npz(**content))
    with pytest.raises(DatasetError):
        load_split(folder, "train")


def test_anny_body_data(tmp_path, marker):
    from core.body.anny_data import BodyDataError, load_model_data

    path = tmp_path / "anny.npz"
    path.write_bytes(_npz(manifest=_evil(marker)))
    with pytest.raises(BodyDataError):
        load_model_data(path)


def test_fit_and_checkpoint_json_cannot_carry_code(tmp_path, marker):
    """JSON has no code: a pickle where JSON belongs is just refused."""
    from core.fit.result import BodyFit, FitFileError

    path = tmp_path / "fit.json"
    path.write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(FitFileError):
        BodyFit.load(path)
