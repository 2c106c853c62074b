"""Test-suite set-up: one torch thread, OpenGL 4.1 core format, a virtual display when needed."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

torch.set_num_threads(1)


def pytest_configure(config: pytest.Config) -> None:
    from app.headless import has_display, start_virtual_display

    if not has_display() and shutil.which("Xvfb"):
        start_virtual_display()  # GUI tests need a real X server for OpenGL (offscreen has none)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if has_display() else "offscreen")

    from app.main import configure_opengl

    configure_opengl()  # before pytest-qt creates the QApplication


@pytest.fixture(scope="session")
def gl_available() -> None:
    """Skip (with the reason) where no X display can be had for OpenGL."""
    from app.headless import has_display

    if not has_display():
        pytest.skip("OpenGL tests need an X display or Xvfb (apt-get install xvfb libgl1-mesa-dri)")


@pytest.fixture(scope="session")
def example_cloud():
    from core.examples import figure_cloud

    return figure_cloud(3000)
