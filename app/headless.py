"""A private virtual X display (Xvfb) for running the real OpenGL viewer without a screen."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys

_PR_SET_PDEATHSIG = 1


class NoDisplayError(RuntimeError):
    """No screen and no way to make a virtual one."""


def has_display() -> bool:
    """True when a window can be shown (always on macOS and Windows)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _die_with_parent() -> None:  # runs in the child between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_virtual_display(width: int = 1280, height: int = 1024) -> str:
    """Start Xvfb on a free display number and point ``DISPLAY`` (and Qt) at it.

    The server lives exactly as long as this process (it is stopped by the kernel when we exit,
    after Qt has closed its connection), so nothing is left running. Returns the display name.
    """
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise NoDisplayError("There is no display and Xvfb is not installed. Install it "
                             "('sudo apt-get install xvfb libgl1-mesa-dri') or run with a display.")
    read_fd, write_fd = os.pipe()
    subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        raise NoDisplayError("Xvfb failed to start a virtual display")
    os.environ["DISPLAY"] = f":{number}"
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return os.environ["DISPLAY"]
