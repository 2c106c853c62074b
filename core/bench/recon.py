"""``avatarium bench recon``: time and peak memory of the network's inference on photos.

Per photo (detection and body fit done first, not timed): the network's inputs (person crop, query
points posed and projected, z-buffer visibility) and one forward pass, with torch and with
onnxruntime, as medians of a few repetitions.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from core.bench import peak_rss_gb


def bench_recon(model: str | Path, photos: Sequence[Path], repeats: int = 3,
                progress: Callable[[int, int], None] | None = None) -> dict:
    from core.body.anny_body import AnnyBody
    from core.camera import frame_person
    from core.detect.person import PersonDetector
    from core.fit.fit_body import fit_body
    from core.io.images import load_image
    from core.recon.infer import Reconstructor
    from core.recon.onnx_runtime import export_onnx

    body = AnnyBody()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(model, Path(tmp) / "net.onnx")
        runners = {"torch": Reconstructor(model, body), "onnxruntime": Reconstructor(model, body, onnx=onnx_path)}
        rows = []
        with PersonDetector() as detector:
            for i, path in enumerate(photos):
                photo = load_image(path)
                observation = detector.observe(photo, allow_several=True)
                fit = fit_body(body, observation, frame_person(photo.rgb, observation.mask, observation.box))
                row: dict = {"photo": Path(path).name}
                for name, reconstructor in runners.items():
                    reconstructor(photo.rgb, observation, fit)  # warm-up
                    times = []
                    for _ in range(repeats):
                        start = time.perf_counter()
                        reconstructor(photo.rgb, observation, fit)
                        times.append(time.perf_counter() - start)
                    row[f"{name}_s"] = statistics.median(times)
                rows.append(row)
                if progress is not None:
                    progress(i + 1, len(photos))
    summary = {f"median_{k}": statistics.median(r[k] for r in rows) for k in ("torch_s", "onnxruntime_s") if rows}
    return {"photos": rows, "summary": summary, "peak_rss_gb": peak_rss_gb(), "model": str(model)}


def bench_presets(model: str | Path, photos: Sequence[Path], presets: Sequence[str] = ("fast", "balanced", "best"),
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """End-to-end time (photo loaded → avatar) per preset and photo, per stage, with the input-view
    fidelity (PSNR / SSIM inside the person mask, :func:`core.recon.refine.input_view_scores`); each
    pipeline is warmed up on the first photo once (graph set-up, the avatar's surface layout)."""
    from core.body.anny_body import AnnyBody
    from core.io.images import load_image
    from core.pipeline import BUDGETS_S, Pipeline
    from core.recon.refine import input_view_scores

    body = AnnyBody()
    rows = []
    memory = {}
    done, total = 0, len(presets) * len(photos)
    for preset in presets:
        with Pipeline(body, model, preset=preset) as pipeline:
            pipeline.reconstruct(load_image(photos[0]), allow_several=True)  # warm-up
            for path in photos:
                result = pipeline.reconstruct(load_image(path), allow_several=True)
                scores = input_view_scores(result.avatar, body, result.fit, result.photo.rgb, result.observation)
                rows.append({"preset": preset, "photo": Path(path).name, **result.timings,
                             "psnr_input_db": round(scores["psnr_db"], 2), "ssim_input": round(scores["ssim"], 4)})
                done += 1
                if progress is not None:
                    progress(done, total)
        memory[preset] = round(peak_rss_gb(), 3)

    def median(preset: str, key: str) -> float:
        return statistics.median(r[key] for r in rows if r["preset"] == preset)

    summary = {preset: median(preset, "total") for preset in presets}
    return {"runs": rows, "median_total_s": summary, "budget_s": {p: BUDGETS_S.get(p) for p in presets},
            "median_stage_s": {p: {stage: round(median(p, stage), 3) for stage in
                                   ("detection", "fit", "network", "avatar", "refine")} for p in presets},
            "median_psnr_input_db": {p: median(p, "psnr_input_db") for p in presets},
            "median_ssim_input": {p: median(p, "ssim_input") for p in presets},
            "peak_rss_gb_after": memory, "peak_rss_gb": peak_rss_gb(), "model": str(model)}
