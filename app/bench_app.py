"""``avatarium bench app``: the real window on a real photo — drop to first avatar frame, event-loop
latency while the reconstruction runs in the background, pose-slider-to-frame latency and the
frame rate while scrubbing a motion."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent

from app.gl_info import gl_info
from app.main import application, process_events_until, wait_until_painted
from app.main_window import MainWindow
from app.preferences import Preferences

_TICK_MS = 10  # the probe timer's interval


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    values = np.asarray(values_ms, dtype=np.float64)
    if values.size == 0:
        return {"count": 0}
    return {"count": int(values.size), "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2), "max_ms": round(float(values.max()), 2)}


def _next_frame_ms(window: MainWindow, change) -> float:
    """Milliseconds from calling ``change()`` until the viewport has swapped a new frame."""
    swapped: list[float] = []

    def on_swap() -> None:
        swapped.append(time.perf_counter())

    window.viewport.frameSwapped.connect(on_swap)
    start = time.perf_counter()
    change()
    process_events_until(lambda: bool(swapped), 10.0)
    window.viewport.frameSwapped.disconnect(on_swap)
    return 1e3 * (swapped[0] - start)


def _drop(window: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))


def _drop_to_avatar(window: MainWindow, photo: Path) -> tuple[float, list[float]]:
    """Drop ``photo``; seconds until the viewport swapped its first frame with the new avatar, and
    how late (ms) a 10 ms timer fired meanwhile (the GUI thread's responsiveness)."""
    lateness: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        lateness.append(max(0.0, 1e3 * (now - last[0]) - _TICK_MS))
        last[0] = now

    probe = QTimer()
    probe.setInterval(_TICK_MS)
    probe.timeout.connect(tick)
    avatar_set: list[bool] = []
    first_frame: list[float] = []

    def on_avatar() -> None:
        avatar_set.append(True)

    def on_swap() -> None:
        if avatar_set and not first_frame:
            first_frame.append(time.perf_counter())

    window.document.avatar_changed.connect(on_avatar)
    window.viewport.frameSwapped.connect(on_swap)
    window.last_error = None
    start = last[0] = time.perf_counter()
    probe.start()
    _drop(window, photo)
    process_events_until(lambda: bool(first_frame) or (not window.jobs.busy and window.last_error is not None), 600.0)
    probe.stop()
    window.viewport.frameSwapped.disconnect(on_swap)
    window.document.avatar_changed.disconnect(on_avatar)
    if window.last_error is not None:
        raise RuntimeError(window.last_error)
    return first_frame[0] - start, lateness


def bench_app(photo: Path, preset: str = "fast", size: int = 512, slider_steps: int = 30,
              scrub_seconds: float = 3.0) -> dict:
    """Run the measures on ``photo`` with ``preset``; the report's results. The photo is dropped
    twice: onto a fresh window (network and detector loaded on the way) and again (loaded)."""
    app = application()
    settings_dir = tempfile.mkdtemp(prefix="avatarium-bench-")
    window = MainWindow(QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.Format.IniFormat))
    window.apply_preferences(Preferences(preset=preset))
    window.viewport.setFixedSize(size, size)
    window.show()
    wait_until_painted(window)
    cold, cold_lateness = _drop_to_avatar(window, photo)
    process_events_until(lambda: not window.jobs.busy, 60.0)
    warm, warm_lateness = _drop_to_avatar(window, photo)
    # pose slider → frame
    panel = window.pose_panel
    panel.select_joint("left_shoulder")
    slider = panel.sliders[2]
    values = np.linspace(slider.minimum(), slider.maximum(), slider_steps).round().astype(int)
    slider_ms = [_next_frame_ms(window, lambda v=int(v): slider.setValue(v)) for v in values]
    # scrubbing a motion: each step moves the scrub bar and waits for its frame
    window.set_motion("walk")
    frames, position = 0, 0
    scrub_start = time.perf_counter()
    while time.perf_counter() - scrub_start < scrub_seconds:
        position = (position + 17) % 1000
        _next_frame_ms(window, lambda p=position: window.timeline.scrub.setValue(p))
        frames += 1
    scrub_fps = frames / (time.perf_counter() - scrub_start)
    gaussians = len(window.document.avatar.cloud)
    window.close()
    app.processEvents()
    return {
        "photo": photo.name, "preset": preset, "viewport_px": [size, size], "gaussians": gaussians,
        "gl": gl_info(),
        "drop_to_avatar_frame_s": {"cold": round(cold, 3), "warm": round(warm, 3)},
        "event_loop_lateness_during_reconstruction": {"cold": _percentiles(cold_lateness),
                                                      "warm": _percentiles(warm_lateness)},
        "event_loop_target_p95_ms": 100,
        "slider_to_frame": _percentiles(slider_ms),
        "scrub_fps": round(scrub_fps, 2),
    }
