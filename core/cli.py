"""The ``avatarium`` command line.

Exit codes: 0 success, 1 the job failed (message on stderr), 2 bad command-line usage.
GUI subcommands import the Qt app lazily, so headless subcommands work without a display.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import core

DEFAULT_OUTPUT = Path("avatarium-output")
_PRESETS = ("fast", "balanced", "best")  # core.pipeline.PRESETS, named here so --help does not import torch


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))


def _cmd_view(args: argparse.Namespace) -> int:
    from core.resources import example_splat_path

    path = Path(args.file) if args.file else example_splat_path()
    if args.file and not path.exists():
        print(f"avatarium: {path} does not exist", file=sys.stderr)
        return 1
    if args.file and args.body:
        print("avatarium: give a FILE or --body, not both", file=sys.stderr)
        return 2
    if args.smplx_dir:
        from core.body.smplx_body import ENV_DIR

        os.environ[ENV_DIR] = args.smplx_dir
    subject = f"the {args.body} body playing '{args.motion}'" if args.body else path.name
    if path.suffix.lower() == ".avatar":
        subject = f"{path.name} playing '{args.motion}'"
    from app.headless import has_display, start_virtual_display

    if has_display() and not args.headless:
        from app.main import run_viewer

        return run_viewer(path, args.body, args.motion, args.splats)
    out_dir = Path(args.output)
    if not has_display():
        print(f"No display: rendering {subject} with the viewer on a virtual display…")
        start_virtual_display()
    from app.main import render_body_frames, render_views

    if args.body:
        written = render_body_frames(args.body, args.motion, out_dir, frames=args.views, splats=args.splats)
    elif path.suffix.lower() == ".avatar":
        written = render_body_frames("avatar", args.motion, out_dir, frames=args.views, avatar=path)
    else:
        written = render_views(path, out_dir, views=args.views)
    print(f"Wrote {len(written)} image(s) of {subject} to {out_dir.resolve()}/:")
    for target in written:
        print(f"  {target.name}")
    return 0


def _counter(unit: str) -> Callable[[int, int], None]:
    """A one-line progress bar on stderr counting ``unit`` (e.g. "frames")."""
    def show(done: int, total: int) -> None:
        width = 30
        filled = round(width * done / total)
        end = "\n" if done == total else ""
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}", end=end, file=sys.stderr,
              flush=True)

    return show


def _parse_color(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"expected three numbers in [0, 1] like 1,1,1; got {text!r}")
    return values  # type: ignore[return-value]


def _cmd_render(args: argparse.Namespace) -> int:
    from core.io.ply import read_ply
    from core.io.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, write_image, write_video
    from core.render.offline import framed_camera, render_image, turntable

    output = Path(args.output)
    suffix = output.suffix.lower()
    allowed = VIDEO_SUFFIXES if args.turntable else IMAGE_SUFFIXES
    if suffix not in allowed:
        kind = "a turntable" if args.turntable else "an image"
        print(f"avatarium: {kind} is written as {' or '.join(allowed)}, not '{output.suffix}'", file=sys.stderr)
        return 2
    if args.size < 8 or (args.turntable is not None and args.turntable < 1):
        print("avatarium: --size must be at least 8 and --turntable at least 1 frame", file=sys.stderr)
        return 2
    cloud = read_ply(args.file)
    if args.turntable:
        frames = turntable(cloud, args.turntable, args.size, args.elevation, args.background, _counter("frames"))
        count = write_video(output, frames, args.fps)
        print(f"Wrote {output} ({count} frames, {count / args.fps:.1f} s)")
    else:
        camera = framed_camera(cloud, args.azimuth, args.elevation, args.fov)
        write_image(output, render_image(cloud, camera, args.size, args.background))
        print(f"Wrote {output}")
    return 0


def _parse_box(text: str) -> tuple[int, int, int, int]:
    try:
        values = tuple(int(float(v)) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= values[0] or values[3] <= values[1]:
        raise argparse.ArgumentTypeError(f"expected x0,y0,x1,y1 pixels with x1 > x0 and y1 > y0, got {text!r}")
    return values  # type: ignore[return-value]


def _stage_progress(fraction: float, message: str) -> None:
    """A one-line progress bar on stderr for staged jobs."""
    width = 30
    filled = round(width * fraction)
    end = "\n" if fraction >= 1.0 else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {message:<40}", end=end, file=sys.stderr, flush=True)


def _model_dir(args: argparse.Namespace) -> Path:
    """The network folder of ``--model``, or the bundled network."""
    from core.resources import resource_path

    return Path(args.model) if args.model else resource_path("models", "avatarium-small")


def load_body(name: str, smplx_dir: str | None = None):
    """The body model by name (see :func:`core.body.model.load_body_model`)."""
    from core.body.model import load_body_model

    return load_body_model(name, smplx_dir)


def _cmd_fit(args: argparse.Namespace) -> int:
    from core.camera import frame_person
    from core.detect.person import PersonDetector, SeveralPeopleError
    from core.fit.fit_body import FitOptions, fit_body
    from core.fit.overlay import draw_overlay
    from core.io.images import crop_photo, load_image
    from core.io.video import write_image

    output = Path(args.output)
    if output.suffix.lower() != ".json":
        print(f"avatarium: the fit is written as .json, not '{output.suffix}'", file=sys.stderr)
        return 2
    if args.overlay and Path(args.overlay).suffix.lower() not in (".png", ".jpg", ".jpeg"):
        print("avatarium: --overlay must be a .png or .jpg file", file=sys.stderr)
        return 2
    photo = load_image(args.photo)
    if args.box:
        photo = crop_photo(photo, args.box)
    body = load_body(args.body, args.smplx_dir)
    _stage_progress(0.0, "Finding the person")
    try:
        with PersonDetector() as detector:
            observation = detector.observe(photo, with_hands_and_face=args.hands, grabcut=args.grabcut)
    except SeveralPeopleError as exc:
        print(file=sys.stderr)
        boxes = "\n".join(f"  --box {','.join(str(v) for v in box)}" for box in exc.boxes)
        print(f"avatarium: {exc}\nRun again with one of:\n{boxes}", file=sys.stderr)
        return 1
    if observation.half_body:
        print("\nNote: only the upper body is visible; the legs are left in a standing pose.", file=sys.stderr)
    frame = frame_person(photo.rgb, observation.mask, observation.box, fov_deg=args.fov)
    fit = fit_body(body, observation, frame, FitOptions(optimise_focal=args.fit_focal), progress=_stage_progress)
    fit.save(output)
    print(f"Wrote {output} (silhouette IoU {fit.silhouette_iou:.2f}, {fit.clothed_iou:.2f} with the clothing layer, "
          f"mean keypoint error {fit.mean_residual:.1f} px, quality {fit.quality:.2f}, {fit.seconds:.1f} s)")
    if args.overlay:
        write_image(args.overlay, draw_overlay(photo.rgb, observation, fit, body))
        print(f"Wrote {args.overlay}")
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    from core.resources import resource_path
    from core.train.dataset import generate, load_layout

    if args.train < 0 or args.heldout < 0 or args.train + args.heldout == 0:
        print("avatarium: --train and --heldout must be ≥ 0 and not both 0", file=sys.stderr)
        return 2
    body = load_body(args.body, args.smplx_dir)
    query = None
    if args.query == "fresh":
        print(f"Computing a fresh layout of {args.points} query points (no network was trained on it)")
    elif args.query:
        query = load_layout(args.query)
        print(f"Query points of {args.query} ({len(query.triangles)} points)")
    else:
        shipped = load_layout(resource_path("models", "avatarium-small"))
        if body.name == "anny" and len(shipped.triangles) == args.points:
            query = shipped
            print(f"Query points of the shipped network ({args.points} points)")
        else:
            print(f"No shipped network uses {args.points} points on the {body.name} body: computing a fresh layout")
    folder = generate(args.folder, body, args.train, args.heldout, size=args.size, points=args.points,
                      seed=args.seed, progress=_counter("people"), query=query)
    print(f"Wrote {args.train} training and {args.heldout} held-out people to {folder.resolve()}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from core.train.train import load_config, train

    model_config, train_config = load_config(args.config)
    if args.steps:
        import dataclasses

        train_config = dataclasses.replace(train_config, steps=args.steps)
    if args.processes > 1:
        from core.train.distributed import launch

        launch(args.processes, args.data, args.output, model_config, train_config, resume=args.resume,
               threads=args.threads)
        print(f"Checkpoint in {Path(args.output).resolve()}")
        return 0
    evaluation = train(args.data, args.output, model_config, train_config, resume=args.resume,
                       log=lambda line: print(line, flush=True))
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"Checkpoint in {Path(args.output).resolve()}; held-out: "
              + ", ".join(f"{k} {v:.2f} dB" for k, v in evaluation.items()))
    return 0


def _cmd_eval_synthetic(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.recon.evaluate import evaluate_synthetic

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_synthetic(args.model, args.data, body, views=args.views, limit=args.limit,
                                 progress=_counter("people"))
    target = write_report(args.output, "eval-synthetic", results)
    for name, scores in results["summary"].items():
        if isinstance(scores, dict):
            print(f"{name:>9}: input view {scores['psnr_input']:.2f} dB, novel views {scores['psnr_novel']:.2f} dB "
                  f"(SSIM {scores['ssim_novel']:.3f}), back view {scores['psnr_back']:.2f} dB")
    print(f"Wrote {target}")
    return 0


def _cmd_eval_refine(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.recon.evaluate_refine import evaluate_refinement

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_refinement(_model_dir(args), body, args.fit, args.count, args.size, args.views, args.seed,
                                  args.preset, args.rounds, progress=_counter("people"))
    target = write_report(args.output, "eval-refine", results)
    for name, scores in results["summary"].items():
        if isinstance(scores, dict):
            print(f"{name:>8}: input view {scores['psnr_input']:.2f} dB, novel views {scores['psnr_novel']:.2f} dB "
                  f"(SSIM {scores['ssim_novel']:.3f}, silhouette IoU {scores['iou_novel']:.3f}), "
                  f"back view {scores['psnr_back']:.2f} dB")
    print(f"Wrote {target}")
    return 0


def _cmd_eval_real(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.evaluation.real import evaluate_real

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_real(args.folder, body, _model_dir(args), args.preset, args.limit, args.sheet,
                            progress=_counter("people"))
    target = write_report(args.output, "eval-real", results)
    for name, scores in results["summary"].items():
        if isinstance(scores, dict) and "back_psnr" in scores:
            parts = ", ".join(f"{part} {value:.1f}" for part, value in scores.get("back_parts", {}).items())
            print(f"{name:>8}: back view {scores['back_psnr']:.2f} dB (SSIM {scores['back_ssim']:.3f}, silhouette "
                  f"IoU {scores['back_iou']:.3f}); colour error ΔE00 {parts}")
    return _end_evaluation(results, target, "subjects", "subject", args.sheet,
                           "front | truth | refined | network | mirror")


def _cmd_eval_holes(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.evaluation.holes import evaluate_holes

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_holes(args.photos, body, _model_dir(args), args.preset, args.sizes, args.views, args.sheet,
                             progress=_counter("photos"))
    target = write_report(args.output, "eval-holes", results)
    for size, scores in results["summary_worst_photo"].items():
        print(f"{size:>5}²: holes inside the body {100 * scores['body_mean']:.2f} % (worst view "
              f"{100 * scores['body_worst']:.2f} %), pinholes in the avatar's outline "
              f"{100 * scores['alpha_mean']:.2f} % (worst view {100 * scores['alpha_worst']:.2f} %), worst photo")
    return _end_evaluation(results, target, "photos", "photo", args.sheet, "photo | front | left | back | right")


def _end_evaluation(results: dict, target: Path, rows: str, name: str, sheet: str | None, columns: str) -> int:
    """Report an evaluation's failures, where its contact sheet and report went; exit 1 if nothing was scored."""
    for failure in results["failed"]:
        print(f"  failed: {failure[name]}: {failure['error']}", file=sys.stderr)
    if sheet and results[rows]:
        print(f"Wrote {sheet} ({columns})")
    print(f"Wrote {target}")
    return 0 if results[rows] else 1


