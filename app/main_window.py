"""The main window: the splat viewport with the motion timeline, the photo / fit editor (left), the
pose and shape panels (right), menus, drag and drop, and a status bar with job progress.

Reconstruction, refits and exports run as background jobs (:mod:`app.jobs`, :mod:`app.tasks`);
the document (:mod:`app.document`) holds what is shown. Errors are shown in a non-blocking dialog
(``last_error``) and never end the app.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QColorDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.autosave import Autosave
from app.document import AvatarDocument
from app.export_menu import KINDS, NEEDS_FIT, VideoOptions
from app.images import encode_image
from app.jobs import JobRunner
from app.menus import build_menus, fill_recent_menu
from app.panels.fit_editor import FitEditor
from app.panels.pose_panel import PosePanel
from app.panels.shape_panel import ShapePanel
from app.panels.timeline import MotionTimeline
from app.preferences import Preferences, PreferencesDialog, add_recent_file
from app.reconstruction import Reconstruction
from app.video_check import VideoCheck
from app.viewport.gl_widget import SplatViewport
from core.avatar.avatar import Avatar
from core.body.motion_files import Motion
from core.io.atomic import atomic_write
from core.io.ply import PlyError, read_ply
from core.io.video_reader import VIDEO_READ_SUFFIXES

SPLAT_SUFFIXES = (".ply", ".avatar")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
VIDEO_SUFFIXES = VIDEO_READ_SUFFIXES
OPENABLE_SUFFIXES = SPLAT_SUFFIXES + PHOTO_SUFFIXES + VIDEO_SUFFIXES
_PHOTO_FILTER = "Photos (" + " ".join(f"*{s}" for s in PHOTO_SUFFIXES) + ")"
_VIDEO_FILTER = "Videos (" + " ".join(f"*{s}" for s in VIDEO_SUFFIXES) + ")"
_JOB_TITLES = {"warm-up": "Cannot load the network", "detect": "Cannot use this photo",
               "reconstruct": "Reconstruction failed", "refit": "Refit failed", "update": "Cannot update the avatar",
               "export": "Export failed", "motion": "Cannot take the motion from this video"}


class MainWindow(QMainWindow):
    """Avatarium's main window; ``settings`` (default: the user's) keeps preferences and recent files;
    with a ``recovery_folder`` the unsaved work is autosaved there (:mod:`app.autosave`)."""

    def __init__(self, settings: QSettings | None = None, recovery_folder: Path | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.preferences = Preferences.load(self.settings)
        self.setWindowTitle("Avatarium")
        self.resize(1400, 860)
        self.setAcceptDrops(True)
        self.document = AvatarDocument(self)
        self.jobs = JobRunner(self)
        self.viewport = SplatViewport(self)
        self.viewport.set_background(QColor(self.preferences.background))
        self.timeline = MotionTimeline()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.viewport, 1)
        column.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.fit_editor = FitEditor(self.document)
        self.pose_panel = PosePanel(self.document)
        self.shape_panel = ShapePanel(self.document)
        photo_dock = self._dock("Photo and fit", self.fit_editor, Qt.DockWidgetArea.LeftDockWidgetArea)
        tabs = QTabWidget()
        tabs.addTab(self.pose_panel, "Pose")
        tabs.addTab(self.shape_panel, "Shape")
        self.side_tabs = tabs
        self._dock("Pose and shape", tabs, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([photo_dock], [380], Qt.Orientation.Horizontal)
        self.current_path: Path | None = None
        self.player = None  # BodyPlayer: the body or avatar on the viewport
        self.error_dialog: QMessageBox | None = None
        self.last_error: str | None = None
        self.last_export: list[Path] = []
        self.reconstruction = Reconstruction(self)
        self._framed_avatar: Avatar | None = None
        self.autosave = Autosave(self.document, recovery_folder, parent=self) if recovery_folder else None
        self._build_status_bar()
        build_menus(self)
        self._connect()
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_job)
        self._job_label = QLabel("")
        self._splat_label = QLabel("no file")
        widest = "000,000,000 splats (SH degree 3)"
        self._splat_label.setMinimumWidth(self._splat_label.fontMetrics().horizontalAdvance(widest))
        self._fps_label = QLabel("")
        bar = self.statusBar()
        for widget in (self._job_label, self.progress_bar, self.cancel_button, self._splat_label, self._fps_label):
            bar.addPermanentWidget(widget)

    def _connect(self) -> None:
        doc = self.document
        self.viewport.fps_changed.connect(self._show_fps)
        self.viewport.gl_failed.connect(lambda message: self.show_error("OpenGL problem", message))
        self.jobs.progress.connect(self._on_progress)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(self._on_cancelled)
        self.jobs.busy_changed.connect(self._on_busy)
        doc.avatar_changed.connect(self._show_document_avatar)
        doc.pose_changed.connect(self._on_pose_changed)
        doc.dirty_changed.connect(lambda _dirty: self.update_title())
        self.timeline.frame.connect(self._show_pose)
        self.timeline.motion_changed.connect(lambda motion: self._show_current_pose() if motion is None else None)
        self.timeline.failed.connect(self.show_error)
        self.video_check = VideoCheck(self.timeline, self.fit_editor)
        self.fit_editor.refit_requested.connect(self.refit)
        self.fit_editor.update_requested.connect(self.update_avatar)
        self.fit_editor.person_chosen.connect(self.reconstruction.choose_person)

    # ---------------------------------------------------------------- opening files
    def open_path(self, path: str | Path) -> bool:
        """Open a photo (reconstructed in the background), a splat file or an avatar bundle; on failure
        an error dialog, and the current view is kept."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in OPENABLE_SUFFIXES:
            self.show_error("Cannot open file", f"{path.name} is not a file Avatarium can open.\n"
                            "Drop a photo of a person (JPEG, PNG, WebP, BMP, TIFF), a 3D Gaussian splat file "
                            "(.ply), an avatar (.avatar) or a video of a person moving (MP4, MOV, …).")
            return False
        if suffix in VIDEO_SUFFIXES:
            return self.import_video(path)
        if suffix in PHOTO_SUFFIXES:
            if not path.is_file():
                self.show_error("Cannot open the photo", f"{path} does not exist.")
                return False
            self.reconstruct_photo(path)
            self._remember(path)
            return True
        if suffix == ".avatar":
            shown = self.show_avatar(path)
        else:
            shown = self._show_ply(path)
        if shown:
            self._remember(path)
        return shown

    def _remember(self, path: Path) -> None:
        add_recent_file(self.settings, path)
        fill_recent_menu(self)

    def _show_ply(self, path: Path) -> bool:
        try:
            cloud = read_ply(path)
        except PlyError as exc:
            self.show_error("Cannot open file", f"{exc}\n\nThe previous view is unchanged.")
            return False
        self._stop_player()
        self.viewport.set_cloud(cloud)
        self.current_path = path
        self.update_title(path.name)
        self._splat_label.setText(f"{len(cloud):,} splats (SH degree {cloud.sh_degree})")
        self.statusBar().showMessage(f"Opened {path.name}", 5000)
        return True

    def show_avatar(self, path: str | Path, motion: str | None = None) -> bool:
        """Open an avatar bundle (playing ``motion`` if given); on failure an error dialog, view unchanged."""
        from core.persist.bundle import BundleError, load_bundle

        path = Path(path)
        try:
            bundle = load_bundle(path)
            body = self._body(bundle.avatar.body_model)
        except (BundleError, ValueError, OSError) as exc:
            self.show_error("Cannot open the avatar", f"{exc}\n\nThe previous view is unchanged.")
            return False
        self.document.set_reconstruction(body, None, None, bundle.fit, bundle.avatar, path)
        self.current_path = path
        self.update_title()
        if motion is not None and not self.set_motion(motion):
            return False
        return True

    def _body(self, name: str):
        """The body model ``name`` (SMPL-X from the preferences' folder), shared with the worker."""
        from app.tasks import shared_body_model

        return shared_body_model(name, self.preferences.smplx_dir or None)

    def set_motion(self, motion: str | Motion | None) -> bool:
        """Play a motion, built-in clip or motion file on the avatar (None: the pose panel drives the view)."""
        from core.body.motions import load_motion

        if motion is None:
            self.timeline.set_motion(None)
            return True
        try:
            clip = motion if isinstance(motion, Motion) else load_motion(motion)
        except (ValueError, KeyError, OSError) as exc:
            self.show_error("Cannot load the motion", str(exc))
            return False
        if self.player is not None:
            self.player.motion = clip
        self.timeline.set_motion(clip)
        return True

    def show_body(self, body_name: str = "anny", motion: str | Motion = "walk", splats: int = 20000,
                  avatar: Avatar | None = None, title: str | None = None) -> bool:
        """Body mode: the bare body model as splats (or ``avatar`` on it), animated by ``motion``."""
        from app.body_player import BodyPlayer
        from core.body.motions import MotionError, load_motion

        try:
            body = self._body(body_name)
            clip = motion if isinstance(motion, Motion) else load_motion(motion)
        except (ValueError, KeyError, OSError) as exc:  # BodyModelError, MotionError, BodyDataError
            kind = "motion" if isinstance(exc, MotionError) else "body model"
            self.show_error(f"Cannot load the {kind}", str(exc))
            return False
        self._stop_player()
        self.player = BodyPlayer(self.viewport, body, clip, splats, avatar)
        self.player.frame_changed.connect(
            lambda t: self.statusBar().showMessage(f"{clip.name}: {t:5.2f} / {clip.duration:.2f} s"))
        self.current_path = None
        self.update_title(f"{title or body_name} — {clip.name}")
        self._splat_label.setText(f"{len(self.player.cloud):,} splats, {len(body.bone_names)} bones")
        return True

    def _stop_player(self) -> None:
        self.timeline.set_motion(None)
        if self.player is not None:
            self.player.pause()
            self.player = None

    def import_video(self, path: str | Path) -> bool:
        """Take the motion of the person in the video at ``path`` (a background job with progress and
        Cancel); it then plays on the timeline, on the avatar or, without one, on the bare body."""
        from app.tasks import motion_job

        path = Path(path)
        if not path.is_file():
            self.show_error("Cannot open the video", f"{path} does not exist.")
            return False
        body_name = self.document.avatar.body_model if self.document.avatar is not None else "anny"
        self.jobs.submit("motion", motion_job(path, body_name, self.preferences), self._on_motion_captured)
        return True

    def import_video_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Take a motion from a video", "", f"{_VIDEO_FILTER};;All files (*)")
        if name:
            self.import_video(name)

    def _on_motion_captured(self, captured) -> None:
        motion = captured.motion
        if self.document.avatar is None and not self.show_body(captured.body_model, motion, title=motion.name):
            return
        self.set_motion(motion)
        self.video_check.follow(captured, self._body(captured.body_model))
        self.timeline.play()
        missing = f"; the person was not seen in {len(captured.missing)} frames, filled in" if captured.missing else ""
        notes = "".join(f"; {note}" for note in captured.clip.notes)
        if captured.people > 1:
            notes += (f"; {captured.people} people are in the video: the largest one's motion was taken "
                      "(avatarium motion --person N takes another's)")
        self.statusBar().showMessage(f"Motion '{motion.name}': {len(motion)} frames, {motion.duration:.1f} s{missing}"
                                     f"{notes}", 10000)

    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open a photo, splats, an avatar or a video", "",
            f"Everything Avatarium opens (*.ply *.avatar {_PHOTO_FILTER[8:-1]} {_VIDEO_FILTER[8:-1]});;"
            f"{_PHOTO_FILTER};;3D Gaussian splats (*.ply);;Avatars (*.avatar);;{_VIDEO_FILTER}")
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

    # ---------------------------------------------------------------- reconstruction jobs
    def reconstruct_photo(self, path: str | Path | None, box: tuple | None = None, photo=None) -> None:
        """See :meth:`app.reconstruction.Reconstruction.reconstruct_photo`."""
        self.reconstruction.reconstruct_photo(path, box, photo)

    def warm_up(self) -> None:
        """See :meth:`app.reconstruction.Reconstruction.warm_up`."""
        self.reconstruction.warm_up()

    def refit(self) -> None:
        """See :meth:`app.reconstruction.Reconstruction.refit`."""
        self.reconstruction.refit()

    def update_avatar(self) -> None:
        """See :meth:`app.reconstruction.Reconstruction.update_avatar`."""
        self.reconstruction.update_avatar()

    def cancel_job(self) -> None:
        self.jobs.cancel()

    def _on_cancelled(self, name: str) -> None:
        self._on_stopped(name)
        if name != "warm-up":  # replaced by a real job, which uses what it loaded
            self.statusBar().showMessage(f"Cancelled ({name})", 5000)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setValue(round(fraction * 1000))
        self._job_label.setText(message)

    def _on_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress_bar.setValue(0)
        else:
            self._job_label.setText("")

    def _on_failed(self, name: str, error: BaseException) -> None:
        self._on_stopped(name)
        self.show_error(_JOB_TITLES.get(name, "Something went wrong"), error_message(error))

    def _on_stopped(self, name: str) -> None:
        """A job failed or was cancelled: the side panel shows the document again."""
        if name in ("detect", "reconstruct"):
            self.reconstruction.stopped()

    # ---------------------------------------------------------------- showing the avatar
    def _show_document_avatar(self) -> None:
        from app.body_player import BodyPlayer

        doc = self.document
        if doc.avatar is None:
            return
        frame = doc.base_avatar is not self._framed_avatar
        self._framed_avatar = doc.base_avatar
        if self.player is not None:
            self.player.pause()
        self.player = BodyPlayer(self.viewport, doc.body, self.timeline.motion, avatar=doc.avatar, frame=frame,
                                 show=False)
        self._splat_label.setText(f"{len(doc.avatar.cloud):,} Gaussians on the {doc.body.name} body")
        self._show_current_pose()

    def _on_pose_changed(self) -> None:
        if self.timeline.motion is not None:
            self.timeline.set_motion(None)  # editing the pose hands the view back to the pose panel
        self._show_current_pose()

    def _show_current_pose(self) -> None:
        if self.player is None or self.document.avatar is None:
            return
        if self.timeline.motion is None:
            self.player.show_pose(torch.from_numpy(self.document.pose))
        else:
            self.timeline.show_time(self.timeline.time)

    def _show_pose(self, pose: torch.Tensor, root: torch.Tensor) -> None:
        if self.player is not None and self.document.avatar is not None:
            self.player.show_pose(pose, root)

    def show_guide(self, name: str, shown: bool) -> None:
        """Show or hide a viewport guide: ``grid``, ``skeleton`` or ``mesh`` (the posed body's mesh)."""
        self.viewport.set_guide(name, shown)
        self.guide_actions[name].setChecked(shown)
        if self.document.avatar is not None:
            self._show_current_pose()  # the skeleton and mesh come with the next pose
        elif self.player is not None and self.player.motion is not None:
            self.player.show_time(self.player.time)

    def toggle_playback(self) -> None:
        if self.timeline.motion is not None:
            self.timeline.pause() if self.timeline.playing else self.timeline.play()
        elif self.player is not None:
            self.player.toggle()

    def restart_playback(self) -> None:
        if self.timeline.motion is not None:
            self.timeline.show_time(0.0)
        elif self.player is not None and self.player.motion is not None:
            self.player.show_time(0.0)

    # ---------------------------------------------------------------- saving and exporting
    def _stem(self) -> str:
        doc = self.document
        source = doc.path or (doc.photo.source if doc.photo is not None else None) or self.current_path
        return Path(source).stem if source else "avatar"

    def save_avatar(self) -> bool:
        if self.document.path is None:
            return self.save_avatar_dialog()
        return self.save_avatar_to(self.document.path)

    def save_avatar_dialog(self) -> bool:
        name, _ = QFileDialog.getSaveFileName(self, "Save the avatar", f"{self._stem()}.avatar", "Avatars (*.avatar)")
        return bool(name) and self.save_avatar_to(name)

    def save_avatar_to(self, path: str | Path) -> bool:
        try:
            written = self.document.save(path)
        except (OSError, ValueError) as exc:
            self.show_error("Avatar not saved", f"Could not write {path}: {exc}")
            return False
        self._remember(written)
        self.update_title()
        self.statusBar().showMessage(f"Saved {written}", 5000)
        return True

    def export_dialog(self, fmt: str) -> None:
        kind = KINDS[fmt]
        if not self._can_export(fmt):
            return
        if kind.suffix:
            name, _ = QFileDialog.getSaveFileName(self, kind.label.rstrip("…"), f"{self._stem()}{kind.suffix}",
                                                  kind.filter)
        else:
            name = QFileDialog.getExistingDirectory(self, "Folder for the posed .ply frames")
        if name:
            self.export_to(fmt, name)

    def _can_export(self, fmt: str) -> bool:
        doc = self.document
        if doc.avatar is None:
            self.show_error("Nothing to export", "Reconstruct a photo (drop it onto the window) or open an avatar "
                            "first.")
            return False
        if fmt in NEEDS_FIT and doc.fit is None:
            self.show_error("Cannot export", "This avatar has no body fit, which this export needs.")
            return False
        return True

    def export_to(self, fmt: str, path: str | Path, video: VideoOptions | None = None) -> None:
        """Write export ``fmt`` (see :data:`app.export_menu.EXPORTS`) to ``path`` in the background; the
        videos, sequences and .bvh play the timeline's motion (walk when none is chosen); the web player has the
        built-in clips and the timeline's motion, the rigged .glb files the timeline's motion as an animation."""
        from app.tasks import export_job
        from core.body.motions import load_motion

        if not self._can_export(fmt):
            return
        doc = self.document
        motion = self.timeline.motion or (None if fmt in ("html", "glb", "humanoid") else load_motion("walk"))
        self.jobs.submit("export", export_job(fmt, Path(path), doc.body, doc.avatar, doc.fit, doc.photo,
                                              doc.pose.copy(), motion, video), self._exported)

    def _exported(self, written: list[Path]) -> None:
        self.last_export = list(written)
        shown = written[0].parent if len(written) > 1 else written[0]
        self.statusBar().showMessage(f"Wrote {shown}", 8000)

    def save_screenshot(self, path: str | Path) -> None:
        """Write the viewport image to ``path`` (format from the suffix, e.g. .png), atomically."""
        path = Path(path)
        data = encode_image(self.viewport.grabFramebuffer(), path.suffix.lstrip(".") or "png")
        with atomic_write(path) as stream:
            stream.write(data)

    def screenshot_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save screenshot", f"{self._stem()}.png", "Images (*.png *.jpg)")
        if not name:
            return
        try:
            self.save_screenshot(name)
        except OSError as exc:
            self.show_error("Screenshot not saved", f"Could not write {name}: {exc}")
        else:
            self.statusBar().showMessage(f"Saved {name}", 5000)

    # ---------------------------------------------------------------- preferences, about, errors
    def background_dialog(self) -> None:
        color = QColorDialog.getColor(self.viewport.background, self, "Background colour")
        if color.isValid():
            self.apply_preferences(Preferences(**{**vars(self.preferences), "background": color.name()}))

    def preferences_dialog(self) -> None:
        dialog = PreferencesDialog(self.preferences, self)
        if dialog.exec():
            self.apply_preferences(dialog.result_preferences())

    def apply_preferences(self, preferences: Preferences) -> None:
        """Use and persist ``preferences``; a changed body, preset, backend, threads or mask sharpening
        reloads the pipeline."""
        reload = {k: v for k, v in vars(preferences).items() if k != "background"} != \
                 {k: v for k, v in vars(self.preferences).items() if k != "background"}
        self.preferences = preferences
        preferences.save(self.settings)
        self.viewport.set_background(QColor(preferences.background))
        if reload:
            self.jobs.reset_cache()

    def about_dialog(self) -> None:
        QMessageBox.about(self, "About Avatarium", about_text())

    def show_error(self, title: str, message: str) -> None:
        """Non-blocking error dialog; the window stays usable."""
        self.last_error = message
        if self.error_dialog is not None:
            self.error_dialog.close()
        self.error_dialog = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        self.error_dialog.open()
        self.statusBar().showMessage(message.splitlines()[0], 8000)

    def update_title(self, name: str | None = None) -> None:
        doc = self.document
        if name is None:
            name = self._stem() if doc.avatar is not None else None
        dirty = " •" if doc.dirty else ""
        self.setWindowTitle(f"{name}{dirty} — Avatarium" if name else "Avatarium")

    def _show_fps(self, fps: float) -> None:
        self._fps_label.setText(f"{fps:.0f} FPS" if fps else "")

    # ---------------------------------------------------------------- recovery and closing
    def offer_recovery(self) -> bool:
        """After a crash: ask whether to recover the newest autosaved work; True if it was recovered."""
        from app.autosave import abandoned_sessions, remove_session

        if self.autosave is None:
            return False
        sessions = abandoned_sessions(self.autosave.root)
        if not sessions:
            return False
        folder, state = sessions[0]
        answer = QMessageBox.question(
            self, "Recover your work?", f"Avatarium closed without saving the avatar you were working on "
            f"(autosaved {state.get('saved', '')}). Recover it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            remove_session(folder)
            return False
        return self.recover(folder)

    def recover(self, folder: Path) -> bool:
        """Load the autosaved session in ``folder`` (avatar, fit, photo, pose, pins and locks; still
        unsaved, and autosaved from now on as this window's work)."""
        from app.autosave import remove_session
        from core.persist.session import SessionError, load_session

        try:
            session = load_session(folder)
            body = self._body(session.avatar.body_model)
        except (SessionError, ValueError, OSError) as exc:
            self.show_error("Cannot recover the avatar", str(exc))
            return False
        doc = self.document
        doc.set_reconstruction(body, session.photo, session.observation, session.fit, session.avatar,
                               session.bundle, unsaved=True)
        doc.pins, doc.locked = dict(session.pins), set(session.locked)
        doc.constraints_changed.emit()
        doc.set_pose(session.pose, "Recovered pose")
        if self.autosave is not None:
            self.autosave.save_now()
            if folder != self.autosave.folder:
                remove_session(folder)
        self.update_title()
        self.statusBar().showMessage("Recovered the autosaved avatar; save it to keep it.", 8000)
        return True

    def closeEvent(self, event) -> None:
        if self.autosave is not None:
            if self.document.dirty and not self._confirm_close():
                event.ignore()
                return
            self.autosave.discard()
        self.settings.setValue("geometry", self.saveGeometry())
        self.jobs.shutdown()
        self.video_check.shutdown()
        super().closeEvent(event)

    def _confirm_close(self) -> bool:
        """Unsaved changes: Save (then close), Discard, or Cancel (stay)."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Unsaved avatar", "Save the avatar before closing?",
                                      buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return self.save_avatar()
        return answer == buttons.Discard


def error_message(error: BaseException) -> str:
    """What to tell the user about a failed job: our own errors say what to do; anything else is a
    bug, reported with where the details were logged."""
    from core.detect.person import DetectionError
    from core.fit.fit_body import FitError
    from core.io.images import ImageLoadError

    if isinstance(error, (DetectionError, FitError, ImageLoadError, PlyError, OSError, ValueError, KeyError)):
        return str(error).strip("'\"") or type(error).__name__
    from app.log import log_path

    return (f"An unexpected error stopped the job ({type(error).__name__}: {error}).\nThe app keeps working; "
            f"the details are in {log_path()}.")


def about_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    import core

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    versions = ", ".join(f"{name} {installed(name)}" for name in ("torch", "PySide6-Essentials", "mediapipe", "anny"))
    return (f"<h3>Avatarium {core.__version__}</h3><p>One photo of a person → an animatable 3D Gaussian-splat "
            f"avatar. Apache-2.0.</p><p>{versions}</p><p><b>Bundled models</b><br>anny body model: code Apache-2.0, "
            "MakeHuman data CC0.<br>Reconstruction network avatarium-small: trained by this project on its own "
            "synthetic people, Apache-2.0.<br>Person detection: Google MediaPipe Pose and Holistic, Apache-2.0 "
            "(shipped in the mediapipe wheel).<br>SMPL-X is never bundled: it is licence-gated; point the "
            "preferences at your own copy.</p>")
