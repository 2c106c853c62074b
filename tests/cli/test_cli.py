"""The ``avatarium`` command as a user runs it (subprocesses, real files)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from photos import PHOTOS, needs_photos
from PIL import Image


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_info_reports_versions():
    result = run("info")
    assert result.returncode == 0, result.stderr
    for key in ("avatarium", "torch", "torch device", "PySide6", "OpenGL"):
        assert key in result.stdout


def test_bad_usage_exit_code_two():
    assert run("frobnicate").returncode == 2
    assert run("bench", "viewer", "--splats", "ten").returncode == 2


def test_view_missing_file_is_a_clear_error(tmp_path):
    result = run("view", str(tmp_path / "missing.ply"), "--headless")
    assert result.returncode == 1 and "does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.usefixtures("gl_available")
def test_headless_view_writes_renders(tmp_path):
    result = run("view", "--headless", "-o", str(tmp_path), "--views", "2")
    assert result.returncode == 0, result.stderr
    files = sorted(tmp_path.glob("*.png"))
    assert [f.name for f in files] == ["figure_view00_az000.png", "figure_view01_az180.png", "figure_window.png"]
    assert str(tmp_path) in result.stdout
    front, back = (np.asarray(Image.open(f).convert("RGB")).astype(int) for f in files[:2])
    corner = front[0, 0]
    assert (np.abs(front - corner).sum(-1) > 30).mean() > 0.03  # a figure, not an empty view
    assert np.abs(front - back).mean() > 1  # the back differs from the front (eyes, hair)


@pytest.mark.usefixtures("gl_available")
def test_bench_viewer_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = run("bench", "viewer", "--splats", "2000,5000", "--seconds", "0.3", "--size", "256", "--sh-degree", "3",
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["benchmark"] == "viewer" and report["viewport_px"] == [256, 256] and report["sh_degree"] == 3
    assert [row["splats"] for row in report["results"]] == [2000, 5000]
    for row in report["results"]:
        assert row["fps_static"] > 0 and row["fps_orbit"] > 0 and row["sort_ms"] > 0
    assert report["machine"]["cpu_count"] >= 1 and "renderer" in report["gl"]


def test_bench_body_writes_json(tmp_path):
    out = tmp_path / "body.json"
    result = run("bench", "body", "--gaussians", "2000", "--repeats", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["benchmark"] == "body" and report["model"] == "anny"
    assert 0 < report["load"]["warm_s"] < report["load"]["cold_process_s"]
    assert report["forward_ms"]["same_shape"] > 0
    assert [(r["gaussians"], r["bones_per_gaussian"]) for r in report["skinning"]] == [(2000, 9), (2000, 4)]


def test_render_image_and_turntables(tmp_path):
    import imageio_ffmpeg

    from core.resources import example_splat_path

    png = tmp_path / "front.png"
    result = run("render", str(example_splat_path()), "-o", str(png), "--size", "64", "--background", "0,0,0")
    assert result.returncode == 0, result.stderr
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert pixels.shape == (64, 64, 3) and (pixels.sum(-1) > 30).mean() > 0.05 and pixels[0, 0].sum() == 0
    for suffix in ("mp4", "gif"):
        video = tmp_path / f"turn.{suffix}"
        result = run("render", str(example_splat_path()), "-o", str(video), "--size", "48", "--turntable", "4")
        assert result.returncode == 0, result.stderr
        assert "4/4 frames" in result.stderr
        if suffix == "gif":
            assert Image.open(video).n_frames == 4
        else:
            reader = imageio_ffmpeg.read_frames(str(video))
            meta = next(reader)
            assert meta["size"] == (48, 48) and sum(1 for _ in reader) == 4
    assert run("render", str(example_splat_path()), "-o", str(tmp_path / "x.avi"), "--turntable", "3").returncode == 2
    broken = tmp_path / "broken.ply"
    broken.write_bytes(b"ply\nformat ascii 1.0\nend_header\n")
    result = run("render", str(broken), "-o", str(tmp_path / "b.png"))
    assert result.returncode == 1 and "broken.ply" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.ply", "front.png", "turn.gif", "turn.mp4"]


def test_bench_render_writes_json(tmp_path):
    out = tmp_path / "render.json"
    result = run("bench", "render", "--splats", "1000", "--sizes", "32", "--threads-list", "1", "--repeats", "1",
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["results"]
    assert [row["backend"] for row in rows] == ["numba", "torch"]
    for row in rows:
        assert row["splats"] == 1000 and row["size"] == 32 and row["threads"] == 1
        assert 0 < row["forward_s"] <= row["forward_backward_s"] * 2 and row["peak_rss_gb"] > 0


@needs_photos
def test_fit_writes_json_and_overlay(tmp_path):
    from core.fit.result import BodyFit

    result = run("fit", str(PHOTOS / "01_pifu_ryota.png"), "-o", str(tmp_path / "fit.json"),
                 "--overlay", str(tmp_path / "overlay.png"))
    assert result.returncode == 0, result.stderr
    fit = BodyFit.load(tmp_path / "fit.json")
    assert fit.body_model == "anny" and fit.image_size == (512, 512)
    assert fit.silhouette_iou > 0.8 and fit.mean_residual < 10
    overlay = Image.open(tmp_path / "overlay.png")
    assert overlay.size == (512, 512)
    assert "silhouette IoU" in result.stdout and "Body fitted" in result.stderr


@needs_photos
def test_fit_of_a_group_photo_suggests_boxes_then_fits_one(tmp_path):
    result = run("fit", str(PHOTOS / "16_ultralytics_bus_multi.jpg"), "-o", str(tmp_path / "fit.json"))
    assert result.returncode == 1 and "people were found" in result.stderr
    box = result.stderr.split("--box ")[1].split()[0]
    assert not (tmp_path / "fit.json").exists()
    result = run("fit", str(PHOTOS / "16_ultralytics_bus_multi.jpg"), "--box", box, "-o", str(tmp_path / "fit.json"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fit.json").exists()


def test_fit_usage_errors(tmp_path):
    assert run("fit", "photo.png", "-o", str(tmp_path / "fit.txt")).returncode == 2
    assert run("fit", "photo.png", "-o", str(tmp_path / "f.json"), "--box", "5,5,1,1").returncode == 2
    missing = run("fit", str(tmp_path / "nothing.png"), "-o", str(tmp_path / "f.json"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_bench_fit_on_synthetic_people_meets_the_accuracy_targets(tmp_path):
    target = tmp_path / "bench-fit.json"
    result = run("bench", "fit", "--synthetic", "4", "--hard", "1", "-o", str(target), timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(target.read_text())["synthetic"]
    summary = report["summary"]
    assert summary["fitted"] == 4, summary
    assert report["hard_summary"]["fitted"] == 1 and "hard poses: 1/1 fitted" in result.stdout
    assert summary["mean_pa_mpjpe_mm"] <= 60 and summary["mean_keypoint_error"] <= 0.02
    assert summary["mean_silhouette_iou"] >= 0.85, summary


def test_synth_train_and_eval_end_to_end(tmp_path):
    data, model = tmp_path / "data", tmp_path / "model"
    result = run("synth", str(data), "--train", "3", "--heldout", "2", "--size", "48", "--points", "300")
    assert result.returncode == 0, result.stderr
    assert "3 training and 2 held-out people" in result.stdout
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"model": {"image_size": 48, "channels": [8, 8, 16, 16], "dim": 16, "heads": 2,
                                            "layers": 1},
                                  "train": {"steps": 4, "batch": 2, "warmup": 1, "eval_every": 2, "log_every": 1}}))
    result = run("train", "--data", str(data), "-o", str(model), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "step 4/4" in result.stdout and (model / "model.safetensors").is_file()
    report = tmp_path / "eval.json"
    result = run("eval", "synthetic", "--model", str(model), "--data", str(data), "--views", "4", "-o", str(report))
    assert result.returncode == 0, result.stderr
    summary = json.loads(report.read_text())["summary"]
    for method in ("network", "baseline", "untrained"):
        assert set(summary[method]) == {"psnr_input", "psnr_novel", "psnr_back", "ssim_novel"}
        assert 3 < summary[method]["psnr_novel"] < 60
    assert run("synth", str(data), "--train", "0", "--heldout", "0").returncode == 2


@needs_photos
def test_reconstruct_writes_every_format_and_reports_failures(tmp_path, tiny_model):
    from plyfile import PlyData

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    result = run("reconstruct", str(PHOTOS / "01_pifu_ryota.png"), str(bad), "--model", str(tiny_model[0]),
                 "-o", str(tmp_path / "out"), "--no-grabcut")
    assert result.returncode == 1 and "1 of 2 photo(s) reconstructed" in result.stdout
    assert "broken.jpg" in result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["01_pifu_ryota.avatar", "01_pifu_ryota.ply", "01_pifu_ryota_body.glb", "01_pifu_ryota_body.npz",
                     "01_pifu_ryota_body.obj", "01_pifu_ryota_fit.json", "01_pifu_ryota_posed.ply",
                     "01_pifu_ryota_preview.png"]
    assert PlyData.read(str(tmp_path / "out" / "01_pifu_ryota.ply"))["vertex"].count == 40000
    assert Image.open(tmp_path / "out" / "01_pifu_ryota_preview.png").size == (768, 384)
    from core.persist.bundle import load_bundle

    bundle = load_bundle(tmp_path / "out" / "01_pifu_ryota.avatar")
    assert len(bundle.avatar.cloud) == 40000 and bundle.fit is not None and bundle.thumbnail.shape[2] == 3
    result = run("reconstruct", str(bad), "--formats", "ply,bvh", "-o", str(tmp_path / "none"))
    assert result.returncode == 2 and "--motion" in result.stderr and not (tmp_path / "none").exists()


def test_headless_view_plays_a_motion_on_an_avatar(tmp_path, anny_body):
    import torch

    from core.persist.bundle import save_bundle
    from core.recon.avatar_builder import build_avatar
    from core.recon.model import Prediction
    from core.recon.query import query_points

    query = query_points(anny_body, count=400, anchors=16)
    count = len(query.triangles)
    colours = torch.where((query.parts == 0)[:, None], torch.tensor([0.9, 0.2, 0.1]), torch.tensor([0.2, 0.3, 0.8]))
    prediction = Prediction(colours[None], torch.zeros(1, count), torch.zeros(1, count, 3),
                            torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    bundle = save_bundle(tmp_path / "red_head.avatar", build_avatar(anny_body, query, np.full(6, 0.5, np.float32),
                                                                     prediction, count=8000))
    result = run("view", str(bundle), "--headless", "--motion", "wave", "--views", "2", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    frames = sorted((tmp_path / "out").glob("red_head_wave_*.png"))
    assert len(frames) == 2 and "red_head.avatar playing 'wave'" in result.stdout
    first, second = (np.asarray(Image.open(f).convert("RGB")).astype(int) for f in frames)
    assert np.abs(first - second).mean() > 0.5  # the avatar moved
    red = (first[..., 0] > 150) & (first[..., 2] < 100)
    assert red.sum() > 50  # its red head is on screen


def test_demo_reconstructs_the_bundled_photo_and_shows_it_walking(tmp_path, tiny_model):
    result = run("demo", "--model", str(tiny_model[0]), "--preset", "fast", "--headless", "--views", "2",
                 "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "person.avatar" in names and "person_preview.png" in names
    assert len([n for n in names if n.startswith("person_walk_")]) == 2


def test_animate_writes_a_video_and_a_ply_sequence(tmp_path, anny_body):
    import torch
    from plyfile import PlyData

    from core.persist.bundle import save_bundle
    from core.recon.avatar_builder import build_avatar
    from core.recon.model import Prediction
    from core.recon.query import query_points

    query = query_points(anny_body, count=300, anchors=8)
    count = len(query.triangles)
    prediction = Prediction(torch.full((1, count, 3), 0.4), torch.zeros(1, count), torch.zeros(1, count, 3),
                            torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    bundle = save_bundle(tmp_path / "grey.avatar",
                         build_avatar(anny_body, query, np.full(6, 0.5, np.float32), prediction, count=3000))
    result = run("animate", str(bundle), "--motion", "wave", "--fps", "2", "--size", "96",
                 "-o", str(tmp_path / "w.gif"))
    assert result.returncode == 0, result.stderr
    gif = Image.open(tmp_path / "w.gif")
    assert gif.size == (96, 96) and gif.n_frames >= 5
    result = run("animate", str(bundle), "--motion", "jump", "--fps", "2", "-o", str(tmp_path / "frames"))
    assert result.returncode == 0, result.stderr
    frames = sorted((tmp_path / "frames").glob("jump_*.ply"))
    assert len(frames) >= 3
    heights = [PlyData.read(str(f))["vertex"]["y"].mean() for f in frames]
    assert max(heights) - min(heights) > 0.05  # the avatar leaves the ground
    assert run("animate", str(bundle), "-o", str(tmp_path / "x.txt")).returncode == 2


def test_export_writes_formats_from_a_bundle(tmp_path, anny_body):
    import torch

    from core.fit.result import BodyFit
    from core.persist.bundle import save_bundle
    from core.recon.avatar_builder import build_avatar
    from core.recon.model import Prediction
    from core.recon.query import query_points

    query = query_points(anny_body, count=300, anchors=8)
    count = len(query.triangles)
    prediction = Prediction(torch.full((1, count, 3), 0.7), torch.zeros(1, count), torch.zeros(1, count, 3),
                            torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    avatar = build_avatar(anny_body, query, np.full(6, 0.5, np.float32), prediction, count=3000)
    fit = BodyFit(body_model="anny", shape=np.full(6, 0.5), pose=np.zeros((55, 3)), root=[0, 0, -3], K=np.eye(3),
                  image_size=(64, 64))
    save_bundle(tmp_path / "with.avatar", avatar, fit)
    save_bundle(tmp_path / "bare.avatar", avatar)
    result = run("export", str(tmp_path / "with.avatar"), "--format", "ply,params,glb,splats,posed_splats,spz", "-o",
                 str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "with.ply", "with.spz", "with_body.glb", "with_body.npz", "with_posed_splats.glb", "with_splats.glb"]
    result = run("export", str(tmp_path / "bare.avatar"), "--format", "posed", "-o", str(tmp_path / "out"))
    assert result.returncode == 1 and "need(s) the body fit" in result.stderr
    assert run("export", str(tmp_path / "with.avatar"), "--format", "video").returncode == 2
    result = run("export", str(tmp_path / "bare.avatar"), "--format", "html", "-o", str(tmp_path / "web"))
    assert result.returncode == 0, result.stderr  # the player needs no fit
    page = (tmp_path / "web" / "bare.html").read_text(encoding="utf-8")
    assert '"splats":3000' in page and '"name":"jump"' in page
    result = run("export", str(tmp_path / "bare.avatar"), "--format", "html", "--motion", str(tmp_path / "no.npz"),
                 "-o", str(tmp_path / "web2"))
    assert result.returncode == 1 and "no.npz" in result.stderr and not (tmp_path / "web2" / "bare.html").exists()
    result = run("export", str(tmp_path / "bare.avatar"), "--format", "bvh", "-o", str(tmp_path / "moves"))
    assert result.returncode == 1 and "--motion" not in result.stderr and "choose one" in result.stderr
    result = run("export", str(tmp_path / "bare.avatar"), "--format", "humanoid,bvh", "--motion", "wave", "-o",
                 str(tmp_path / "moves"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "moves").iterdir()) == ["bare_humanoid.glb", "bare_motion.bvh"]


def test_bench_html_plays_the_player_in_a_browser(tmp_path):
    from core.bench.browser import BrowserUnavailable, require_browser

    try:
        require_browser()
    except BrowserUnavailable as error:
        pytest.skip(f"no browser for the HTML player: {error}")
    out = tmp_path / "bench.json"
    result = run("bench", "html", "--splats", "3000", "--seconds", "1", "--size", "200", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["benchmark"] == "html" and report["network_requests"] == []
    row = report["results"][0]
    assert row["splats"] == 3000 and row["fps"] > 0 and row["frames"] > 0 and row["file_mb"] > 0.1


def test_bench_soak_reports_memory_threads_and_files(tmp_path):
    out = tmp_path / "soak.json"
    result = run("bench", "soak", "--count", "3", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["benchmark"] == "soak" and len(report["runs"]) == 3
    assert report["rss_gb"]["after_last"] > 0.1 and report["open_files"]["after_first"] > 0
    # nothing accumulates from run to run: no open files or threads are left behind
    assert report["open_files"]["after_last"] <= report["open_files"]["after_first"]
    assert report["os_threads"]["after_last"] <= report["os_threads"]["after_first"]


@needs_photos
def test_bench_fit_on_photos_writes_a_contact_sheet(tmp_path):
    out, sheet = tmp_path / "fit.json", tmp_path / "sheet.png"
    result = run("bench", "fit", "--photos", str(PHOTOS / "01_pifu_ryota.png"), "--synthetic", "0", "--hard", "0",
                 "--sheet", str(sheet), "--learned-prior", "1e-3", "--lifted-depth", "0.5", "--depth-flips",
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["learned_prior"] == 1e-3 and report["depth_flips"] and report["lifted_depth"] == 0.5
    assert report["photos"]["photos"][0]["clothed_iou"] > 0.85
    image = np.asarray(Image.open(sheet).convert("RGB")).astype(int)
    assert image.shape[0] == 320  # one row: the overlay beside the side view
    magenta = (image[..., 0] > 200) & (image[..., 1] < 100) & (image[..., 2] > 180)  # the person's left limbs
    grey = (np.abs(image - 190).max(-1) <= 2)  # the side view's body
    assert magenta[:, : image.shape[1] // 2].sum() > 50 and grey.sum() > 2000  # magenta in the overlay (left) half


@pytest.mark.slow
def test_motion_from_a_video_and_bad_videos(tmp_path, wave_video):
    from bvh import Bvh

    out, report_path = tmp_path / "wave.bvh", tmp_path / "report.json"
    result = run("motion", str(wave_video.path), "--end", "0.5", "-o", str(out), "--report", str(report_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["frames"] == Bvh(out.read_text()).nframes == 15 and report["missing_frames"] == []
    assert "frames/s" in result.stderr and str(out) in result.stdout  # progress, then what was written
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(wave_video.path.read_bytes()[:2000])
    for video, message in ((broken, "broken.mp4"), (tmp_path / "none.mp4", "does not exist")):
        result = run("motion", str(video), "-o", str(tmp_path / "x.npz"))
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.slow
def test_bench_motion_renders_captures_and_scores(tmp_path):
    out = tmp_path / "motion.json"
    result = run("bench", "motion", "--clips", "wave", "--size", "320x240", "--folder", str(tmp_path / "videos"),
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    row = report["synthetic"]["clips"][0]
    assert row["clip"] == "wave" and row["frames"] == 61 and row["missing_frames"] == 0
    assert row["pa_mpjpe_mm"] < 120 and report["synthetic"]["summary"]["frames_per_second"] > 0
    assert (tmp_path / "videos" / "wave.mp4").exists()


@pytest.mark.slow
def test_motion_ctrl_c_stops_and_writes_nothing(tmp_path, wave_video):
    import os
    import select
    import signal

    out = tmp_path / "wave.npz"
    process = subprocess.Popen([sys.executable, "-m", "cli", "motion", str(wave_video.path), "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    try:
        while b"Frame 5 of" not in seen:  # into the video, mid-capture
            ready, _, _ = select.select([process.stderr], [], [], 120)
            assert ready, "no progress within two minutes"
            chunk = os.read(process.stderr.fileno(), 4096)
            assert chunk, f"ended before the video was read: {seen.decode(errors='replace')}"
            seen += chunk
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130 and b"interrupted" in seen + rest and b"Traceback" not in seen + rest
    assert list(tmp_path.iterdir()) == []