def _cmd_export_onnx(args: argparse.Namespace) -> int:
    from core.recon.onnx_runtime import export_onnx

    if Path(args.output).suffix.lower() != ".onnx":
        print("avatarium: the exported network is written as .onnx", file=sys.stderr)
        return 2
    target = export_onnx(args.model, args.output)
    print(f"Wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


def _parse_formats(text: str) -> tuple[str, ...]:
    from core.export.writers import FORMATS

    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"formats are {', '.join(FORMATS)}; got {text!r}")
    return formats


def _cmd_reconstruct(args: argparse.Namespace) -> int:
    from core.detect.person import DetectionError
    from core.export.writers import write_formats
    from core.fit.fit_body import FitError
    from core.io.images import ImageLoadError, load_image
    from core.pipeline import Pipeline

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    model = _model_dir(args)
    body = load_body(args.body, args.smplx_dir)
    failed = []
    with Pipeline(body, model, preset=args.preset) as pipeline:
        for index, name in enumerate(args.photos, 1):
            print(f"[{index}/{len(args.photos)}] {name}", file=sys.stderr)
            try:
                result = pipeline.reconstruct(load_image(name), progress=_stage_progress)
            except (ImageLoadError, DetectionError, FitError) as exc:
                print(f"\n  failed: {exc}", file=sys.stderr)
                failed.append(name)
                continue
            written = write_formats(out / Path(name).stem, args.formats, body, result.avatar, result.fit,
                                    result.photo.rgb)
            for warning in result.warnings:
                print(f"  note: {warning}", file=sys.stderr)
            print(f"  {result.timings['total']:.1f} s; wrote " + ", ".join(p.name for p in written))
    print(f"{len(args.photos) - len(failed)} of {len(args.photos)} photo(s) reconstructed into {out.resolve()}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from core.resources import example_photo_path

    out = Path(args.output)
    photo = example_photo_path()
    print(f"Turning the bundled example photo ({photo.name}) into an avatar…")
    from core.export.writers import FORMATS

    status = _cmd_reconstruct(argparse.Namespace(
        photos=[str(photo)], output=str(out), model=args.model, formats=FORMATS, body="anny",
        smplx_dir=None, preset=args.preset))
    if status != 0:
        return status
    avatar = out / f"{photo.stem}.avatar"
    return _cmd_view(argparse.Namespace(file=str(avatar), body=None, smplx_dir=None, motion=args.motion,
                                        headless=args.headless, output=str(out), views=args.views, splats=0))


def _cmd_export(args: argparse.Namespace) -> int:
    from core.export.writers import write_formats
    from core.io.bundle import load_bundle

    bundle = load_bundle(args.avatar)
    body = load_body(bundle.avatar.body_model, args.smplx_dir)
    stem = Path(args.output) / Path(args.avatar).stem
    written = write_formats(stem, args.format, body, bundle.avatar, bundle.fit)
    print("Wrote " + ", ".join(str(p) for p in written))
    return 0


def _cmd_animate(args: argparse.Namespace) -> int:
    from core.export.animation import animation_images, save_ply_sequence
    from core.io.bundle import load_bundle
    from core.io.motion import load_motion
    from core.io.video import VIDEO_SUFFIXES, write_video

    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix and suffix not in VIDEO_SUFFIXES:
        print(f"avatarium: animate writes {' or '.join(VIDEO_SUFFIXES)} or a folder of .ply frames, not "
              f"'{output.suffix}'", file=sys.stderr)
        return 2
    bundle = load_bundle(args.avatar)
    body = load_body(bundle.avatar.body_model, args.smplx_dir)
    motion = load_motion(args.motion)
    if suffix:
        frames = animation_images(bundle.avatar, body, motion, args.fps, args.size, _counter("frames"))
        count = write_video(output, frames, args.fps)
        print(f"Wrote {output} ({count} frames of '{motion.name}', {count / args.fps:.1f} s)")
    else:
        written = save_ply_sequence(output, bundle.avatar, body, motion, args.fps, _counter("frames"))
        print(f"Wrote {len(written)} posed .ply frames of '{motion.name}' to {output.resolve()}/")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    import numpy
    import torch

    lines = {
        "avatarium": core.__version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "torch": f"{torch.__version__}, {torch.get_num_threads()} thread(s)",
        "torch device": f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu",
    }
    from importlib import metadata

    try:  # versions from the installed metadata: core never imports Qt or OpenGL itself
        lines["PySide6"] = metadata.version("PySide6-Essentials")
        lines["PyOpenGL"] = metadata.version("PyOpenGL")
    except metadata.PackageNotFoundError as exc:
        lines["GUI"] = f"unavailable ({exc} is not installed)"
    else:
        from app.headless import has_display

        if has_display():
            from app.gl_info import gl_info

            gl = gl_info()
            lines["OpenGL"] = gl.get("error") or f"{gl['version']} — {gl['renderer']} (GLSL {gl['glsl']})"
        else:
            lines["OpenGL"] = "no display (the viewer can still render headless with Xvfb)"
    width = max(map(len, lines))
    for key, value in lines.items():
        print(f"{key:<{width}}  {value}")
    return 0


def _counts(minimum: int):
    """An argparse type: comma-separated whole numbers, each at least ``minimum``."""

    def parse(text: str) -> list[int]:
        try:
            values = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
        if not values or min(values) < minimum:
            raise argparse.ArgumentTypeError(f"values must be at least {minimum}")
        return values

    return parse


def _backends(text: str) -> list[str]:
    """An argparse type: comma-separated CPU rasterizer backends."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - {"numba", "torch"})
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"backends are numba and torch, got {text!r}")
    return names


def _cmd_bench_viewer(args: argparse.Namespace) -> int:
    from app.headless import has_display, start_virtual_display
    from core.bench import write_report

    if not has_display():
        start_virtual_display()
    from app.bench_viewer import bench_viewer

    results = bench_viewer(args.splats, size=args.size, seconds=args.seconds, sh_degree=args.sh_degree)
    target = write_report(args.output, "viewer", results)
    for row in results["results"]:
        print(f"{row['splats']:>8,} splats  static {row['fps_static']:7.1f} FPS  "
              f"orbit {row['fps_orbit']:7.1f} FPS  sort {row['sort_ms']:6.2f} ms")
    print(f"GL: {results['gl'].get('renderer', results['gl'])}")
    print(f"Wrote {target}")
    return 0


def _cmd_bench_app(args: argparse.Namespace) -> int:
    from app.headless import has_display, start_virtual_display
    from core.bench import write_report

    if not has_display():
        start_virtual_display()
    from app.bench_app import bench_app

    photo = Path(args.photo) if args.photo else None
    if photo is None:
        from core.resources import example_photo_path

        photo = example_photo_path()
    results = bench_app(photo, preset=args.preset, size=args.size)
    target = write_report(args.output, "app", results)
    loops, slider = results["event_loop_lateness_during_reconstruction"], results["slider_to_frame"]
    for start in ("cold", "warm"):
        loop = loops[start]
        print(f"drop → avatar on screen ({start}, {args.preset}): {results['drop_to_avatar_frame_s'][start]:.2f} s; "
              f"event loop late by p95 {loop['p95_ms']:.1f} ms, max {loop['max_ms']:.1f} ms meanwhile")
    print(f"slider → frame p50 {slider['p50_ms']:.1f} ms, p95 {slider['p95_ms']:.1f} ms; scrubbing "
          f"{results['scrub_fps']:.1f} FPS")
    print(f"Wrote {target}")
    return 0


def _cmd_bench_soak(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.bench.soak import bench_soak

    photos = [Path(p) for p in args.photos]
    if not photos:
        from core.resources import example_photo_path

        photos = [example_photo_path()]
    results = bench_soak(photos, args.count, args.preset, progress=_counter("reconstructions"))
    target = write_report(args.output, "soak", results)
    rss, files, threads = results["rss_gb"], results["open_files"], results["os_threads"]
    print(f"{args.count} reconstructions + exports: memory {rss['after_first']:.2f} GB after the first, "
          f"{rss['after_last']:.2f} GB after the last (max {rss['max']:.2f}); open files {files['after_first']} → "
          f"{files['after_last']}; threads {threads['after_first']} → {threads['after_last']}")
    print(f"Wrote {target}")
    return 0


def _cmd_bench_body(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.bench.body import bench_body

    results = bench_body(args.gaussians, repeats=args.repeats)
    target = write_report(args.output, "body", results)
    load, forward = results["load"], results["forward_ms"]
    print(f"anny load: {load['cold_process_s']:.2f} s in a fresh process ({load['cold_model_s']:.2f} s after "
          f"importing torch), {load['warm_s']:.2f} s once imported")
    print(f"forward: {forward['same_shape']:.1f} ms (same shape), {forward['new_shape']:.1f} ms (new shape)")
    for row in results["skinning"]:
        print(f"skinning {row['gaussians']:>8,} Gaussians × {row['bones_per_gaussian']} bones: "
              f"{row['skin_ms']:8.2f} ms (binding {row['bind_s']:.2f} s)")
    print(f"Wrote {target}")
    return 0


def _cmd_bench_render(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.bench.render import bench_render

    results = bench_render(args.splats, args.sizes, args.threads_list, args.backends, repeats=args.repeats)
    target = write_report(args.output, "render", results)
    for row in results["results"]:
        print(f"{row['backend']:>5}, {row['threads']} thread(s) {row['splats']:>8,} splats {row['size']:>4}²: forward "
              f"{row['forward_s']:.3f} s, forward+backward {row['forward_backward_s']:.3f} s, "
              f"peak {row['peak_rss_gb']:.2f} GB")
    print(f"Wrote {target}")
    return 0


def _cmd_bench_fit(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.bench.fit import bench_photos, bench_synthetic

    results: dict = {}
    if args.photos:
        print(f"Detecting and fitting {len(args.photos)} photo(s)…", file=sys.stderr)
        results["photos"] = bench_photos([Path(p) for p in args.photos], progress=_counter("photos"))
        summary = results["photos"]["summary"]
        if summary:
            print(f"photos: detection {summary['detection_s']:.3f} s, fit {summary['fit_s']:.2f} s, refit after a "
                  f"pin {summary['refit_s']:.2f} s (medians)")
            if "min_clothed_iou_full_body" in summary:
                print(f"full-body photos: silhouette IoU ≥ {summary['min_silhouette_iou_full_body']:.3f} (bare body), "
                      f"≥ {summary['min_clothed_iou_full_body']:.3f} (with the clothing layer)")
    if args.synthetic:
        print(f"Rendering, detecting and fitting {args.synthetic} synthetic people…", file=sys.stderr)
        results["synthetic"] = bench_synthetic(args.synthetic, seed=args.seed, progress=_counter("people"))
        summary = results["synthetic"]["summary"]
        if summary["fitted"]:
            print(f"synthetic: {summary['fitted']}/{summary['scenes']} fitted, PA-MPJPE "
                  f"{summary['mean_pa_mpjpe_mm']:.1f} mm, 2D error {100 * summary['mean_keypoint_error']:.2f} % of "
                  f"height, silhouette IoU {summary['mean_silhouette_iou']:.3f} (means)")
    target = write_report(args.output, "fit", results)
    print(f"Wrote {target}")
    return 0


def _cmd_bench_recon(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.bench.recon import bench_recon

    model = _model_dir(args)
    results = bench_recon(model, [Path(p) for p in args.photos], repeats=args.repeats, progress=_counter("photos"))
    target = write_report(args.output, "recon", results)
    if results["summary"]:
        print(f"network inference (inputs + forward): torch {results['summary']['median_torch_s']:.3f} s, "
              f"onnxruntime {results['summary']['median_onnxruntime_s']:.3f} s (medians); peak memory "
              f"{results['peak_rss_gb']:.2f} GB")
    print(f"Wrote {target}")
    return 0


def _cmd_bench_pipeline(args: argparse.Namespace) -> int:
    from core.bench import write_report
    from core.bench.recon import bench_presets

    model = _model_dir(args)
    results = bench_presets(model, [Path(p) for p in args.photos], args.presets, progress=_counter("runs"))
    target = write_report(args.output, "pipeline", results)
    for preset, seconds in results["median_total_s"].items():
        print(f"{preset:>9}: {seconds:.1f} s photo → avatar (median)")
    print(f"Wrote {target}")
    return 0


def _add_reconstruction_options(parser: argparse.ArgumentParser, output: str) -> None:
    """The options of a command that reconstructs photos: network, preset, body model, JSON report."""
    parser.add_argument("--model", help="network folder (default: the bundled network)")
    parser.add_argument("--preset", choices=_PRESETS, default="balanced", help="fit, Gaussians and refinement")
    parser.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    parser.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    parser.add_argument("-o", "--output", default=output, help="JSON report path")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="avatarium",
        description="One photo of a person → an animatable 3D Gaussian avatar.",
    )
    parser.add_argument("--version", action="version", version=f"avatarium {core.__version__}")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("AVATARIUM_THREADS", "1")),
                        help="torch CPU threads (default: $AVATARIUM_THREADS or 1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    view = sub.add_parser("view", help="open the viewer (headless: render views to PNG files)")
    view.add_argument("file", nargs="?", help="3DGS .ply file or .avatar bundle (default: the bundled example "
                      "figure); an avatar plays --motion")
    view.add_argument("--headless", action="store_true", help="render views to files even with a display")
    view.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT), help="folder for headless renders")
    view.add_argument("--views", type=int, default=4,
                      help="headless: views around the object, or frames of the motion in body mode")
    view.add_argument("--body", choices=["anny", "smplx"],
                      help="body mode: show this body model as splats, animated (smplx: $AVATARIUM_SMPLX_DIR)")
    view.add_argument("--motion", default="walk",
                      help="body mode: built-in clip (idle, walk, wave, turn, jump), AMASS .npz or SMPL-X .json folder")
    view.add_argument("--splats", type=int, default=20000, help="body mode: number of splats on the body")
    view.add_argument("--smplx-dir", help="body mode: folder holding your SMPLX_NEUTRAL.npz "
                      "(default: $AVATARIUM_SMPLX_DIR)")
    view.set_defaults(func=_cmd_view)

    render = sub.add_parser("render", help="render a .ply to an image, or a turntable to .mp4/.gif (CPU)")
    render.add_argument("file", help="3DGS .ply file")
    render.add_argument("-o", "--output", required=True, help="output .png/.jpg, or .mp4/.gif with --turntable")
    render.add_argument("--size", type=int, default=512, help="image size in pixels (square)")
    render.add_argument("--azimuth", type=float, default=0.0, help="degrees around the object (0 = front)")
    render.add_argument("--elevation", type=float, default=0.0, help="degrees above the object's centre")
    render.add_argument("--fov", type=float, default=40.0, help="vertical field of view, degrees")
    render.add_argument("--background", type=_parse_color, default=(1.0, 1.0, 1.0), help="r,g,b in [0, 1]")
    render.add_argument("--turntable", type=int, metavar="FRAMES", help="render a full turn of FRAMES frames")
    render.add_argument("--fps", type=float, default=24.0, help="turntable frame rate")
    render.set_defaults(func=_cmd_render)

    fit = sub.add_parser("fit", help="fit the body model to the person in a photo (JSON, optional overlay)")
    fit.add_argument("photo", help="photo of one person (JPEG, PNG, WebP, BMP, TIFF)")
    fit.add_argument("-o", "--output", required=True, help="fit .json to write")
    fit.add_argument("--overlay", help="also write the photo with the mask, keypoints and fitted body (.png/.jpg)")
    fit.add_argument("--body", choices=["anny", "smplx"], default="anny",
                     help="body model (smplx: your SMPLX_NEUTRAL.npz via --smplx-dir or $AVATARIUM_SMPLX_DIR)")
    fit.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    fit.add_argument("--box", type=_parse_box, help="x0,y0,x1,y1: use only this part of the photo (one person "
                     "of a group photo)")
    fit.add_argument("--fov", type=float, default=4.0, help="assumed field of view across the longer side, "
                     "degrees (default 4: a long lens; the fit is least wrong from other sides with it)")
    fit.add_argument("--fit-focal", action="store_true", help="also fit the focal length")
    fit.add_argument("--hands", action="store_true", help="detect hands and face (Holistic) and fit the fingers")
    fit.add_argument("--grabcut", action="store_true", help="sharpen the person mask to the photo's edges (GrabCut)")
    fit.set_defaults(func=_cmd_fit)

    synth = sub.add_parser("synth", help="generate synthetic training people (photos + ground truth) into a folder")
    synth.add_argument("folder", help="dataset folder (created; layout in core/train/dataset.py and the README)")
    synth.add_argument("--train", type=int, default=800, help="training people (default 800)")
    synth.add_argument("--heldout", type=int, default=30, help="held-out people, never used for training")
    synth.add_argument("--size", type=int, default=256, help="photo size in pixels (square)")
    synth.add_argument("--points", type=int, default=6000, help="query points per person")
    synth.add_argument("--query", help="the query-point layout: a model folder or query.npz (default: the shipped "
                       "network's, so it can be scored and fine-tuned on the data), or 'fresh' to compute a new one")
    synth.add_argument("--seed", type=int, default=0, help="dataset seed")
    synth.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    synth.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    synth.set_defaults(func=_cmd_synth)

    train_cmd = sub.add_parser("train", help="train the reconstruction network on a synthetic dataset")
    train_cmd.add_argument("--data", required=True, help="dataset folder written by 'avatarium synth'")
    train_cmd.add_argument("-o", "--output", required=True, help="checkpoint folder")
    train_cmd.add_argument("--config", help='JSON {"model": {…}, "train": {…}} (default: built-in sizes)')
    train_cmd.add_argument("--steps", type=int, help="override the config's number of steps")
    train_cmd.add_argument("--resume", action="store_true", help="continue from the checkpoint in the output folder")
    train_cmd.add_argument("--processes", type=int, default=1, help="data-parallel processes on this machine "
                           "(gloo on CPU, one GPU each on CUDA); or start under torchrun")
    train_cmd.set_defaults(func=_cmd_train)

    evaluate = sub.add_parser("eval", help="evaluate the reconstruction network")
    eval_sub = evaluate.add_subparsers(dest="eval", required=True, metavar="SET")
    synthetic = eval_sub.add_parser("synthetic", help="held-out synthetic people: network vs mirror baseline vs "
                                    "untrained network (PSNR/SSIM, input, novel and back views)")
    synthetic.add_argument("--model", required=True, help="network folder (model.safetensors, checkpoint.json, "
                           "query.npz)")
    synthetic.add_argument("--data", required=True, help="dataset folder written by 'avatarium synth'")
    synthetic.add_argument("--views", type=int, default=8, help="novel views around each person")
    synthetic.add_argument("--limit", type=int, help="evaluate only the first N held-out people")
    synthetic.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    synthetic.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    synthetic.add_argument("-o", "--output", default="eval-synthetic.json", help="JSON report path")
    synthetic.set_defaults(func=_cmd_eval_synthetic)
    refine = eval_sub.add_parser("refine", help="held-out synthetic people: avatars with and without refinement "
                                 "against the photo (and the body-update loop) from novel views")
    refine.add_argument("--fit", choices=["true", "fitted"], default="true",
                        help="true: the ground-truth body and camera; fitted: detect and fit like a photo")
    refine.add_argument("--count", type=int, default=10, help="held-out people")
    refine.add_argument("--size", type=int, default=384, help="photo size, pixels")
    refine.add_argument("--views", type=int, default=8, help="cameras around each person")
    refine.add_argument("--seed", type=int, default=0, help="the dataset seed the network was trained with")
    refine.add_argument("--rounds", type=int, default=2, help="rounds of the body-update loop (--fit fitted)")
    _add_reconstruction_options(refine, "eval-refine.json")
    refine.set_defaults(func=_cmd_eval_refine)

    real = eval_sub.add_parser("real", help="real people seen front and back: the avatar of the front photo from "
                               "the hidden views vs the truth, next to the mirrored front photo")
    real.add_argument("folder", help="benchmark folder (NAME_front.png + NAME_back.png pairs, optional "
                      "*_label.png; or PaMIR turntables with mv_renders/meta/cam_data.mat)")
    real.add_argument("--limit", type=int, help="only the first N subjects (by name)")
    real.add_argument("--sheet", help="also write a contact sheet image (.png): front | truth | refined | network | "
                      "mirror, a row per hidden view")
    _add_reconstruction_options(real, "eval-real.json")
    real.set_defaults(func=_cmd_eval_real)

    holes = eval_sub.add_parser("holes", help="is the avatar solid at every zoom: share of its silhouette where "
                                "the background shows through, 8 views at 256², 512² and 1024²")
    holes.add_argument("photos", nargs="+", help="photos to reconstruct (group photos: the most prominent person)")
    holes.add_argument("--sizes", type=_counts(16), default=[256, 512, 1024],
                       help="comma-separated image sizes (default 256,512,1024)")
    holes.add_argument("--views", type=int, default=8, help="views around each avatar")
    holes.add_argument("--sheet", help="also write a contact sheet image (.png): photo | front | left | back | right")
    _add_reconstruction_options(holes, "eval-holes.json")
    holes.set_defaults(func=_cmd_eval_holes)

    onnx = sub.add_parser("export-onnx", help="export a trained network to ONNX (runs with onnxruntime)")
    onnx.add_argument("model", help="network folder (model.safetensors, checkpoint.json, query.npz)")
    onnx.add_argument("-o", "--output", required=True, help=".onnx file to write")
    onnx.set_defaults(func=_cmd_export_onnx)

    recon = sub.add_parser("reconstruct", help="photo(s) → avatar: detect, fit, network; write .ply, fit, preview")
    recon.add_argument("photos", nargs="+", help="photos, one person each (processed in turn)")
    recon.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT), help="output folder")
    recon.add_argument("--model", help="network folder (default: the shipped resources/models/avatarium-small)")
    recon.add_argument("--preset", choices=_PRESETS, default="balanced",
                       help="fast (≈5 s: no refinement), balanced (≈15 s), best (≈60 s) on two CPU cores")
    recon.add_argument("--formats", type=_parse_formats, default="avatar,ply,posed,fit,params,mesh,glb,preview",
                       help="comma-separated: avatar (the bundle: reopens losslessly), ply (canonical T-pose "
                       "3DGS), posed (the photo's pose), fit (body fit JSON), params (SMPL-X-style .npz), mesh "
                       "(coloured body .obj), glb (rigged coloured body for Blender & co.), preview (front and "
                       "back PNG); default all")
    recon.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    recon.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    recon.set_defaults(func=_cmd_reconstruct)

    demo = sub.add_parser("demo", help="the bundled example photo → avatar, shown walking (headless: files)")
    demo.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT), help="output folder")
    demo.add_argument("--model", help="network folder (default: the shipped one)")
    demo.add_argument("--preset", choices=_PRESETS, default="balanced", help="quality preset")
    demo.add_argument("--motion", default="walk", help="motion to play on the avatar")
    demo.add_argument("--headless", action="store_true", help="write files even with a display")
    demo.add_argument("--views", type=int, default=4, help="headless: frames of the motion to render")
    demo.set_defaults(func=_cmd_demo)

    export = sub.add_parser("export", help="write an avatar bundle's exports (.ply, posed .ply, fit, body .npz, "
                            ".obj, .glb, preview)")
    export.add_argument("avatar", help=".avatar bundle")
    export.add_argument("--format", type=_parse_formats, required=True,
                        help="comma-separated: ply, posed, fit, params, mesh, glb, preview, avatar")
    export.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT), help="output folder")
    export.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz (avatars on SMPL-X)")
    export.set_defaults(func=_cmd_export)

    animate = sub.add_parser("animate", help="an avatar playing a motion: video (.mp4/.gif) or posed .ply frames")
    animate.add_argument("avatar", help=".avatar bundle (from 'avatarium reconstruct')")
    animate.add_argument("-o", "--output", required=True, help=".mp4 or .gif video, or a folder for .ply frames")
    animate.add_argument("--motion", default="walk",
                         help="built-in clip (idle, walk, wave, turn, jump), AMASS .npz or SMPL-X .json folder")
    animate.add_argument("--fps", type=float, default=24.0, help="frames per second")
    animate.add_argument("--size", type=int, default=512, help="video size in pixels (square)")
    animate.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz (avatars on SMPL-X)")
    animate.set_defaults(func=_cmd_animate)

    info = sub.add_parser("info", help="versions, torch device and OpenGL renderer")
    info.set_defaults(func=_cmd_info)

    bench = sub.add_parser("bench", help="benchmarks that write JSON reports")
    bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    viewer = bench_sub.add_parser("viewer", help="viewport frame rate and depth-sort time")
    viewer.add_argument("--splats", type=_counts(100), default=[20000, 100000],
                        help="comma-separated splat counts (default 20000,100000)")
    viewer.add_argument("--size", type=int, default=512, help="viewport size in pixels (square)")
    viewer.add_argument("--seconds", type=float, default=3.0, help="measuring time per case")
    viewer.add_argument("--sh-degree", type=int, choices=(0, 1, 2, 3), default=0,
                        help="SH degree of the splats' colours (default 0; 3 is the usual for 3DGS scenes)")
    viewer.add_argument("-o", "--output", default="bench-viewer.json", help="JSON report path")
    viewer.set_defaults(func=_cmd_bench_viewer)
    app_bench = bench_sub.add_parser("app", help="the window on a photo: drop → avatar time, event-loop latency, "
                                     "slider → frame latency, scrubbing frame rate")
    app_bench.add_argument("photo", nargs="?", help="photo to drop (default: the bundled example photo)")
    app_bench.add_argument("--preset", default="fast", choices=_PRESETS)
    app_bench.add_argument("--size", type=int, default=512, help="viewport size in pixels (square)")
    app_bench.add_argument("-o", "--output", default="bench-app.json", help="JSON report path")
    app_bench.set_defaults(func=_cmd_bench_app)
    soak = bench_sub.add_parser("soak", help="many reconstructions + exports in a row: memory, threads, open files")
    soak.add_argument("photos", nargs="*", help="photos, used in turn (default: the bundled example photo)")
    soak.add_argument("--count", type=int, default=50, help="reconstructions (default 50)")
    soak.add_argument("--preset", default="fast", choices=_PRESETS)
    soak.add_argument("-o", "--output", default="bench-soak.json", help="JSON report path")
    soak.set_defaults(func=_cmd_bench_soak)
    body = bench_sub.add_parser("body", help="body model load/forward time and Gaussian skinning time")
    body.add_argument("--gaussians", type=_counts(100), default=[20000, 100000, 500000],
                      help="comma-separated Gaussian counts (default 20000,100000,500000)")
    body.add_argument("--repeats", type=int, default=20, help="timed repetitions per measure")
    body.add_argument("-o", "--output", default="bench-body.json", help="JSON report path")
    body.set_defaults(func=_cmd_bench_body)
    render_bench = bench_sub.add_parser("render", help="CPU rasterizer forward / forward+backward time and memory")
    render_bench.add_argument("--splats", type=_counts(100), default=[20000, 100000],
                              help="comma-separated Gaussian counts (default 20000,100000)")
    render_bench.add_argument("--sizes", type=_counts(1), default=[256, 512],
                              help="comma-separated image sizes (default 256,512)")
    render_bench.add_argument("--threads-list", type=_counts(1), default=[1, 2],
                              help="torch thread counts to try (default 1,2)")
    render_bench.add_argument("--backends", type=_backends, default=["numba", "torch"],
                              help="comma-separated CPU backends: numba (the fast path), torch (its pure-PyTorch "
                              "reference); default both")
    render_bench.add_argument("--repeats", type=int, default=3, help="timed repetitions per case")
    render_bench.add_argument("-o", "--output", default="bench-render.json", help="JSON report path")
    render_bench.set_defaults(func=_cmd_bench_render)
    fit_bench = bench_sub.add_parser("fit", help="detection and fit time on photos; fit accuracy on synthetic people")
    fit_bench.add_argument("--photos", nargs="*", default=[], help="photos to time (detection and fit)")
    fit_bench.add_argument("--synthetic", type=int, default=50, help="synthetic people to fit against the truth "
                           "(0: none; default 50)")
    fit_bench.add_argument("--seed", type=int, default=0, help="seed of the synthetic people")
    fit_bench.add_argument("-o", "--output", default="bench-fit.json", help="JSON report path")
    fit_bench.set_defaults(func=_cmd_bench_fit)
    recon_bench = bench_sub.add_parser("recon", help="network inference time (torch, onnxruntime) and memory")
    recon_bench.add_argument("photos", nargs="+", help="photos to reconstruct (detection and fit are not timed)")
    recon_bench.add_argument("--model", help="network folder (default: the shipped resources/models/avatarium-small)")
    recon_bench.add_argument("--repeats", type=int, default=3, help="timed repetitions per photo")
    recon_bench.add_argument("-o", "--output", default="bench-recon.json", help="JSON report path")
    recon_bench.set_defaults(func=_cmd_bench_recon)
    pipeline_bench = bench_sub.add_parser("pipeline", help="photo → avatar time per preset")
    pipeline_bench.add_argument("photos", nargs="+", help="photos to reconstruct")
    pipeline_bench.add_argument("--presets", type=lambda t: [p for p in t.split(",") if p],
                                default=["fast", "balanced", "best"], help="comma-separated presets")
    pipeline_bench.add_argument("--model", help="network folder (default: the shipped one)")
    pipeline_bench.add_argument("-o", "--output", default="bench-pipeline.json", help="JSON report path")
    pipeline_bench.set_defaults(func=_cmd_bench_pipeline)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _set_threads(args.threads)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("avatarium: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI's last line of defence: a message, not a traceback
        if os.environ.get("AVATARIUM_DEBUG"):
            raise
        print(f"avatarium: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("(set AVATARIUM_DEBUG=1 to see the full traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
