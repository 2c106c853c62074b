"""The whole app on a real photo: drop → background reconstruction (fast preset) → avatar in the
viewport; cancel; pose sliders with undo; the fit editor's pin and refit; every export read back by
another library; bad files. Real window, real OpenGL (Xvfb + Mesa), real mediapipe and network."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.export_menu import EXPORTS, VideoOptions
from app.images import qimage_to_rgb
from app.main import process_events_until
from app.main_window import MainWindow
from app.preferences import Preferences
from core.body.joints import KEYPOINT_NAMES
from tests.app.qt_events import drop_files
from tests.photos import PHOTOS, needs_photos

pytestmark = [pytest.mark.usefixtures("gl_available"), pytest.mark.slow, needs_photos]
PHOTO = PHOTOS / "01_pifu_ryota.png"


def wait_for(predicate, timeout: float = 120.0) -> None:
    process_events_until(predicate, timeout)


def frame(window: MainWindow) -> np.ndarray:
    return qimage_to_rgb(window.viewport.grabFramebuffer())


def make_window(tmp_path) -> MainWindow:
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window.apply_preferences(Preferences(preset="fast"))
    window.viewport.setFixedSize(360, 360)
    window.show()
    wait_for(window.viewport.isValid, 20)
    assert window.viewport.gl_error is None, window.viewport.gl_error
    return window


@pytest.fixture(scope="module")
def window(qapp, gl_available, tmp_path_factory):
    """One window that reconstructed :data:`PHOTO`, shared by the tests of this module."""
    win = make_window(tmp_path_factory.mktemp("app"))
    empty = frame(win)
    progress = []
    win.jobs.progress.connect(lambda fraction, message: progress.append(fraction))
    drop_files(win, [PHOTO])
    wait_for(lambda: win.document.avatar is not None and not win.jobs.busy)
    QApplication.processEvents()
    assert win.last_error is None, win.last_error
    win.empty_frame, win.progress_seen = empty, progress
    yield win
    win.close()


def test_dropped_photo_becomes_an_avatar_on_screen(window):
    fractions = window.progress_seen
    assert len(fractions) > 10 and fractions[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-9 for a, b in zip(fractions, fractions[1:], strict=False)), "progress went back"
    shown = frame(window)
    assert np.abs(shown.astype(int) - window.empty_frame).sum(-1).__gt__(30).mean() > 0.05, "avatar not drawn"
    doc = window.document
    assert doc.fit is not None and doc.photo is not None and np.array_equal(doc.pose, doc.fit.pose)
    assert "Gaussians" in window._splat_label.text() and "•" in window.windowTitle()  # new, unsaved


def test_pose_slider_changes_the_frame_and_undo_restores_it_exactly(window):
    panel = window.pose_panel
    panel.select_joint("left_shoulder")
    before = frame(window)
    slider = panel.sliders[2]
    slider.setValue(slider.maximum() - 10)  # raise the left arm
    raised = frame(window)
    assert np.abs(raised.astype(int) - before).mean() > 0.5
    window.undo_action.trigger()
    assert np.array_equal(frame(window), before)
    window.redo_action.trigger()
    assert np.array_equal(frame(window), raised)
    window.undo_action.trigger()


def test_motion_timeline_plays_and_scrubs(window):
    still = frame(window)
    assert window.set_motion("wave")
    window.timeline.scrub.setValue(500)
    waving = frame(window)
    assert window.timeline.time == pytest.approx(window.timeline.motion.duration / 2, rel=0.01)
    assert np.abs(waving.astype(int) - still).mean() > 0.2
    window.timeline.play()
    start = window.timeline.time
    wait_for(lambda: window.timeline.time != start, 5)
    window.timeline.set_motion(None)
    assert np.array_equal(frame(window), still)  # the pose panel's pose again


def test_fit_editor_pin_and_refit_moves_the_joint_to_the_pin(window):
    from core.fit.overlay import fitted_keypoints

    doc, editor = window.document, window.fit_editor
    canvas = editor.canvas
    name = "left_wrist"
    start = canvas.handles[name]
    target = start + np.array([-18.0, -14.0])  # photo pixels
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.to_widget(*start).toPoint())
    QTest.mouseMove(canvas, canvas.to_widget(*(start + target) / 2).toPoint())
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       canvas.to_widget(*target).toPoint())
    pin = np.array(doc.pins[name])
    scale = canvas._scale_offset()[0]
    assert np.abs(pin - target).max() <= 1.0 / scale + 1e-6  # one screen pixel
    old_fit = doc.fit
    editor.refit_button.click()
    wait_for(lambda: doc.fit is not old_fit and not window.jobs.busy, 30)
    moved = fitted_keypoints(doc.body, doc.fit)[KEYPOINT_NAMES.index(name)]
    assert np.linalg.norm(moved - pin) <= 5.0, (moved, pin)
    assert doc.fit.pins[name] == pytest.approx(tuple(pin))
    old_avatar = doc.avatar
    editor.update_button.click()
    wait_for(lambda: doc.avatar is not old_avatar and not window.jobs.busy, 60)
    window.undo_action.trigger()  # the refit is undoable
    assert doc.fit is old_fit


def _read_back(fmt: str, path):
    if fmt == "avatar":
        from core.persist.bundle import load_bundle

        return len(load_bundle(path).avatar.cloud)
    if fmt in ("ply", "posed"):
        from plyfile import PlyData

        return PlyData.read(str(path))["vertex"].count
    if fmt == "sequence":
        from plyfile import PlyData

        frames = sorted(path.glob("*.ply"))
        assert len(frames) > 5
        return PlyData.read(str(frames[-1]))["vertex"].count
    if fmt == "fit":
        return len(json.loads(path.read_text())["pose"])
    if fmt == "params":
        with np.load(path, allow_pickle=False) as data:
            return len(data.files)
    if fmt == "mesh":
        import trimesh

        return len(trimesh.load(path, process=False).vertices)
    if fmt in ("glb", "humanoid"):
        import pygltflib

        gltf = pygltflib.GLTF2().load(str(path))
        assert [a.name for a in gltf.animations] == ["wave"]  # the timeline's motion
        assert (gltf.nodes[gltf.skins[0].skeleton].name == "Hips") == (fmt == "humanoid")
        return len(gltf.skins[0].joints)
    if fmt == "bvh":
        from bvh import Bvh

        return Bvh(path.read_text()).nframes
    if fmt in ("spz", "posed_spz"):  # the gzip stream's header counts the splats
        import gzip
        import struct

        with gzip.open(path) as stream:
            magic, version, count = struct.unpack("<III", stream.read(12))
        assert (magic, version) == (0x5053474E, 3)
        return count
    if fmt in ("splats", "posed_splats"):
        import pygltflib

        gltf = pygltflib.GLTF2().load(str(path))
        assert "KHR_gaussian_splatting" in gltf.meshes[0].primitives[0].extensions
        return gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION].count
    if fmt == "preview":
        with Image.open(path) as image:
            return image.size[0]
    if fmt == "html":  # the page's own description of what it carries: the built-in clips, the timeline's
        from html.parser import HTMLParser

        found = {}

        class Meta(HTMLParser):
            def handle_starttag(self, tag, attrs):
                self.inside = dict(attrs).get("id") == "avatar-meta"

            def handle_endtag(self, tag):
                self.inside = False

            def handle_data(self, data):
                if getattr(self, "inside", False):
                    found.update(json.loads(data))

        Meta().feed(path.read_text(encoding="utf-8"))
        assert [clip["name"] for clip in found["clips"]] == ["idle", "walk", "wave", "turn", "jump"]
        return found["splats"]
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    next(reader)  # the metadata
    return sum(1 for _ in reader)


def test_every_export_writes_a_file_another_library_reads(window, tmp_path):
    assert {kind.fmt for kind in EXPORTS} == {"avatar", "ply", "posed", "splats", "posed_splats", "spz", "posed_spz",
                                              "sequence", "fit", "params", "mesh", "glb", "preview", "turntable",
                                              "animation", "html", "humanoid", "bvh"}
    window.set_motion("wave")
    for kind in EXPORTS:
        path = tmp_path / (f"out{kind.suffix}" if kind.suffix else "frames")
        window.export_to(kind.fmt, path, VideoOptions(size=160, turntable_frames=12, fps=12.0))
        wait_for(lambda: not window.jobs.busy, 180)
        assert window.last_error is None, (kind.fmt, window.last_error)
        assert window.last_export and _read_back(kind.fmt, path) > 0, kind.fmt
    window.set_motion(None)


def test_export_menu_asks_for_a_file_and_writes_it(window, tmp_path, monkeypatch):
    import trimesh
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "chosen.obj"
    asked = []

    def save_dialog(parent, title, default, filters):
        asked.append((default, filters))
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)  # the native dialog is the boundary
    window.export_actions["mesh"].trigger()
    wait_for(lambda: not window.jobs.busy, 60)
    assert asked == [(f"{PHOTO.stem}_body.obj", "Wavefront OBJ (*.obj)")]
    assert len(trimesh.load(target, process=False).vertices) > 1000


def test_export_can_be_cancelled_and_leaves_no_file(window, tmp_path):
    target = tmp_path / "turn.mp4"
    window.export_to("turntable", target)
    wait_for(lambda: window.progress_bar.value() > 0, 60)
    window.cancel_button.click()
    wait_for(lambda: not window.jobs.busy, 30)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_cancel_mid_reconstruction_keeps_the_app_usable(window, tmp_path):
    previous = window.document.avatar
    window.open_path(PHOTOS / "05_lhm_000057.png")
    wait_for(lambda: window.progress_bar.value() >= 100, 60)  # into the body fit
    window.cancel_button.click()
    wait_for(lambda: not window.jobs.busy, 5)
    assert window.document.avatar is previous and window.last_error is None
    assert window.document.photo.source == PHOTO and window.fit_editor.canvas.handles  # the editor shows it again
    window.pose_panel.sliders[0].setValue(10)  # still responds
    assert window.document.undo_stack.canUndo()
    window.undo_action.trigger()


def test_bad_files_show_an_error_and_the_app_keeps_working(window, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    window.open_path(broken)
    wait_for(lambda: not window.jobs.busy, 30)
    assert window.error_dialog.isVisible() and "broken.jpg" in window.last_error
    window.error_dialog.close()
    assert not window.open_path(tmp_path / "notes.txt")
    assert "not a file Avatarium can open" in window.last_error
    window.error_dialog.close()
    bad_bundle = tmp_path / "bad.avatar"
    bad_bundle.write_bytes(b"PK\x03\x04 truncated")
    assert not window.open_path(bad_bundle)
    window.error_dialog.close()
    assert window.document.avatar is not None


def test_group_photo_offers_the_people_and_a_click_chooses_one(qapp, tmp_path):
    win = make_window(tmp_path)
    try:
        win.open_path(PHOTOS / "16_ultralytics_bus_multi.jpg")
        wait_for(lambda: not win.jobs.busy, 60)
        canvas = win.fit_editor.canvas
        assert len(canvas.boxes) >= 2 and "people" in win.last_error
        win.error_dialog.close()
        x0, y0, x1, y1 = canvas.boxes[0]
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         canvas.to_widget((x0 + x1) / 2, (y0 + y1) / 2).toPoint())
        wait_for(lambda: win.jobs.busy, 5)
        wait_for(lambda: not win.jobs.busy, 120)
        assert win.document.avatar is not None, win.last_error
        assert win.document.photo.size == (x1 - x0, y1 - y0)
    finally:
        win.close()


def test_preferences_persist(qapp, tmp_path):
    settings = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    chosen = Preferences(preset="best", backend="onnxruntime", background="#102030", threads=2, sharpen_mask=False)
    win.apply_preferences(chosen)
    win.close()
    again = MainWindow(QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat))
    assert again.preferences == chosen
    assert again.viewport.background.name() == "#102030"
    again.close()


@pytest.mark.parametrize("stage", ["observe", "fit", "avatar"])
def test_a_failure_in_any_stage_is_a_dialog_and_the_app_goes_on(window, monkeypatch, stage):
    from core.pipeline import Pipeline

    def broken(*args, **kwargs):
        raise RuntimeError(f"injected failure in {stage}")

    previous = window.document.avatar
    monkeypatch.setattr(Pipeline, stage, broken)
    window.open_path(PHOTO)
    wait_for(lambda: not window.jobs.busy and window.last_error is not None, 60)
    assert f"injected failure in {stage}" in window.last_error and "keeps working" in window.last_error
    assert window.error_dialog.isVisible()
    window.error_dialog.close()
    window.last_error = None
    assert window.document.avatar is previous and window.fit_editor.canvas.handles


def test_save_reopen_and_recent_files(window, tmp_path):
    target = tmp_path / "mine.avatar"
    assert window.save_avatar_to(target)
    assert "•" not in window.windowTitle() and not window.document.dirty
    saved_means = window.document.avatar.cloud.means.clone()
    assert window.open_path(target)
    assert window.document.path == target and window.document.fit is not None
    assert (window.document.avatar.cloud.means == saved_means).all()
    recent = [action.toolTip() for action in window.recent_menu.actions()]
    assert recent[0] == str(target.resolve()) and str(PHOTO.resolve()) in recent


def test_dropped_video_becomes_a_motion_the_avatar_plays(window, wave_video, monkeypatch):
    import threading

    from core.capture import overlay

    drawn_in, draw = [], overlay.draw_frame
    monkeypatch.setattr(overlay, "draw_frame", lambda *args: drawn_in.append(threading.current_thread()) or draw(*args))
    progress = []
    window.jobs.progress.connect(lambda fraction, message: progress.append((fraction, message)))
    window.set_motion(None)
    still = frame(window)
    drop_files(window, [wave_video.path])
    wait_for(lambda: not window.jobs.busy, 180)
    assert window.last_error is None, window.last_error
    fractions = [f for f, _ in progress]
    assert len(fractions) > 20 and fractions[-1] == pytest.approx(1.0) and fractions == sorted(fractions)
    assert any("frames/s" in m for _, m in progress)
    motion = window.timeline.motion
    assert motion.name == "wave" and len(motion) == len(wave_video.joints) and window.timeline.playing
    start = window.timeline.time
    wait_for(lambda: window.timeline.time != start, 5)
    assert np.abs(frame(window).astype(int) - still).mean() > 0.2  # the avatar moves
    assert "Motion 'wave'" in window.statusBar().currentMessage()
    # paused and scrubbed: the fit editor shows that video frame with the captured body over it
    window.timeline.pause()
    window.timeline.show_time(0.5)
    wait_for(lambda: window.video_check.shown == 15, 10)
    canvas, editor = window.fit_editor.canvas, window.fit_editor
    assert canvas.image_size == (480, 360) and "Video frame 16 of 31" in editor.status.text()
    assert drawn_in and threading.main_thread() not in drawn_in  # decoded and drawn off the GUI thread
    window.set_motion(None)  # another motion (or none): the document's photo and fit again (if it has any)
    photo = window.document.photo
    wait_for(lambda: canvas.image_size == ((1, 1) if photo is None else photo.size), 5)
    assert window.video_check.captured is None and "Video frame" not in editor.status.text()


def test_video_without_an_avatar_plays_on_the_body_and_can_be_cancelled(qapp, tmp_path, wave_video):
    win = make_window(tmp_path)
    try:
        win.open_path(wave_video.path)
        wait_for(lambda: win.progress_bar.value() > 0, 60)
        win.cancel_button.click()
        wait_for(lambda: not win.jobs.busy, 30)
        assert win.timeline.motion is None and win.last_error is None
        win.import_video(wave_video.path)
        wait_for(lambda: not win.jobs.busy, 180)
        assert win.last_error is None, win.last_error
        assert win.player is not None and win.timeline.motion.name == "wave" and win.timeline.playing
        assert not win.import_video(tmp_path / "gone.mp4") and "does not exist" in win.last_error
    finally:
        win.close()
