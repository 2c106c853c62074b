"""Benchmarks: each writes a JSON report with the machine and library versions it ran on."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from core.io.atomic import write_bytes_atomic


def machine_info() -> dict[str, Any]:
    """Where a benchmark ran: CPU count, torch threads, platform, versions."""
    import numpy
    import torch

    import core

    return {
        "avatarium": core.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": numpy.__version__,
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def peak_rss_gb() -> float:
    """This process's peak resident memory so far, GB (Linux reports kilobytes)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def write_report(path: str | os.PathLike[str], name: str, results: dict[str, Any]) -> Path:
    """Write ``{"benchmark": name, "machine": …, **results}`` as JSON to ``path`` atomically."""
    report = {"benchmark": name, "machine": machine_info(), **results}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, (json.dumps(report, indent=2) + "\n").encode())
    return target
