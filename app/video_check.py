"""The video beside its motion: while a motion taken from a video is paused or scrubbed, the fit
editor shows that frame of the video with the captured body over it."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from app.panels.fit_editor import FitEditor
from app.panels.timeline import MotionTimeline

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
        timeline.frame.connect(lambda *_: self._schedule())
        timeline.play_button.toggled.connect(lambda _: self._schedule())
        timeline.motion_changed.connect(self._on_motion)

    def follow(self, captured, body) -> None:
        """Check ``captured`` (a CapturedMotion on ``body``) whenever its motion is on the timeline."""
        self.captured, self.body = captured, body
        self._schedule()

    def _active(self) -> bool:
        return self.captured is not None and self.timeline.motion is self.captured.motion

    def _on_motion(self, motion) -> None:
        if self.captured is not None and motion is not self.captured.motion:
            self.captured = self.body = self.shown = None
            self._timer.stop()
            self.editor.restore()

    def _schedule(self) -> None:
        if self._active() and not self.timeline.playing:
            self._timer.start()

    def _draw(self) -> None:
        from core.capture.overlay import draw_frame
        from core.io.video_reader import VideoError

        if not self._active() or self.timeline.playing:
            return
        count = len(self.captured.poses)
        index = min(count - 1, round(self.timeline.time * self.captured.motion.fps))
        try:
            image = draw_frame(self.body, self.captured, index)
        except VideoError as exc:
            self.editor.show_frame(None, f"The video frame cannot be shown: {exc}")
            return
        self.shown = index
        missing = " (the person was not seen here: filled in)" if index in self.captured.missing else ""
        self.editor.show_frame(image, f"Video frame {index + 1} of {count} with the captured body{missing}. "
                                      "Scrub the timeline to check other frames.")
