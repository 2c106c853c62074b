"""Progress reporting and cancellation shared by every long-running stage.

A stage takes ``progress: Progress | None`` — called with a fraction in [0, 1] and a short message
for the user — and ``cancel: CancelToken | None``, which it checks between steps; a cancelled stage
raises :class:`Cancelled` before it writes anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Progress = Callable[[float, str], None]


class Cancelled(Exception):
    """The user cancelled the job."""


class CancelToken:
    """Set from any thread (``cancel()``), checked by the worker (``check()``)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancelled."""
        if self._event.is_set():
            raise Cancelled("cancelled")


def report(progress: Progress | None, fraction: float, message: str, cancel: CancelToken | None = None) -> None:
    """Check ``cancel``, then tell ``progress`` (either may be None)."""
    if cancel is not None:
        cancel.check()
    if progress is not None:
        progress(min(1.0, max(0.0, fraction)), message)


def within(progress: Progress | None, cancel: CancelToken | None, low: float, high: float) -> Progress:
    """``progress`` of a sub-stage mapped onto [low, high] of the whole (checking ``cancel``)."""
    return lambda fraction, message: report(progress, low + (high - low) * fraction, message, cancel)
