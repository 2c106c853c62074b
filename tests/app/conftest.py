"""App test fixtures: a shown main window with a real OpenGL viewport, and a document holding a
small avatar on the real anny body (no photo)."""

from __future__ import annotations

import numpy as np
import pytest

from app.document import AvatarDocument
from app.main_window import MainWindow
from core.avatar.avatar import Avatar
from core.avatar.body_splats import body_splats
from core.fit.result import BodyFit


@pytest.fixture
def window(qtbot, gl_available) -> MainWindow:
    win = MainWindow()
    win.viewport.setFixedSize(320, 320)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(win.viewport.isValid)
    assert win.viewport.gl_error is None, win.viewport.gl_error
    return win


@pytest.fixture(scope="session")
def small_avatar(anny_body) -> Avatar:
    shape = anny_body.default_shape()
    cloud, binding = body_splats(anny_body, shape, 1500, seed=5)
    return Avatar(cloud, binding, "anny", shape[0].numpy())


@pytest.fixture
def document(qapp, anny_body, small_avatar) -> AvatarDocument:
    """A fresh reconstruction: the fit's pose lowers the left arm (shoulder z = −1 rad)."""
    doc = AvatarDocument()
    pose = np.zeros((55, 3), np.float32)
    pose[16] = (0.0, 0.0, -1.0)
    fit = BodyFit("anny", small_avatar.shape, pose, np.zeros(3), np.eye(3), (64, 64))
    doc.set_reconstruction(anny_body, None, None, fit, small_avatar)
    return doc
