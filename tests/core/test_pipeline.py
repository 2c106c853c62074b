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
    assert result["budget_s"] == {"fast": 5.0} and set(result["median_stage_s"]["fast"]) == {
        "detection", "fit", "network", "avatar", "refine"}
    assert 5 < result["runs"][0]["psnr_input_db"] < 60 and 0 < result["runs"][0]["ssim_input"] <= 1


@needs_photos
def test_input_view_fidelity_of_the_shipped_network_and_refinement(anny_body):
    """Real photos, the shipped network (fast preset, no refinement), then the balanced preset's
    colour refinement: the avatar seen through the fit's camera reproduces the photo inside the
    person, and refinement brings it much closer (numbers in the bench pipeline report)."""
    from core.pipeline import PRESETS
    from core.recon.refine import input_view_scores, refine_avatar
    from core.resources import resource_path

    balanced = PRESETS["balanced"]
    with Pipeline(anny_body, resource_path("models", "avatarium-small"), preset="fast") as pipeline:
        for name in ("01_pifu_ryota.png", "09_lhm_sweater_video_image.png"):
            r = pipeline.reconstruct(load_image(PHOTOS / name))
            network = input_view_scores(r.avatar, anny_body, r.fit, r.photo.rgb, r.observation)
            refined_avatar = refine_avatar(r.avatar, anny_body, r.fit, r.photo.rgb, r.observation,
                                           balanced.refine_iterations, balanced.refine_size)
            refined = input_view_scores(refined_avatar, anny_body, r.fit, r.photo.rgb, r.observation)
            assert network["psnr_db"] > 12.0 and network["ssim"] > 0.3, (name, network)
            assert refined["psnr_db"] > network["psnr_db"] + 6.0 and refined["ssim"] > network["ssim"], (
                name, network, refined)


@needs_photos
@pytest.mark.parametrize("stage", ["Finding the person", "Fitting the body", "Predicting the Gaussians",
                                   "Building the avatar", "Refining the avatar", "Updating the body",
                                   "Predicting the Gaussians on the updated body"])
def test_cancel_at_each_stage_returns_promptly(anny_body, tiny_model, stage):
    photo = load_image(PHOTOS / "05_lhm_000057.png")
    quick = Preset(FitOptions(iterations=(10, 10, 10, 0)), gaussians=4000, refine_iterations=4, refine_size=96,
                   body_rounds=2)
    token, cancelled_at, stages = CancelToken(), [], []

    def cancel_at_stage(fraction, message):
        stages.append(message)
        if message.startswith(stage) and not cancelled_at:
            token.cancel()
            cancelled_at.append(time.perf_counter())

    with Pipeline(anny_body, tiny_model[0], preset=quick) as pipeline, pytest.raises(Cancelled):
        pipeline.reconstruct(photo, progress=cancel_at_stage, cancel=token)
    assert cancelled_at, f"the stage '{stage}' never reported ({sorted(set(stages))})"
    assert time.perf_counter() - cancelled_at[0] < 0.5


@needs_photos
def test_interrupted_reconstruct_command_writes_nothing(tmp_path):
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "cli", "reconstruct", str(PHOTOS / "05_lhm_000057.png"),
                                "-o", str(out), "--preset", "balanced"], stderr=subprocess.PIPE, text=True)
    seen = ""
    while "Fitting the body" not in seen:  # the progress line on stderr
        char = process.stderr.read(1)
        assert char, f"the command ended before fitting: {seen[-500:]}"
        seen += char
    start = time.perf_counter()
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 130
    assert time.perf_counter() - start < 5.0
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


@needs_photos
def test_the_pipeline_sharpens_the_person_mask_unless_told_not_to(anny_body, tiny_model):
    import numpy as np

    from core.detect.person import PersonDetector

    photo = load_image(PHOTOS / "01_pifu_ryota.png")
    with PersonDetector() as detector:
        raw, sharp = (detector.observe(photo, grabcut=grabcut).mask for grabcut in (False, True))
    assert not np.array_equal(raw, sharp)
    for grabcut, expected in ((True, sharp), (False, raw)):
        with Pipeline.from_settings(anny_body, "fast", model_dir=tiny_model[0], grabcut=grabcut) as pipeline:
            assert np.array_equal(pipeline.observe(photo).mask, expected)


def test_pipeline_from_settings_picks_the_network_and_its_backend(anny_body, tiny_model, tmp_path):
    from core.recon.onnx_runtime import OnnxNetwork
    from core.resources import shipped_model_dir

    with Pipeline.from_settings(anny_body, "fast") as pipeline:
        assert pipeline.reconstructor.query.triangles.shape[0] == 6000  # the shipped network's layout
        assert pipeline.reconstructor.runner is pipeline.reconstructor.model
    with Pipeline.from_settings(anny_body, "fast", "onnxruntime", model_dir=tiny_model[0],
                                cache_dir=tmp_path) as pipeline:
        assert isinstance(pipeline.reconstructor.runner, OnnxNetwork)
        assert len(list(tmp_path.glob("network-*.onnx"))) == 1
    with pytest.raises(ValueError, match="needs a folder"):
        Pipeline.from_settings(anny_body, "fast", "onnxruntime", model_dir=tiny_model[0])
    with pytest.raises(ValueError, match="torch or onnxruntime"):
        Pipeline.from_settings(anny_body, "fast", "tensorrt", model_dir=shipped_model_dir())


def test_a_reconstruction_frames_the_person_once_per_size(anny_body, monkeypatch):
    """The fit's 512² crop and the network's 256² crop, which refinement (256²) reuses."""
    import core.camera
    from core.resources import example_photo_path, shipped_model_dir

    sizes = []

    def counting(*args, **kwargs):
        frame = core.camera.frame_person(*args, **kwargs)
        sizes.append(frame.image.shape[0])
        return frame

    for module in ("core.pipeline", "core.recon.infer", "core.recon.refine"):
        monkeypatch.setattr(f"{module}.frame_person", counting)
    with Pipeline(anny_body, shipped_model_dir(), "balanced") as pipeline:
        pipeline.reconstruct(load_image(example_photo_path()))
    assert sorted(sizes) == [256, 512]
