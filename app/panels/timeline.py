"""The motion timeline: a clip (built-in or imported), play / pause, loop, speed and a scrub bar.

With no clip ("Pose panel") the viewport shows the document's pose; with a clip it shows the
clip's pose at the timeline's time. ``frame`` carries the pose to show.
"""

from __future__ import annotations

import time

import torch
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

from core.body.motion_files import Motion
from core.body.motions import BUILTIN_MOTIONS, load_motion

NO_MOTION = "Pose panel"
_IMPORT = "Import motion…"
_SCRUB_STEPS = 1000


class MotionTimeline(QWidget):
    """Plays a :class:`Motion`; emits ``frame(pose [55, 3], root [3])`` for each shown time and
    ``motion_changed`` (None when the pose panel drives the view)."""

    frame = Signal(object, object)
    motion_changed = Signal(object)
    failed = Signal(str, str)  # title, message (an imported file that cannot be read)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.motion: Motion | None = None
        self.time = 0.0
        self.clip = QComboBox()
        self.clip.addItems([NO_MOTION, *BUILTIN_MOTIONS, _IMPORT])
        self.clip.activated.connect(self._on_clip)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play)
        self.loop = QCheckBox("Loop")
        self.loop.setChecked(True)
        self.speed = QDoubleSpinBox(suffix="×", minimum=0.1, maximum=4.0, singleStep=0.25, value=1.0)
        self.speed.setToolTip("Playback speed")
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setRange(0, _SCRUB_STEPS)
        self.scrub.valueChanged.connect(self._on_scrub)
        self.label = QLabel("")
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("00.00 / 00.00 s"))
        layout = QHBoxLayout(self)
        for widget in (self.clip, self.play_button, self.loop, self.speed):
            layout.addWidget(widget)
        layout.addWidget(self.scrub, 1)
        layout.addWidget(self.label)
        self._timer = QTimer(self)
        self._timer.setInterval(16)
        self._timer.timeout.connect(self._tick)
        self._clock = time.perf_counter()
        self._set_enabled()

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_motion(self, motion: Motion | None) -> None:
        """Play ``motion`` from its start (paused), or hand the view back to the pose panel."""
        self.pause()
        self.motion = motion
        name = NO_MOTION if motion is None else motion.name
        if self.clip.findText(name) < 0:
            self.clip.insertItem(self.clip.count() - 1, name)
        self.clip.setCurrentText(name)
        self._set_enabled()
        self.motion_changed.emit(motion)
        if motion is not None:
            self.show_time(0.0)

    def show_time(self, seconds: float) -> None:
        """Show the clip at ``seconds`` (wrapped when looping, else clamped)."""
        if self.motion is None:
            return
        duration = max(self.motion.duration, 1e-6)
        self.time = seconds % duration if self.loop.isChecked() else min(max(seconds, 0.0), duration)
        self.scrub.blockSignals(True)
        self.scrub.setValue(round(self.time / duration * _SCRUB_STEPS))
        self.scrub.blockSignals(False)
        self.label.setText(f"{self.time:5.2f} / {self.motion.duration:.2f} s")
        pose, trans = self.motion.sample(torch.tensor([self.time]))
        self.frame.emit(pose[0], trans[0])

    def play(self) -> None:
        if self.motion is not None:
            self.play_button.setChecked(True)

    def pause(self) -> None:
        self.play_button.setChecked(False)

    def _on_play(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on and self.motion is not None:
            self._clock = time.perf_counter()
            self._timer.start()
        else:
            self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        seconds = self.time + (now - self._clock) * self.speed.value()
        self._clock = now
        if not self.loop.isChecked() and seconds >= self.motion.duration:
            self.show_time(self.motion.duration)
            self.pause()
            return
        self.show_time(seconds)

    def _on_scrub(self, value: int) -> None:
        if self.motion is not None:
            self.show_time(self.motion.duration * value / _SCRUB_STEPS)

    def _on_clip(self, index: int) -> None:
        text = self.clip.itemText(index)
        if text == NO_MOTION:
            self.set_motion(None)
            return
        if text == _IMPORT:
            name, _ = QFileDialog.getOpenFileName(self, "Import a motion", "", "AMASS motions (*.npz);;All files (*)")
            if not name:
                self.clip.setCurrentText(NO_MOTION if self.motion is None else self.motion.name)
                return
            text = name
        try:
            motion = load_motion(text)
        except (ValueError, KeyError, OSError) as exc:  # MotionError is a ValueError
            self.clip.setCurrentText(NO_MOTION if self.motion is None else self.motion.name)
            self.failed.emit("Cannot load the motion", str(exc))
            return
        self.set_motion(motion)
        self.play()

    def _set_enabled(self) -> None:
        for widget in (self.play_button, self.loop, self.speed, self.scrub):
            widget.setEnabled(self.motion is not None)
