import time

import pytest
from photos import PHOTOS, needs_photos

from core.fit.fit_body import FitOptions
from core.io.images import load_image
from core.pipeline import Pipeline, Preset
from core.progress import Cancelled, CancelToken


@needs_photos
def test_reconstruct_a_photo_then_cancel_one(anny_body, tiny_model):
    photo = load_image(PHOTOS / "01_pifu_ryota.png")
    seen = []
    quick = Preset(FitOptions(iterations=(10, 10, 10, 0)), gaussians=4000, refine_iterations=2, refine_size=96)
    with Pipeline(anny_body, tiny_model[0], preset=quick) as pipeline:
        result = pipeline.reconstruct(photo, progress=lambda f, m: seen.append((f, m)))
        assert len(result.avatar.cloud) == 4000 and result.fit.body_model == "anny"
        assert set(result.timings) == {"detection", "fit", "network", "avatar", "refine", "total"}
        assert any("Refining" in m for _, m in seen)
        fractions = [f for f, _ in seen]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0 and seen[-1][1] == "Avatar ready"
        with pytest.raises(ValueError, match="unknown preset"):
            Pipeline(anny_body, tiny_model[0], preset="slow")
        token = CancelToken()
        cancelled_at = []

        def cancel_in_fit(fraction, message):
            if "Fitting" in message and not cancelled_at:
                token.cancel()
                cancelled_at.append(time.perf_counter())

        with pytest.raises(Cancelled):
            pipeline.reconstruct(photo, progress=cancel_in_fit, cancel=token)
        assert time.perf_counter() - cancelled_at[0] < 0.5


@needs_photos
def test_bench_presets_times_photo_to_avatar(tiny_model):
    from core.bench.recon import bench_presets

    result = bench_presets(tiny_model[0], [PHOTOS / "01_pifu_ryota.png"], presets=["fast"])
    assert set(result["median_total_s"]) == {"fast"} and result["median_total_s"]["fast"] > 0
    assert result["runs"][0]["refine"] < 0.01  # the fast preset does not refine
