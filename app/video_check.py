"""The video beside its motion: while a motion taken from a video is paused or scrubbed, the fit
editor shows that frame of the video with the captured body over it. Each frame is a seek, a decode
and a body pose (about 50 ms): drawn in a worker thread of its own, so scrubbing never stalls the
window and never cancels the document's jobs (an export running meanwhile)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer

from app.jobs import JobRunner
from app.panels.fit_editor import FitEditor
from app.panels.timeline import MotionTimeline
from core.progress import CancelToken, Progress

if TYPE_CHECKING:
    from core.capture.capture import CapturedMotion

_SETTLE_MS = 120  # draw once the scrub bar has rested this long (each frame is a seek and a body pose)


class VideoCheck(QObject):
    """Follows ``timeline``; shows :func:`core.capture.overlay.draw_frame` in ``editor``."""

    def __init__(self, timeline: MotionTimeline, editor: FitEditor) -> None:
        super().__init__(editor)
        self.timeline, self.editor = timeline, editor
        self.captured = None  # core.capture.capture.CapturedMotion being checked
        self.body = None
        self.shown: int | None = None  # the video frame on show
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_SETTLE_MS)
        self._timer.timeout.connect(self._draw)
        self._frames = JobRunner(self)  # a newer frame cancels the one still being drawn
        self._frames.failed.connect(self._on_failed)
        timeline.frame.connect(lambda *_: self._schedule())
        timeline.play_button.toggled.connect(lambda _: self._schedule())
        timeline.motion_changed.connect(self._on_motion)

    def follow(self, captured, body) -> None:
        """Check ``captured`` (a CapturedMotion on ``body``) whenever its motion is on the timeline."""
        self.captured, self.body = captured, body
        self._schedule()

    def shutdown(self) -> None:
        """Stop drawing frames and end the drawing thread (the window closes)."""
        self._timer.stop()
        self._frames.shutdown()

    def _active(self) -> bool:
        return self.captured is not None and self.timeline.motion is self.captured.motion

    def _on_motion(self, motion) -> None:
        if self.captured is not None and motion is not self.captured.motion:
            self.captured = self.body = self.shown = None
            self._timer.stop()
            self._frames.cancel()
            self.editor.restore()

    def _schedule(self) -> None:
        if self._active() and not self.timeline.playing:
            self._timer.start()

    def _draw(self) -> None:
        if not self._active() or self.timeline.playing:
            return
        captured, body = self.captured, self.body
        index = min(len(captured.poses) - 1, round(self.timeline.time * captured.motion.fps))

        def job(progress: Progress, cancel: CancelToken, cache: dict) -> np.ndarray:
            from core.capture.overlay import draw_frame

            return draw_frame(body, captured, index)

        self._frames.submit(f"Video frame {index + 1}", job, lambda image: self._show(captured, index, image))

    def _show(self, captured: CapturedMotion, index: int, image: np.ndarray) -> None:
        if captured is not self.captured or not self._active():  # another motion since: not wanted
            return
        self.shown = index
        count = len(captured.poses)
        missing = " (the person was not seen here: filled in)" if index in captured.missing else ""
        self.editor.show_frame(image, f"Video frame {index + 1} of {count} with the captured body{missing}. "
                                      "Scrub the timeline to check other frames.")

    def _on_failed(self, _name: str, exc: Exception) -> None:
        if self._active():
            self.editor.show_frame(None, f"The video frame cannot be shown: {exc}")
