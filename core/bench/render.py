"""``avatarium bench render``: the CPU rasterizer backends' forward and forward+backward times and peak
memory, one fresh process per case (so peak RSS and the thread count belong to that case). The first
call of each case is untimed (it loads or compiles the numba kernels)."""

from __future__ import annotations

import json
import subprocess
import sys

_CASE = """
import json, resource, statistics, sys, time, torch
torch.set_num_threads({threads})
from core.examples import figure_cloud
from core.render.offline import framed_camera
from core.render.rasterize import rasterize
cloud = figure_cloud({splats})
camera = framed_camera(cloud)
view = torch.tensor(camera.viewmat(), dtype=torch.float32)[None]
K = torch.tensor(camera.intrinsics({size}, {size}), dtype=torch.float32)[None]
params = [cloud.means, cloud.quats, cloud.scales().detach(), cloud.opacities().detach(), cloud.base_colors().detach()]
def forward():
    with torch.no_grad():
        rasterize(*params, view, K, {size}, {size}, backend="{backend}")
def forward_backward():
    leaves = [p.clone().requires_grad_(True) for p in params]
    image, alpha, _ = rasterize(*leaves, view, K, {size}, {size}, backend="{backend}")
    (image.sum() + alpha.sum()).backward()
def median(fn):
    fn()
    times = []
    for _ in range({repeats}):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return statistics.median(times)
result = {{"forward_s": median(forward), "forward_backward_s": median(forward_backward)}}
result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(json.dumps(result))
"""


def bench_render(splat_counts: list[int], sizes: list[int], threads: list[int], backends: list[str],
                 repeats: int = 3) -> dict:
    """Time each backend on the example figure for every (backend, threads, splats, size) case."""
    rows = []
    for backend in backends:
        for thread_count in threads:
            for splats in splat_counts:
                for size in sizes:
                    code = _CASE.format(threads=thread_count, splats=splats, size=size, repeats=repeats,
                                        backend=backend)
                    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                          timeout=3600, check=True)
                    measured = json.loads(done.stdout.strip().splitlines()[-1])
                    rows.append({"backend": backend, "threads": thread_count, "splats": splats, "size": size,
                                 **{k: round(v, 4) for k, v in measured.items()}})
    return {"scene": "core.examples.figure_cloud, framed front view", "results": rows}
