"""Start the desktop app, or render its views to files when there is no screen."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PySide6.QtGui import QSurfaceFormat
from PySide6.QtWidgets import QApplication

from app.images import encode_image
from app.main_window import MainWindow
from core.io.atomic import atomic_write


def configure_opengl() -> None:
    """Ask for an OpenGL 4.1 core context (what macOS offers); must run before QApplication."""
    fmt = QSurfaceFormat()
    fmt.setRenderableType(QSurfaceFormat.RenderableType.OpenGL)
    fmt.setVersion(4, 1)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    fmt.setSwapInterval(0)
    fmt.setDepthBufferSize(24)  # the body-mesh guide
    QSurfaceFormat.setDefaultFormat(fmt)


def application() -> QApplication:
    """The process's QApplication, created (with the GL format set) on first use."""
    app = QApplication.instance()
    if app is None:
        configure_opengl()
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Avatarium")
        app.setOrganizationName("Avatarium")
    return app


def process_events_until(predicate, timeout_s: float, what: str = "the app") -> None:
    """Run the Qt event loop until ``predicate()`` is true; RuntimeError after ``timeout_s`` seconds."""
    import time

    app = application()
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not get there in {timeout_s:.0f} s")
        app.processEvents()
        time.sleep(0.002)


def wait_until_painted(window: MainWindow, timeout_s: float = 20.0) -> None:
    """Process events until the viewport has a GL context (window shown and exposed)."""
    process_events_until(window.viewport.isValid, timeout_s, "the 3D view (no OpenGL context)")


def run_viewer(path: Path | None, body: str | None = None, motion: str = "walk", splats: int = 20000) -> int:
    """Open the main window on ``path`` (a photo is reconstructed, an avatar plays ``motion``), or in
    body mode on ``body`` playing ``motion``; run the event loop."""
    from app.autosave import default_recovery_folder
    from app.log import install_error_hook, start_logging

    app = application()
    start_logging()
    window = MainWindow(recovery_folder=default_recovery_folder())
    install_error_hook(window.show_error)
    window.show()
    if window.offer_recovery():
        path = body = None
    if body is not None:
        if window.show_body(body, motion, splats):
            window.player.play()
    elif path is not None and path.suffix.lower() == ".avatar":
        if window.show_avatar(path, motion):
            window.timeline.play()
    elif path is not None:
        window.open_path(path)
    if not window.jobs.busy:
        window.warm_up()
    return app.exec()


def render_body_frames(body: str, motion: str, out_dir: Path, frames: int = 4, size: int = 800,
                       splats: int = 20000, avatar: Path | None = None) -> list[Path]:
    """Body mode without a screen: ``frames`` evenly spaced frames of the motion, as PNGs; with
    ``avatar`` (a .avatar bundle) the motion plays on that avatar instead of the bare body."""
    window = _offscreen_window(size)
    try:
        shown = window.show_avatar(avatar, motion) if avatar is not None else window.show_body(body, motion, splats)
        if not shown:
            raise RuntimeError(window.last_error or "body mode failed")
        if avatar is not None:
            body = avatar.stem
        out_dir.mkdir(parents=True, exist_ok=True)
        clip = window.player.motion
        written = []
        for i in range(frames):
            seconds = clip.duration * i / max(frames, 1)
            window.player.show_time(seconds)
            target = out_dir / f"{body}_{clip.name}_{i:02d}_{seconds:05.2f}s.png"
            window.save_screenshot(target)
            written.append(target)
    finally:
        window.close()
    return written


def _offscreen_window(size: int) -> MainWindow:
    """A shown main window whose viewport is ``size``² pixels, ready to draw."""
    application()
    window = MainWindow()
    window.viewport.setFixedSize(size, size)
    window.show()
    window.adjustSize()
    wait_until_painted(window)
    return window


def render_views(path: Path, out_dir: Path, views: int = 4, size: int = 800) -> list[Path]:
    """Screenshots of ``path`` from ``views`` azimuths around it, written as PNGs into ``out_dir``,
    then one of the whole window (``<stem>_window.png``, the README's screenshot)."""
    window = _offscreen_window(size)
    if not window.open_path(path):
        raise RuntimeError(window.last_error or f"cannot open {path}")
    if window.viewport.gl_error:
        raise RuntimeError(window.viewport.gl_error)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(views):
        window.viewport.camera.azimuth = 2 * math.pi * i / views
        target = out_dir / f"{path.stem}_view{i:02d}_az{round(360 * i / views):03d}.png"
        window.save_screenshot(target)
        written.append(target)
    window.viewport.camera.azimuth = 0.6
    window.viewport.camera.elevation = 0.2
    window.viewport.repaint()  # draw the new view into the widget before grabbing the window
    application().processEvents()
    target = out_dir / f"{path.stem}_window.png"
    with atomic_write(target) as stream:
        stream.write(encode_image(window.grab().toImage(), "PNG"))
    written.append(target)
    window.close()
    return written
