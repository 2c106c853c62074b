"""Viewport guides in a real window: floor grid, skeleton and the body mesh in place of the splats."""

from __future__ import annotations

import numpy as np
import pytest

from app.images import qimage_to_rgb
from app.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("gl_available")


@pytest.fixture
def window(window):  # the conftest's window, in body mode
    assert window.show_body("anny", "walk", splats=6000)
    window.player.show_time(0.3)
    return window


def _frame(win: MainWindow) -> np.ndarray:
    return qimage_to_rgb(win.viewport.grabFramebuffer()).astype(int)


def _foreground(win: MainWindow, pixels: np.ndarray) -> np.ndarray:
    bg = win.viewport.background
    return np.abs(pixels - [bg.red(), bg.green(), bg.blue()]).sum(-1) > 30


def test_floor_grid_draws_below_the_body(window):
    before = _frame(window)
    window.show_guide("grid", True)
    after = _frame(window)
    changed = np.abs(after - before).sum(-1) > 30
    rows = np.nonzero(changed.any(1))[0]
    assert changed.mean() > 0.01 and rows.min() > 0.5 * len(changed), "the grid should be on the floor, below"
    window.show_guide("grid", False)
    assert np.array_equal(_frame(window), before)


def test_skeleton_is_drawn_over_the_body(window):
    before = _frame(window)
    window.show_guide("skeleton", True)
    after = _frame(window)
    changed = np.abs(after - before).sum(-1) > 60
    assert changed.sum() > 100
    orange = (after[..., 0] > 200) & (after[..., 1] > 100) & (after[..., 1] < 200) & (after[..., 2] < 80)
    assert (orange & changed).sum() > 0.5 * changed.sum()
    body = _foreground(window, before)
    assert body[changed].mean() > 0.8, "the bones lie inside the body"


def test_mesh_replaces_the_splats_in_the_same_place(window):
    splats = _foreground(window, _frame(window))
    window.show_guide("mesh", True)
    mesh_frame = _frame(window)
    mesh = _foreground(window, mesh_frame)
    iou = (splats & mesh).sum() / (splats | mesh).sum()
    assert iou > 0.75, iou
    grey = np.abs(mesh_frame[mesh] - mesh_frame[mesh].mean(-1, keepdims=True)).max(-1) < 40
    assert grey.mean() > 0.9  # the shaded grey mesh, not the coloured splats
    window.player.show_time(0.9)  # the mesh follows the motion
    assert np.abs(_frame(window) - mesh_frame).mean() > 0.2
