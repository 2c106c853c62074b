"""Motions written in every format and read back: by our readers, by pygltflib and by PyPI's ``bvh``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from bvh import Bvh
from pygltflib import GLTF2

from core.body.motion_files import load_amass, load_smplx_json_folder
from core.body.motions import builtin_motion
from core.export.motion_files import save_amass, save_motion, save_smplx_json_folder
from core.rotations import axis_angle_to_rotmat


def _same_motion(a, b) -> None:
    assert len(a) == len(b) and a.fps == pytest.approx(b.fps)
    # compare rotations, not rotation vectors (a vector near π may come back flipped)
    assert torch.allclose(axis_angle_to_rotmat(a.poses), axis_angle_to_rotmat(b.poses), atol=1e-4)
    assert torch.allclose(a.trans, b.trans, atol=1e-5)


@pytest.fixture(scope="module")
def walk():
    return builtin_motion("walk", 24.0)


def test_amass_round_trip_in_z_up(tmp_path, walk):
    path = save_amass(tmp_path / "walk.npz", walk)
    with np.load(path, allow_pickle=False) as npz:
        assert npz["poses"].shape == (len(walk), 165) and float(npz["mocap_framerate"]) == 24.0
        assert str(npz["surface_model_type"]) == "smplx"
        # AMASS is Z up: our height (Y) is their Z
        assert np.allclose(npz["trans"][:, 2], walk.trans[:, 1].numpy(), atol=1e-6)
    _same_motion(load_amass(path), walk)
    with pytest.raises(ValueError, match=r"\.npz"):
        save_amass(tmp_path / "walk.txt", walk)


def test_json_folder_round_trip_and_atomic_replacement(tmp_path, walk):
    folder = save_smplx_json_folder(tmp_path / "walk", walk)
    files = sorted(folder.glob("*.json"))
    assert [f.name for f in files[:2]] == ["00000.json", "00001.json"] and len(files) == len(walk)
    first = json.loads(files[0].read_text())
    assert len(first["body_pose"]) == 21 and first["fps"] == 24.0
    _same_motion(load_smplx_json_folder(folder), walk)
    shorter = builtin_motion("wave", 12.0)
    save_smplx_json_folder(folder, shorter)  # replaces the old frames wholesale, no stale ones left
    assert len(list(folder.glob("*.json"))) == len(shorter)
    assert [p.name for p in tmp_path.iterdir()] == ["walk"]  # no staging folders left behind
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        save_smplx_json_folder(tmp_path / "file", walk)


def test_save_motion_picks_the_format_by_suffix(tmp_path, walk, anny_body):
    shape = np.full(6, 0.5, np.float32)
    glb = save_motion(tmp_path / "walk.glb", walk, anny_body, shape)
    gltf = GLTF2().load(str(glb))
    assert len(gltf.animations) == 1
    sampler = gltf.animations[0].samplers[0]
    assert gltf.accessors[sampler.input].count == len(walk)
    bvh = Bvh(save_motion(tmp_path / "walk.bvh", walk, anny_body, shape).read_text())
    assert bvh.nframes == len(walk)
    _same_motion(load_amass(save_motion(tmp_path / "walk.npz", walk, anny_body, shape)), walk)
    _same_motion(load_smplx_json_folder(save_motion(tmp_path / "frames", walk, anny_body, shape)), walk)
    with pytest.raises(ValueError, match=r"\.bvh"):
        save_motion(tmp_path / "walk.fbx", walk, anny_body, shape)
