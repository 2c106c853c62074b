"""The app's log file (in the user's log folder): job failures and unexpected errors land there with
their tracebacks, while the user sees a one-line message."""

from __future__ import annotations

import logging
from pathlib import Path


def log_path() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir("avatarium")) / "avatarium.log"


def start_logging() -> Path:
    """Send the ``avatarium`` loggers to :func:`log_path` (appending); the path."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("avatarium")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path


def install_error_hook(show_error) -> None:
    """Route exceptions that escape a Qt slot to the log file and to ``show_error(title, message)``
    (a dialog) instead of a traceback on the console; the event loop keeps running."""
    import sys
    import traceback

    def hook(kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        logging.getLogger("avatarium.app").error("unexpected error:\n%s",
                                                 "".join(traceback.format_exception(kind, value, tb)))
        show_error("Something went wrong", f"An unexpected error happened ({kind.__name__}: {value}).\nThe app "
                   f"keeps working; the details are in {log_path()}.")

    sys.excepthook = hook
