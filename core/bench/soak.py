"""``avatarium bench soak``: many reconstructions and exports in a row in one process, watching
memory, threads and open files (a leak shows as growth from the first runs to the last).

Each run: load the photo, reconstruct it (one :class:`core.pipeline.Pipeline`, reused), write every
export format into a scratch folder, delete them. Photos are taken in turn until ``count`` runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def _rss_gb() -> float:
    """Current resident memory of this process, GB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (OSError, ValueError):
        return 0.0


def _open_files() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def _os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def bench_soak(photos: Sequence[Path], count: int = 50, preset: str = "fast",
               progress: Callable[[int, int], None] | None = None) -> dict:
    from core.bench import peak_rss_gb
    from core.body.anny_body import AnnyBody
    from core.body.motions import builtin_motion
    from core.export.writers import FORMATS, write_formats
    from core.io.images import load_image
    from core.pipeline import Pipeline
    from core.resources import shipped_model_dir

    body = AnnyBody()
    motion = builtin_motion("wave")  # for the formats that play one (bvh, the rigs' animation, the web player)
    runs = []
    scratch = Path(tempfile.mkdtemp(prefix="avatarium-soak-"))
    try:
        with Pipeline(body, shipped_model_dir(), preset) as pipeline:
            for i in range(count):
                path = Path(photos[i % len(photos)])
                start = time.perf_counter()
                result = pipeline.reconstruct(load_image(path), allow_several=True)
                written = write_formats(scratch / f"run{i:03d}", FORMATS, body, result.avatar, result.fit,
                                        result.photo.rgb, motion)
                for file in written:
                    file.unlink()
                runs.append({"run": i, "photo": path.name, "seconds": round(time.perf_counter() - start, 3),
                             "rss_gb": round(_rss_gb(), 3), "python_threads": threading.active_count(),
                             "os_threads": _os_threads(), "open_files": _open_files()})
                if progress is not None:
                    progress(i + 1, count)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    first, last = runs[0], runs[-1]
    return {"preset": preset, "runs": runs, "count": count,
            "rss_gb": {"after_first": first["rss_gb"], "after_last": last["rss_gb"],
                       "max": max(r["rss_gb"] for r in runs)},
            "peak_rss_gb": round(peak_rss_gb(), 3),
            "open_files": {"after_first": first["open_files"], "after_last": last["open_files"]},
            "os_threads": {"after_first": first["os_threads"], "after_last": last["os_threads"]},
            "python_threads": {"after_first": first["python_threads"], "after_last": last["python_threads"]},
            "median_seconds": sorted(r["seconds"] for r in runs)[len(runs) // 2]}
