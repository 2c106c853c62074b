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
