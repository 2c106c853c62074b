"""``avatarium bench viewer``: frame rate of the real viewport, static and orbiting, and sort time."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from PySide6.QtCore import QEventLoop, QTimer

from app.gl_info import gl_info
from app.main import application, wait_until_painted
from app.main_window import MainWindow
from core.camera import OrbitCamera
from core.examples import figure_cloud
from core.gaussians import GaussianCloud
from core.render import depth_sort, viewport_data

WARM_UP_FRAMES = 5  # not timed: the first frame after a new cloud uploads it and builds shader variants
_STALL_S = 60.0


def _frames_per_second(window: MainWindow, seconds: float, orbit: bool) -> float:
    """Redraw continuously, orbiting 1° per frame if asked; frames / second over the ``seconds`` that
    follow :data:`WARM_UP_FRAMES` untimed frames."""
    viewport = window.viewport
    frames = 0
    start = 0.0
    loop = QEventLoop()

    def next_frame() -> None:
        nonlocal frames, start
        frames += 1
        if frames == WARM_UP_FRAMES:
            start = time.perf_counter()
            QTimer.singleShot(int(seconds * 1000), loop.quit)
        if orbit:
            viewport.camera.orbit(np.radians(1.0), 0.0)
        viewport.update()

    viewport.frameSwapped.connect(next_frame)
    QTimer.singleShot(int((seconds + _STALL_S) * 1000), loop.quit)  # in case frames stop coming
    viewport.update()
    loop.exec()
    elapsed = time.perf_counter() - start
    viewport.frameSwapped.disconnect(next_frame)
    if frames <= WARM_UP_FRAMES:
        raise RuntimeError(f"the viewport drew {frames} frames in {seconds + _STALL_S:.0f} s; is the window shown?")
    return (frames - WARM_UP_FRAMES) / elapsed


def _sort_ms(means: np.ndarray, repeats: int = 20) -> float:
    """Median time (ms) of the depth sort for varied view directions."""
    camera = OrbitCamera()
    times = []
    for i in range(repeats):
        camera.orbit(0.37 * i, 0.0)
        start = time.perf_counter()
        viewport_data.back_to_front(means, camera.viewmat())
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def _with_sh(cloud: GaussianCloud, degree: int) -> GaussianCloud:
    """``cloud`` with view-dependent colour: random SH coefficients up to ``degree`` (seeded)."""
    if degree == 0:
        return cloud
    g = torch.Generator().manual_seed(degree)
    higher = 0.1 * torch.randn(len(cloud), (degree + 1) ** 2 - 1, 3, generator=g)
    return GaussianCloud(cloud.means, cloud.quats, cloud.log_scales, cloud.opacity_logits,
                         torch.cat([cloud.sh, higher], 1))


def bench_viewer(splat_counts: list[int], size: int = 512, seconds: float = 3.0, sh_degree: int = 0) -> dict:
    """Measure the viewport at ``size``² for each splat count (colours of SH ``sh_degree``); returns the
    report's results."""
    application()
    depth_sort.prepare()  # the app loads it in its warm-up job; until then it sorts with NumPy
    window = MainWindow()
    window.viewport.setFixedSize(size, size)
    window.show()
    window.adjustSize()  # llvmpipe composes the whole window every frame: keep it tight
    wait_until_painted(window)
    results = []
    for count in splat_counts:
        cloud = _with_sh(figure_cloud(count), sh_degree)
        window.viewport.set_cloud(cloud)
        window.viewport.reset_view()
        static = _frames_per_second(window, seconds, orbit=False)
        orbiting = _frames_per_second(window, seconds, orbit=True)
        results.append({
            "splats": len(cloud),
            "fps_static": round(static, 2),
            "fps_orbit": round(orbiting, 2),
            "sort_ms": round(_sort_ms(cloud.means.numpy()), 3),
        })
    window.close()
    return {"viewport_px": [size, size], "seconds_per_measure": seconds, "sh_degree": sh_degree, "gl": gl_info(),
            "results": results}
