"""``avatarium bench body``: body-model load and forward times, Gaussian skinning times."""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

# a fresh interpreter: total time, and time after torch is imported (anny import + model data)
_COLD = (
    "import time; t = time.perf_counter(); import torch; t1 = time.perf_counter(); "
    "from core.body.anny_body import AnnyBody; AnnyBody(); "
    "print(time.perf_counter() - t, time.perf_counter() - t1)"
)


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def bench_body(gaussian_counts: list[int], repeats: int = 20) -> dict:
    """Measure anny on this machine; returns the report's results."""
    from core.avatar.binding import Binding, bind_points
    from core.avatar.skinning import skin_gaussian_arrays
    from core.body.anny_body import AnnyBody
    from core.body.motions import builtin_motion
    from core.gaussians import GaussianCloud

    cold = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, timeout=600, check=True)
    cold_total, cold_model = (float(x) for x in cold.stdout.split())
    start = time.perf_counter()
    AnnyBody()  # first in this process: includes importing anny (and roma, which imports torch._dynamo)
    first_load = time.perf_counter() - start
    start = time.perf_counter()
    body = AnnyBody()
    warm_load = time.perf_counter() - start
    shape = body.default_shape()
    pose = builtin_motion("walk").poses[10:11]
    forward_ms = _median_ms(lambda: body.forward(shape, pose), repeats)
    shapes = iter(torch.rand(repeats + 1, 1, len(body.shape_parameters)))
    forward_new_shape_ms = _median_ms(lambda: body.forward(next(shapes), pose), repeats)
    out = body.forward(shape, pose)
    rest = body.rest(shape).vertices[0]
    rows = []
    g = torch.Generator().manual_seed(0)
    for count in gaussian_counts:
        anchors = rest[torch.randint(len(rest), (count,), generator=g)]
        means = anchors + 0.01 * torch.randn(count, 3, generator=g)
        cloud = GaussianCloud.from_activated(means, torch.full_like(means, 0.5), torch.full_like(means, 0.01),
                                             torch.full((count,), 0.9), torch.randn(count, 4, generator=g))
        start = time.perf_counter()
        binding = bind_points(means, body, rest)
        bind_s = time.perf_counter() - start
        for k in (9, 4):
            indices, weights = binding.top(k)
            reduced = dataclasses.replace(binding, bone_indices=indices, bone_weights=weights)

            def skin(cloud: GaussianCloud = cloud, reduced: Binding = reduced) -> object:
                return skin_gaussian_arrays(cloud, reduced, out.transforms[0])

            rows.append({
                "gaussians": count, "bones_per_gaussian": k,
                "skin_ms": round(_median_ms(skin, max(3, repeats // 4)), 2),
                "bind_s": round(bind_s, 3),
            })
    return {
        "model": "anny",
        "load": {"cold_process_s": round(cold_total, 3), "cold_model_s": round(cold_model, 3),
                 "first_in_process_s": round(first_load, 3), "warm_s": round(warm_load, 3)},
        "forward_ms": {"same_shape": round(forward_ms, 2), "new_shape": round(forward_new_shape_ms, 2)},
        "skinning": rows,
    }
