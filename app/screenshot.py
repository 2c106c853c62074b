"""The README's screenshot of the main window: the bundled example photo (a synthetic person the
project rendered) reconstructed in the real window, posed, with the skeleton guide on.

    python -m app.screenshot [-o resources/screenshots/app_window.png] [--preset balanced]

Needs a display or Xvfb (started when there is none).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from app.headless import has_display, start_virtual_display


def app_screenshot(target: Path, preset: str = "balanced", timeout_s: float = 600.0) -> Path:
    """Reconstruct the example photo in a real window and save the whole window to ``target``."""
    from PySide6.QtCore import QSettings

    from app.images import encode_image
    from app.main import application, process_events_until, wait_until_painted
    from app.main_window import MainWindow
    from app.preferences import Preferences
    from core.io.atomic import atomic_write
    from core.resources import example_photo_path

    application()
    settings = QSettings(str(Path(tempfile.mkdtemp(prefix="avatarium-shot-")) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.apply_preferences(Preferences(preset=preset))
    window.resize(1400, 860)
    window.show()
    wait_until_painted(window)
    window.open_path(example_photo_path())
    process_events_until(lambda: not window.jobs.busy and (window.document.avatar or window.last_error), timeout_s,
                         "the reconstruction")
    if window.document.avatar is None:
        raise RuntimeError(window.last_error)
    window.pose_panel.apply_preset("Relaxed")
    window.pose_panel.select_joint("right_shoulder")
    window.pose_panel.sliders[2].setValue(-95)  # wave with the right arm
    window.pose_panel.select_joint("right_elbow")
    window.pose_panel.sliders[1].setValue(60)
    window.show_guide("grid", True)
    window.viewport.camera.orbit(0.45, 0.12)
    window.viewport.update()
    settle = time.monotonic() + 0.4
    process_events_until(lambda: time.monotonic() > settle, 5.0)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as stream:
        stream.write(encode_image(window.grab().toImage(), "PNG"))
    window.close()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="resources/screenshots/app_window.png")
    parser.add_argument("--preset", default="balanced", choices=("fast", "balanced", "best"))
    args = parser.parse_args(argv)
    if not has_display():
        start_virtual_display()
    print(f"Wrote {app_screenshot(Path(args.output), args.preset)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
