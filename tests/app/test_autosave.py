"""Autosave and crash recovery: a killed app's unsaved work comes back in the next window."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from app.autosave import Autosave, abandoned_sessions
from app.main_window import MainWindow
from core.persist.bundle import save_bundle

pytestmark = pytest.mark.usefixtures("gl_available")

_APP = """
import sys, time
import numpy as np
from PySide6.QtCore import QSettings
from app.main import application, process_events_until
from app.main_window import MainWindow
application()
bundle, root = sys.argv[1], sys.argv[2]
window = MainWindow(QSettings(root + "/s.ini", QSettings.Format.IniFormat), recovery_folder=root)
window.show()
assert window.open_path(bundle)
pose = window.document.pose.copy()
pose[18] = (0.0, -1.2, 0.0)
window.document.set_pose(pose, "bend the left elbow")
process_events_until(lambda: window.autosave.saves > 0, 30)
print("autosaved", flush=True)
while True:
    time.sleep(1)
"""


@pytest.fixture
def bundle(tmp_path, small_avatar, document) -> Path:
    return save_bundle(tmp_path / "start.avatar", small_avatar, document.fit)


def test_killed_app_is_recovered(qtbot, tmp_path, bundle, monkeypatch):
    root = tmp_path / "recovery"
    process = subprocess.Popen([sys.executable, "-c", _APP, str(bundle), str(root)], stdout=subprocess.PIPE,
                               text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert process.stdout.readline().strip() == "autosaved"
    finally:
        os.kill(process.pid, signal.SIGKILL)  # a crash: no clean-up runs
        process.wait(30)
    sessions = abandoned_sessions(root)
    assert len(sessions) == 1
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), recovery_folder=root)
    qtbot.addWidget(window)
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert window.offer_recovery()
    doc = window.document
    assert np.allclose(doc.pose[18], (0.0, -1.2, 0.0)) and doc.dirty and doc.path == bundle
    assert not sessions[0][0].exists()  # adopted into this window's own session
    assert (window.autosave.folder / "state.json").is_file()
    window.autosave.discard()
    window.autosave = None  # closing without the unsaved-changes question


def test_autosave_follows_the_dirty_flag(qtbot, tmp_path, document):
    autosave = Autosave(document, tmp_path, delay_ms=10)
    document.set_joint(16, np.array([0.0, 0.0, 0.3], np.float32))
    qtbot.waitUntil(lambda: autosave.saves == 1, timeout=5000)
    assert (autosave.folder / "state.json").is_file()
    assert abandoned_sessions(tmp_path) == []  # this process still runs
    document.save(tmp_path / "saved.avatar")
    qtbot.waitUntil(lambda: not autosave.folder.exists(), timeout=5000)  # saved: nothing to recover


def test_declined_recovery_is_removed(qtbot, tmp_path, document, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    autosave = Autosave(document, tmp_path, delay_ms=10)
    autosave.save_now()
    dead = tmp_path / "session-1"
    autosave.folder.rename(dead)
    state = (dead / "state.json").read_text().replace(f'"pid": {os.getpid()}', '"pid": 0')
    (dead / "state.json").write_text(state)
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), recovery_folder=tmp_path)
    qtbot.addWidget(window)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert not window.offer_recovery() and not dead.exists()
