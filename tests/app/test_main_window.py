"""The real main window with a real OpenGL viewport (Xvfb + Mesa in CI)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from app.images import qimage_to_rgb
from app.main_window import MainWindow
from core.io.ply import write_ply
from tests.app.qt_events import drop_files

pytestmark = pytest.mark.usefixtures("gl_available")


@pytest.fixture
def figure_ply(tmp_path, example_cloud):
    path = tmp_path / "figure.ply"
    write_ply(path, example_cloud)
    return path


def frame(win: MainWindow) -> np.ndarray:
    return qimage_to_rgb(win.viewport.grabFramebuffer())


def foreground(win: MainWindow, pixels: np.ndarray) -> np.ndarray:
    bg = win.viewport.background
    return np.abs(pixels.astype(int) - [bg.red(), bg.green(), bg.blue()]).sum(-1) > 30


def assert_figure_in_centre(win: MainWindow) -> None:
    fg = foreground(win, frame(win))
    h, w = fg.shape
    assert fg.mean() > 0.02, "viewport is blank"
    ys, xs = np.nonzero(fg)
    assert abs(xs.mean() - w / 2) < 0.1 * w and abs(ys.mean() - h / 2) < 0.15 * h


def test_empty_view_is_background(window):
    assert not foreground(window, frame(window)).any()


def test_open_by_drag_and_drop(window, figure_ply):
    drop_files(window, [figure_ply])
    assert window.current_path == figure_ply and window.last_error is None
    assert_figure_in_centre(window)
    assert "3,000 splats" in window._splat_label.text()


def test_open_by_file_menu(window, figure_ply, monkeypatch):
    # the native file dialog is the external boundary; the menu action and loading are real
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(figure_ply), ""))
    window.open_action.trigger()
    assert window.current_path == figure_ply
    assert_figure_in_centre(window)


def _mouse(widget, kind, pos: QPointF, buttons) -> None:
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_orbit_drag_changes_image(window, figure_ply):
    assert window.open_path(figure_ply)
    before = frame(window)
    view = window.viewport
    start = QPointF(160, 160)
    _mouse(view, QMouseEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    for step in range(1, 16):  # 225 px at 0.4°/px: a quarter turn
        _mouse(view, QMouseEvent.Type.MouseMove, start + QPointF(15 * step, 0), Qt.MouseButton.LeftButton)
    _mouse(view, QMouseEvent.Type.MouseButtonRelease, start + QPointF(225, 0), Qt.MouseButton.NoButton)
    after = frame(window)
    assert view.camera.azimuth == pytest.approx(1.5 * np.pi, abs=1e-6)
    assert np.abs(after.astype(int) - before).mean() > 1.0
    # the figure seen from the side is narrower than from the front
    assert foreground(window, after).sum() < 0.8 * foreground(window, before).sum()
    window.viewport.reset_view()
    assert np.abs(frame(window).astype(int) - before).max() <= 1


def test_wheel_zoom_and_frame(window, figure_ply, qtbot):
    assert window.open_path(figure_ply)
    framed = foreground(window, frame(window)).sum()
    qtbot.wait(1)
    window.viewport.camera.zoom(2.0)
    window.viewport.update()
    assert foreground(window, frame(window)).sum() < 0.5 * framed
    window.viewport.frame_object()
    assert foreground(window, frame(window)).sum() == pytest.approx(framed, rel=0.02)


def test_broken_file_shows_error_and_app_keeps_working(window, figure_ply, tmp_path):
    broken = tmp_path / "broken.ply"
    broken.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 100\nproperty float x\nend_header\n")
    assert not window.open_path(broken)
    assert window.error_dialog is not None and window.error_dialog.isVisible()
    assert "broken.ply" in window.last_error
    window.error_dialog.close()
    drop_files(window, [tmp_path / "notes.txt"])
    assert "not a file Avatarium can open" in window.last_error
    window.error_dialog.close()
    assert window.open_path(figure_ply)
    assert_figure_in_centre(window)


def test_save_screenshot(window, figure_ply, tmp_path):
    assert window.open_path(figure_ply)
    target = tmp_path / "shot.png"
    window.save_screenshot(target)
    with Image.open(target) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape == (320, 320, 3)
    assert np.array_equal(pixels, frame(window))
    with pytest.raises(OSError):
        window.save_screenshot(tmp_path / "shot.unknownformat")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.ply", "shot.png"]
