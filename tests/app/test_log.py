"""Unexpected errors in slots reach the user as a message and the log file, not a console traceback."""

from __future__ import annotations

import logging
import sys

from app.log import install_error_hook, log_path


def test_error_hook_logs_and_shows_a_message(monkeypatch, caplog):
    shown = []
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_error_hook(lambda title, message: shown.append((title, message)))
    try:
        raise ZeroDivisionError("division by zero in a slot")
    except ZeroDivisionError:
        with caplog.at_level(logging.ERROR, logger="avatarium"):
            sys.excepthook(*sys.exc_info())
    assert shown and "ZeroDivisionError" in shown[0][1] and str(log_path()) in shown[0][1]
    assert "Traceback" in caplog.text and "division by zero in a slot" in caplog.text
