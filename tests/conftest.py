"""Test-suite set-up: one torch thread, OpenGL 4.1 core format, a virtual display when needed."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

torch.set_num_threads(1)


def pytest_configure(config: pytest.Config) -> None:
    from app.headless import has_display, start_virtual_display

    if not has_display() and shutil.which("Xvfb"):
        start_virtual_display()  # GUI tests need a real X server for OpenGL (offscreen has none)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if has_display() else "offscreen")

    from app.main import configure_opengl

    configure_opengl()  # before pytest-qt creates the QApplication
    _private_settings()


def _private_settings() -> None:
    """Keep QSettings (preferences, recent files) of test windows out of the user's own."""
    import tempfile

    from PySide6.QtCore import QSettings

    folder = tempfile.mkdtemp(prefix="avatarium-settings-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)


@pytest.fixture(scope="session")
def gl_available() -> None:
    """Skip (with the reason) where no X display can be had for OpenGL."""
    from app.headless import has_display

    if not has_display():
        pytest.skip("OpenGL tests need an X display or Xvfb (apt-get install xvfb libgl1-mesa-dri)")


@pytest.fixture(scope="session")
def example_cloud():
    from core.examples import figure_cloud

    return figure_cloud(3000)


#: Python source that makes every socket connection fail and records the attempts in ``attempts``;
#: tests prepend it to code run in a fresh interpreter to prove nothing goes to the network.
NO_NETWORK = """
import socket
attempts = []
class _NoNetwork(socket.socket):
    def connect(self, address):
        attempts.append(address)
        raise OSError("network disabled in this test")
    connect_ex = connect
socket.socket = _NoNetwork
def _refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("network disabled in this test")
socket.create_connection = _refuse
"""


@pytest.fixture
def no_network() -> str:
    """See :data:`NO_NETWORK`."""
    return NO_NETWORK


@pytest.fixture(scope="session")
def anny_body():
    """The anny body model, loaded once per session."""
    from core.body.anny_body import AnnyBody

    return AnnyBody()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, anny_body):
    """A tiny network trained for two steps on a tiny synthetic dataset: (model folder, data folder)."""
    from core.recon.model import ModelConfig
    from core.train.dataset import generate
    from core.train.train import TrainConfig, train

    root = tmp_path_factory.mktemp("tiny")
    data = generate(root / "data", anny_body, train=2, heldout=1, size=48, points=300)
    train(data, root / "model", ModelConfig(image_size=48, channels=(8, 8, 16, 16), dim=16, heads=2, layers=1),
          TrainConfig(steps=2, batch=2, warmup=1, eval_every=2), log=lambda _: None)
    return root / "model", data


@pytest.fixture(scope="session")
def wave_video(tmp_path_factory, anny_body):
    """A short video we render ourselves: a generated person waving (1 s, 30 fps, 480×360 H.264), with its
    truth (:class:`core.bench.motion.SyntheticVideo`)."""
    import numpy as np

    from core.bench.motion import render_video, turned_motion
    from core.body.motions import builtin_motion

    motion = turned_motion(builtin_motion("wave"), -20.0, seconds=1.0)
    path = tmp_path_factory.mktemp("video") / "wave.mp4"
    return render_video(anny_body, motion, path, np.random.default_rng(7), size=(480, 360), splats=20000)
