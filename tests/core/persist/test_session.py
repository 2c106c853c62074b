"""Crash-recovery sessions: written atomically, read back losslessly, damage reported."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.avatar.avatar import Avatar
from core.avatar.body_splats import body_splats
from core.detect.person import PersonObservation
from core.fit.result import BodyFit
from core.io.images import Photo
from core.persist.session import Session, SessionError, clear_session, load_session, process_alive, save_session


@pytest.fixture(scope="module")
def session(anny_body) -> Session:
    shape = anny_body.default_shape()
    cloud, binding = body_splats(anny_body, shape, 800, seed=2)
    avatar = Avatar(cloud, binding, "anny", shape[0].numpy())
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)
    photo = Photo(rgb, None, rgb, None, 1.0, None)
    observation = PersonObservation(rng.random((40, 30)).astype(np.float32), rng.random((33, 3)), (2, 3, 28, 39),
                                    False, "mediapipe", world=rng.random((33, 4)).astype(np.float32))
    pose = rng.normal(0, 0.2, (55, 3)).astype(np.float32)
    fit = BodyFit("anny", avatar.shape, pose, np.zeros(3), np.eye(3), (30, 40))
    return Session(avatar, fit, photo, observation, pose * 2, {"left_wrist": (3.5, 4.25)}, ("left_elbow",))


def test_round_trip(tmp_path, session):
    save_session(tmp_path, session)
    back = load_session(tmp_path)
    assert torch.equal(back.avatar.cloud.means, session.avatar.cloud.means)
    assert np.array_equal(back.fit.pose, session.fit.pose) and np.array_equal(back.pose, session.pose)
    assert np.array_equal(back.photo.rgb, session.photo.rgb)
    assert np.array_equal(back.observation.mask, session.observation.mask)
    assert np.allclose(back.observation.keypoints, session.observation.keypoints)
    assert back.observation.box == session.observation.box and back.observation.mask_source == "mediapipe"
    assert np.array_equal(back.observation.world, session.observation.world)
    assert back.pins == session.pins and back.locked == session.locked and back.pid > 0


def test_an_observation_without_3d_landmarks(tmp_path, session):
    from dataclasses import replace

    save_session(tmp_path, replace(session, observation=replace(session.observation, world=None)))
    assert load_session(tmp_path).observation.world is None


def test_a_session_without_photo(tmp_path, session):
    save_session(tmp_path, Session(session.avatar, None, None, None, session.pose))
    back = load_session(tmp_path)
    assert back.photo is None and back.observation is None and back.fit is None


def test_damage_is_a_session_error(tmp_path, session):
    save_session(tmp_path, session)
    state = json.loads((tmp_path / "state.json").read_text())
    state["pose"] = [[0.0, 0.0]]
    (tmp_path / "state.json").write_text(json.dumps(state))
    with pytest.raises(SessionError, match="invalid pose"):
        load_session(tmp_path)
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(SessionError, match="damaged"):
        load_session(tmp_path)
    save_session(tmp_path, session)
    (tmp_path / "avatar.avatar").write_bytes(b"PK\x03\x04")
    with pytest.raises(SessionError, match="avatar is damaged"):
        load_session(tmp_path)
    clear_session(tmp_path)
    with pytest.raises(SessionError, match="no session"):
        load_session(tmp_path)


def test_process_alive():
    import os

    assert process_alive(os.getpid())
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    assert not process_alive(int(finished.stdout))
    assert not process_alive(0)
