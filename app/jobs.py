"""Background jobs: long work (reconstruction, refits, exports) runs in one worker thread, never in
the GUI thread; progress, results and errors come back as signals.

A job is a callable ``job(progress, cancel, cache) -> result`` (``core.progress`` conventions;
``cache`` is a dict that lives in the worker thread, where loaded pipelines are kept: mediapipe's
graphs belong to the thread that made them). Submitting a job while one runs cancels the running
one and queues the new one (an older queued job is dropped and reported cancelled).
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from core.progress import Cancelled, CancelToken, Progress

Job = Callable[[Progress, CancelToken, dict], Any]
log = logging.getLogger("avatarium.jobs")


@dataclass
class _Task:
    serial: int
    name: str
    job: Job
    on_finished: Callable[[Any], None] | None = None
    cancel: CancelToken = field(default_factory=CancelToken)


class _Worker(QObject):
    """Lives in the worker thread and runs one task at a time."""

    progress = Signal(int, float, str)  # serial, fraction, message
    done = Signal(int, str, object)  # serial, outcome ("finished" | "failed" | "cancelled"), result or error

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict = {}

    @Slot(object)
    def run(self, task: _Task) -> None:
        def progress(fraction: float, message: str) -> None:
            self.progress.emit(task.serial, float(fraction), message)

        try:
            task.cancel.check()
            result = task.job(progress, task.cancel, self.cache)
        except Cancelled:
            self.done.emit(task.serial, "cancelled", None)
        except Exception as exc:  # every failure reaches the user as a message, never a dead thread
            log.error("job %s failed:\n%s", task.name, traceback.format_exc())
            self.done.emit(task.serial, "failed", exc)
        else:
            self.done.emit(task.serial, "finished", result)

    @Slot()
    def clear(self) -> None:
        for item in self.cache.values():
            close = getattr(item, "close", None)
            if close is not None:
                close()
        self.cache.clear()


class JobRunner(QObject):
    """Runs jobs one at a time in a worker thread; signals are delivered in the GUI thread."""

    started = Signal(str)  # job name
    progress = Signal(float, str)  # fraction of the running job, message
    finished = Signal(str, object)  # job name, result
    failed = Signal(str, object)  # job name, the exception
    cancelled = Signal(str)  # job name
    busy_changed = Signal(bool)
    _run = Signal(object)
    _clear = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._serials = itertools.count(1)
        self._thread = QThread()
        self._thread.setObjectName("avatarium-worker")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._run.connect(self._worker.run)
        self._clear.connect(self._worker.clear)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._current: _Task | None = None
        self._pending: _Task | None = None

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def current_name(self) -> str | None:
        return None if self._current is None else self._current.name

    def submit(self, name: str, job: Job, on_finished: Callable[[Any], None] | None = None) -> None:
        """Run ``job`` now, or, while another runs, cancel that one and run this one next. ``on_finished``
        gets the job's result in the GUI thread (before :attr:`finished` is emitted); a failed or
        cancelled job never calls it."""
        task = _Task(next(self._serials), name, job, on_finished)
        if self._current is None:
            self._start(task)
            return
        self._current.cancel.cancel()
        if self._pending is not None:
            self.cancelled.emit(self._pending.name)
        self._pending = task

    def cancel(self) -> None:
        """Cancel the running job and drop the queued one."""
        if self._pending is not None:
            self.cancelled.emit(self._pending.name)
            self._pending = None
        if self._current is not None:
            self._current.cancel.cancel()

    def reset_cache(self) -> None:
        """Forget the worker's loaded pipelines (after the preferences changed)."""
        self._clear.emit()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel everything and stop the worker thread."""
        self.cancel()
        if self._thread.isRunning():
            self._clear.emit()
            self._thread.quit()
            self._thread.wait(timeout_ms)

    def _start(self, task: _Task) -> None:
        if not self._thread.isRunning():  # started on first use: a window that runs no job has no thread
            self._thread.start()
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self.shutdown)
        self._current = task
        self.started.emit(task.name)
        self.busy_changed.emit(True)
        self._run.emit(task)

    def _on_progress(self, serial: int, fraction: float, message: str) -> None:
        if self._current is not None and serial == self._current.serial and not self._current.cancel.cancelled:
            self.progress.emit(fraction, message)

    def _on_done(self, serial: int, outcome: str, value: object) -> None:
        task = self._current
        if task is None or task.serial != serial:
            return
        self._current = None
        if outcome == "finished" and task.cancel.cancelled:
            outcome = "cancelled"  # finished after the user cancelled: the result is not wanted
        if outcome == "finished":
            if task.on_finished is not None:
                task.on_finished(value)
            self.finished.emit(task.name, value)
        elif outcome == "failed":
            self.failed.emit(task.name, value)
        else:
            self.cancelled.emit(task.name)
        if self._current is not None:  # a handler above submitted the next job (e.g. fit after detection)
            return
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start(pending)
        else:
            self.busy_changed.emit(False)
