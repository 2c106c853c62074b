"""Running GIL-free compiled kernels on ``torch.get_num_threads()`` threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def run_split(kernel: Callable[..., None], items: np.ndarray, *args) -> None:
    """Call ``kernel(part, *args)`` for parts of ``items`` (1-D) split among torch.get_num_threads()
    threads, interleaved (so neighbouring, similarly busy items are shared out); returns when all are done.
    The kernel must release the GIL and write disjoint outputs for disjoint parts."""
    threads = min(torch.get_num_threads(), len(items))
    if threads <= 1:
        kernel(items, *args)
        return
    with _POOLS_LOCK:  # one pool per thread count, whichever thread asks first
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="avatarium-kernel")
    for future in [pool.submit(kernel, np.ascontiguousarray(items[i::threads]), *args) for i in range(threads)]:
        future.result()
