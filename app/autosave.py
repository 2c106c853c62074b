"""Autosave: the document's unsaved work is written to a recovery folder a moment after each change
(:mod:`core.persist.session`), and removed once the work is saved or deliberately discarded. After a
crash the next start finds it and offers to recover it."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from app.document import AvatarDocument
from core.persist.session import Session, clear_session, save_session

log = logging.getLogger("avatarium.autosave")


def default_recovery_folder() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("avatarium")) / "recovery"


def abandoned_sessions(root: Path) -> list[tuple[Path, dict]]:
    """Sessions under ``root`` whose process is gone, newest first: (folder, state). Damaged ones
    are removed (nothing in them can be recovered)."""
    from core.persist.session import SessionError, process_alive, session_state

    found = []
    for folder in sorted(Path(root).glob("session-*")):
        try:
            state = session_state(folder)
        except SessionError as exc:
            log.warning("removing %s: %s", folder, exc)
            remove_session(folder)
            continue
        if state is not None and not process_alive(int(state.get("pid") or 0)):
            found.append((folder, state))
    return sorted(found, key=lambda item: str(item[1].get("saved", "")), reverse=True)


def remove_session(folder: Path) -> None:
    clear_session(folder)
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (someone else's files) or already gone


class Autosave(QObject):
    """Writes ``document``'s session to ``root/session-<pid>`` ``delay_ms`` after the last change
    while it is dirty (one folder per running app, so two windows never overwrite each other)."""

    def __init__(self, document: AvatarDocument, root: Path, delay_ms: int = 1500,
                 parent: QObject | None = None) -> None:
        import os

        super().__init__(parent)
        self.document, self.root = document, Path(root)
        self.folder = self.root / f"session-{os.getpid()}"
        self.saves = 0
        self.last_error: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.save_now)
        for signal in (document.pose_changed, document.avatar_changed, document.fit_changed,
                       document.constraints_changed, document.dirty_changed):
            signal.connect(self._changed)

    def _changed(self, *_args) -> None:
        self._timer.start()

    def save_now(self) -> None:
        """Write the session now if there is unsaved work, else remove the old one."""
        self._timer.stop()
        doc = self.document
        try:
            if not doc.dirty:
                remove_session(self.folder)
                return
            save_session(self.folder, Session(doc.avatar, doc.fit, doc.photo, doc.observation, doc.pose,
                                              dict(doc.pins), tuple(sorted(doc.locked)), doc.path))
            self.saves += 1
            self.last_error = None
        except OSError as exc:  # a full disk must not stop the editing; the status bar says it
            self.last_error = f"Autosave failed: {exc}"
            log.warning(self.last_error)

    def discard(self) -> None:
        """The user chose to drop the unsaved work (or it is safely saved): no recovery next time."""
        self._timer.stop()
        remove_session(self.folder)
