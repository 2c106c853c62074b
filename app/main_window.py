"""The main window: splat viewport, File / View menus, drag and drop, status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QColorDialog, QFileDialog, QLabel, QMainWindow, QMessageBox

from app.images import encode_image
from app.viewport.gl_widget import SplatViewport
from core.avatar.avatar import Avatar
from core.io.atomic import atomic_write
from core.io.ply import PlyError, read_ply

OPENABLE_SUFFIXES = (".ply", ".avatar")


class MainWindow(QMainWindow):
    """Avatarium's main window. Errors are shown in a non-blocking dialog (``last_error``)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Avatarium")
        self.resize(1100, 800)
        self.setAcceptDrops(True)
        self.viewport = SplatViewport(self)
        self.setCentralWidget(self.viewport)
        self.current_path: Path | None = None
        self.player = None  # BodyPlayer in body mode
        self.error_dialog: QMessageBox | None = None
        self.last_error: str | None = None
        self._splat_label = QLabel("no file")
        widest = "000,000,000 splats (SH degree 3)"
        self._splat_label.setMinimumWidth(self._splat_label.fontMetrics().horizontalAdvance(widest))
        self._fps_label = QLabel("")
        self.statusBar().addPermanentWidget(self._splat_label)
        self.statusBar().addPermanentWidget(self._fps_label)
        self.viewport.fps_changed.connect(self._show_fps)
        self.viewport.gl_failed.connect(lambda message: self.show_error("OpenGL problem", message))
        self._build_menus()

    # ---------------------------------------------------------------- menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.screenshot_action = self._action(file_menu, "Save &Screenshot…", self.screenshot_dialog, "Ctrl+Shift+S")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        view_menu = self.menuBar().addMenu("&View")
        self._action(view_menu, "&Frame Object", self.viewport.frame_object, "F")
        self._action(view_menu, "&Reset View", self.viewport.reset_view, "Home")
        self._action(view_menu, "&Background Colour…", self.background_dialog)
        animation_menu = self.menuBar().addMenu("&Animation")
        self.play_action = self._action(animation_menu, "&Play / Pause", self.toggle_playback, "Space")
        self._action(animation_menu, "&Restart", self.restart_playback, "Ctrl+R")

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # ---------------------------------------------------------------- opening files
    def open_path(self, path: str | Path) -> bool:
        """Open a splat file; on failure show an error dialog and keep the current view."""
        path = Path(path)
        if path.suffix.lower() not in OPENABLE_SUFFIXES:
            self.show_error("Cannot open file", f"{path.name} is not a file Avatarium can open.\n"
                            "Open a 3D Gaussian splat file (.ply) or an avatar (.avatar).")
            return False
        if path.suffix.lower() == ".avatar":
            return self.show_avatar(path)
        try:
            cloud = read_ply(path)
        except PlyError as exc:
            self.show_error("Cannot open file", f"{exc}\n\nThe previous view is unchanged.")
            return False
        if self.player is not None:
            self.player.pause()
            self.player = None
        self.viewport.set_cloud(cloud)
        self.current_path = path
        self.setWindowTitle(f"{path.name} — Avatarium")
        self._splat_label.setText(f"{len(cloud):,} splats (SH degree {cloud.sh_degree})")
        self.statusBar().showMessage(f"Opened {path.name}", 5000)
        return True

    def show_avatar(self, path: str | Path, motion: str = "idle") -> bool:
        """Open an avatar bundle and play ``motion`` on it; on failure an error dialog, view unchanged."""
        from core.io.bundle import BundleError, load_bundle

        path = Path(path)
        try:
            bundle = load_bundle(path)
        except BundleError as exc:
            self.show_error("Cannot open the avatar", f"{exc}\n\nThe previous view is unchanged.")
            return False
        if not self.show_body(bundle.avatar.body_model, motion, avatar=bundle.avatar, title=path.name):
            return False
        self.current_path = path
        return True

    def show_body(self, body_name: str = "anny", motion: str = "walk", splats: int = 20000,
                  avatar: Avatar | None = None, title: str | None = None) -> bool:
        """Body mode: the body model as splats (or ``avatar`` on it), animated by ``motion`` (built-in
        name or file)."""
        from app.body_player import BodyPlayer
        from core.body.model import load_body_model
        from core.io.motion import MotionError, load_motion

        try:
            body = load_body_model(body_name)
            clip = load_motion(motion)
        except (ValueError, KeyError, OSError) as exc:  # BodyModelError, MotionError, BodyDataError
            kind = "motion" if isinstance(exc, MotionError) else "body model"
            self.show_error(f"Cannot load the {kind}", str(exc))
            return False
        if self.player is not None:
            self.player.pause()
        self.player = BodyPlayer(self.viewport, body, clip, splats, avatar)
        self.player.frame_changed.connect(
            lambda t: self.statusBar().showMessage(f"{clip.name}: {t:5.2f} / {clip.duration:.2f} s"))
        self.current_path = None
        self.setWindowTitle(f"{title or body_name} — {clip.name} — Avatarium")
        self._splat_label.setText(f"{len(self.player.cloud):,} splats, {len(body.bone_names)} bones")
        return True

    def toggle_playback(self) -> None:
        if self.player is not None:
            self.player.toggle()

    def restart_playback(self) -> None:
        if self.player is not None:
            self.player.show_time(0.0)

    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open splats or an avatar", "",
                                              "Splats and avatars (*.ply *.avatar);;3D Gaussian splats (*.ply);;"
                                              "Avatars (*.avatar)")
        if name:
            self.open_path(name)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls: list[QUrl] = event.mimeData().urls()
        local = [url.toLocalFile() for url in urls if url.isLocalFile()]
        if not local:
            self.show_error("Cannot open", "Only files on this computer can be dropped here.")
            return
        event.acceptProposedAction()
        self.open_path(local[0])

    # ---------------------------------------------------------------- other actions
    def save_screenshot(self, path: str | Path) -> None:
        """Write the viewport image to ``path`` (format from the suffix, e.g. .png), atomically."""
        path = Path(path)
        data = encode_image(self.viewport.grabFramebuffer(), path.suffix.lstrip(".") or "png")
        with atomic_write(path) as stream:
            stream.write(data)

    def screenshot_dialog(self) -> None:
        default = (self.current_path.stem if self.current_path else "avatarium") + ".png"
        name, _ = QFileDialog.getSaveFileName(self, "Save screenshot", default, "Images (*.png *.jpg)")
        if not name:
            return
        try:
            self.save_screenshot(name)
        except OSError as exc:
            self.show_error("Screenshot not saved", f"Could not write {name}: {exc}")
        else:
            self.statusBar().showMessage(f"Saved {name}", 5000)

    def background_dialog(self) -> None:
        color = QColorDialog.getColor(self.viewport.background, self, "Background colour")
        if color.isValid():
            self.viewport.set_background(color)

    def show_error(self, title: str, message: str) -> None:
        """Non-blocking error dialog; the window stays usable."""
        self.last_error = message
        if self.error_dialog is not None:
            self.error_dialog.close()
        self.error_dialog = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        self.error_dialog.open()
        self.statusBar().showMessage(message.splitlines()[0], 8000)

    def _show_fps(self, fps: float) -> None:
        self._fps_label.setText(f"{fps:.0f} FPS" if fps else "")
