"""``bench``: benchmarks that write JSON reports (``core.bench`` and, for the window, ``app``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import (
    PRESETS,
    counter,
    counts,
    model_dir,
    report,
)


def backends(text: str) -> list[str]:
    """An argparse type: comma-separated CPU rasterizer backends."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - {"numba", "torch"})
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"backends are numba and torch, got {text!r}")
    return names


def _cmd_bench_viewer(args: argparse.Namespace) -> int:
    from app.headless import has_display, start_virtual_display

    if not has_display():
        start_virtual_display()
    from app.bench_viewer import bench_viewer

    results = bench_viewer(args.splats, size=args.size, seconds=args.seconds, sh_degree=args.sh_degree)
    for row in results["results"]:
        print(f"{row['splats']:>8,} splats  static {row['fps_static']:7.1f} FPS  "
              f"orbit {row['fps_orbit']:7.1f} FPS  sort {row['sort_ms']:6.2f} ms")
    print(f"GL: {results['gl'].get('renderer', results['gl'])}")
    return report(args.output, "viewer", results)


def _cmd_bench_app(args: argparse.Namespace) -> int:
    from app.headless import has_display, start_virtual_display

    if not has_display():
        start_virtual_display()
    from app.bench_app import bench_app

    photo = Path(args.photo) if args.photo else None
    if photo is None:
        from core.resources import example_photo_path

        photo = example_photo_path()
    results = bench_app(photo, preset=args.preset, size=args.size)
    loops, slider = results["event_loop_lateness_during_reconstruction"], results["slider_to_frame"]
    for start in ("cold", "warm"):
        loop = loops[start]
        print(f"drop → avatar on screen ({start}, {args.preset}): {results['drop_to_avatar_frame_s'][start]:.2f} s; "
              f"event loop late by p95 {loop['p95_ms']:.1f} ms, max {loop['max_ms']:.1f} ms meanwhile")
    print(f"slider → frame p50 {slider['p50_ms']:.1f} ms, p95 {slider['p95_ms']:.1f} ms; scrubbing "
          f"{results['scrub_fps']:.1f} FPS")
    return report(args.output, "app", results)


def _cmd_bench_soak(args: argparse.Namespace) -> int:
    from core.bench.soak import bench_soak

    photos = [Path(p) for p in args.photos]
    if not photos:
        from core.resources import example_photo_path

        photos = [example_photo_path()]
    results = bench_soak(photos, args.count, args.preset, progress=counter("reconstructions"))
    rss, files, threads = results["rss_gb"], results["open_files"], results["os_threads"]
    print(f"{args.count} reconstructions + exports: memory {rss['after_first']:.2f} GB after the first, "
          f"{rss['after_last']:.2f} GB after the last (max {rss['max']:.2f}); open files {files['after_first']} → "
          f"{files['after_last']}; threads {threads['after_first']} → {threads['after_last']}")
    return report(args.output, "soak", results)


def _cmd_bench_body(args: argparse.Namespace) -> int:
    from core.bench.body import bench_body

    results = bench_body(args.gaussians, repeats=args.repeats)
    load, forward = results["load"], results["forward_ms"]
    print(f"anny load: {load['cold_process_s']:.2f} s in a fresh process ({load['cold_model_s']:.2f} s after "
          f"importing torch), {load['warm_s']:.2f} s once imported")
    print(f"forward: {forward['same_shape']:.1f} ms (same shape), {forward['new_shape']:.1f} ms (new shape)")
    for row in results["skinning"]:
        print(f"skinning {row['gaussians']:>8,} Gaussians × {row['bones_per_gaussian']} bones: "
              f"{row['skin_ms']:8.2f} ms (binding {row['bind_s']:.2f} s)")
    return report(args.output, "body", results)


def _cmd_bench_render(args: argparse.Namespace) -> int:
    from core.bench.render import bench_render

    results = bench_render(args.splats, args.sizes, args.threads_list, args.backends, repeats=args.repeats)
    for row in results["results"]:
        print(f"{row['backend']:>5}, {row['threads']} thread(s) {row['splats']:>8,} splats {row['size']:>4}²: forward "
              f"{row['forward_s']:.3f} s, forward+backward {row['forward_backward_s']:.3f} s, "
              f"peak {row['peak_rss_gb']:.2f} GB")
    return report(args.output, "render", results)


def _cmd_bench_fit(args: argparse.Namespace) -> int:
    from core.bench.fit import bench_photos, bench_synthetic
    from core.fit.fit_body import FitOptions

    flips = FitOptions().depth_flips if args.depth_flips is None else args.depth_flips
    options = FitOptions(learned_prior=args.learned_prior, depth_flips=flips, lifted_depth=args.lifted_depth)
    results: dict = {"learned_prior": args.learned_prior, "depth_flips": flips, "lifted_depth": args.lifted_depth}
    if args.photos:
        print(f"Detecting and fitting {len(args.photos)} photo(s)…", file=sys.stderr)
        results["photos"] = bench_photos([Path(p) for p in args.photos], progress=counter("photos"),
                                         sheet=Path(args.sheet) if args.sheet else None, options=options)
        summary = results["photos"]["summary"]
        if summary:
            print(f"photos: detection {summary['detection_s']:.3f} s, fit {summary['fit_s']:.2f} s, refit after a "
                  f"pin {summary['refit_s']:.2f} s (medians)")
            if "min_clothed_iou_full_body" in summary:
                print(f"full-body photos: silhouette IoU ≥ {summary['min_silhouette_iou_full_body']:.3f} (bare body), "
                      f"≥ {summary['min_clothed_iou_full_body']:.3f} (with the clothing layer)")
        if args.sheet:
            print(f"Wrote {args.sheet} (per photo: the fit over the photo, the body from its left side)")
    if args.synthetic or args.hard:
        print(f"Rendering, detecting and fitting {args.synthetic} synthetic people and {args.hard} in hard poses…",
              file=sys.stderr)
        results["synthetic"] = bench_synthetic(args.synthetic, seed=args.seed, options=options, hard=args.hard,
                                               progress=counter("people"))
        for label, key in (("synthetic", "summary"), ("hard poses", "hard_summary")):
            summary = results["synthetic"][key]
            if summary["fitted"]:
                print(f"{label}: {summary['fitted']}/{summary['scenes']} fitted, PA-MPJPE "
                      f"{summary['mean_pa_mpjpe_mm']:.1f} mm, 2D error {100 * summary['mean_keypoint_error']:.2f} % "
                      f"of height, silhouette IoU {summary['mean_silhouette_iou']:.3f} (means)")
    return report(args.output, "fit", results)


def _cmd_bench_recon(args: argparse.Namespace) -> int:
    from core.bench.recon import bench_recon

    model = model_dir(args)
    results = bench_recon(model, [Path(p) for p in args.photos], repeats=args.repeats, progress=counter("photos"))
    if results["summary"]:
        print(f"network inference (inputs + forward): torch {results['summary']['median_torch_s']:.3f} s, "
              f"onnxruntime {results['summary']['median_onnxruntime_s']:.3f} s (medians); peak memory "
              f"{results['peak_rss_gb']:.2f} GB")
    return report(args.output, "recon", results)


def _cmd_bench_pipeline(args: argparse.Namespace) -> int:
    from core.bench.recon import bench_presets

    model = model_dir(args)
    results = bench_presets(model, [Path(p) for p in args.photos], args.presets, progress=counter("runs"))
    for preset, seconds in results["median_total_s"].items():
        print(f"{preset:>9}: {seconds:.1f} s photo → avatar (median)")
    return report(args.output, "pipeline", results)


def _cmd_bench_html(args: argparse.Namespace) -> int:
    from core.bench.html import bench_html

    results = bench_html(args.splats, size=args.size, seconds=args.seconds, clip=args.clip)
    for row in results["results"]:
        print(f"{row['splats']:>8,} splats  {row['file_mb']:5.1f} MB  loaded in {row['load_s']:4.1f} s  "
              f"{row['fps']:6.1f} FPS playing '{args.clip}'  (CPU {row['cpu_ms_per_frame']:.1f} ms/frame, "
              f"of which sorting {row['sort_ms_per_frame']:.1f})")
    print(f"WebGL: {results['webgl_renderer']}; network requests: {len(results['network_requests'])}")
    return report(args.output, "html", results)


def _cmd_bench_motion(args: argparse.Namespace) -> int:
    from core.bench.motion import CLIPS, bench_motion, bench_turntable

    clips = [c for c in CLIPS if c[0] in args.clips]
    unknown = set(args.clips) - {c[0] for c in CLIPS}
    if unknown:
        print(f"avatarium: unknown clip(s) {', '.join(sorted(unknown))}; choose from "
              f"{', '.join(c[0] for c in CLIPS)}", file=sys.stderr)
        return 2
    results: dict = {}
    if clips:
        results["synthetic"] = bench_motion(args.folder, clips, size=args.size, fps=args.fps, seed=args.seed,
                                            progress=lambda message: print(message, file=sys.stderr))
        for row in results["synthetic"]["clips"]:
            print(f"{row['clip']:>5}: PA-MPJPE {row['pa_mpjpe_mm']:5.1f} mm, acceleration error "
                  f"{row['accel_error_mm']:4.1f} mm/frame², foot skating {row['foot_skate_cm']:.2f} cm/frame, root "
                  f"{row['root_error_cm']:4.1f} cm, {row['frames_per_second']:4.1f} frames/s")
        s = results["synthetic"]["summary"]
        print(f" mean: PA-MPJPE {s['mean_pa_mpjpe_mm']:.1f} mm, acceleration {s['mean_accel_error_mm']:.1f} mm/frame², "
              f"foot skating {s['mean_foot_skate_cm']:.2f} cm/frame, root {s['mean_root_error_cm']:.1f} cm; "
              f"{s['frames_per_second']:.1f} frames/s end to end at {args.size[0]}×{args.size[1]}")
    if args.turntable:
        turn = results["turntable"] = bench_turntable(args.turntable, args.sheet)
        print(f"turntable: turned {turn['total_turn_deg']:.0f}° over {turn['frames']} frames, at most "
              f"{turn['max_backwards_deg']:.1f}° backwards; arms {turn['arm_spread_mean_deg'][0]:.0f}°/"
              f"{turn['arm_spread_mean_deg'][1]:.0f}° from the body (spread ±{max(turn['arm_spread_std_deg']):.1f}°)")
        if args.sheet:
            print(f"Wrote {args.sheet} (video frames above the body playing the captured motion)")
    return report(args.output, "motion", results)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 1280x720, got {text!r}") from None
    if min(width, height) < 64:
        raise argparse.ArgumentTypeError("frames must be at least 64 pixels on each side")
    return width, height


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``avatarium`` parser."""
    bench = sub.add_parser("bench", help="benchmarks that write JSON reports")
    bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    viewer = bench_sub.add_parser("viewer", help="viewport frame rate and depth-sort time")
    viewer.add_argument("--splats", type=counts(100), default=[20000, 100000],
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
    app_bench.add_argument("--preset", default="fast", choices=PRESETS)
    app_bench.add_argument("--size", type=int, default=512, help="viewport size in pixels (square)")
    app_bench.add_argument("-o", "--output", default="bench-app.json", help="JSON report path")
    app_bench.set_defaults(func=_cmd_bench_app)
    soak = bench_sub.add_parser("soak", help="many reconstructions + exports in a row: memory, threads, open files")
    soak.add_argument("photos", nargs="*", help="photos, used in turn (default: the bundled example photo)")
    soak.add_argument("--count", type=int, default=50, help="reconstructions (default 50)")
    soak.add_argument("--preset", default="fast", choices=PRESETS)
    soak.add_argument("-o", "--output", default="bench-soak.json", help="JSON report path")
    soak.set_defaults(func=_cmd_bench_soak)
    body = bench_sub.add_parser("body", help="body model load/forward time and Gaussian skinning time")
    body.add_argument("--gaussians", type=counts(100), default=[20000, 100000, 500000],
                      help="comma-separated Gaussian counts (default 20000,100000,500000)")
    body.add_argument("--repeats", type=int, default=20, help="timed repetitions per measure")
    body.add_argument("-o", "--output", default="bench-body.json", help="JSON report path")
    body.set_defaults(func=_cmd_bench_body)
    render_bench = bench_sub.add_parser("render", help="CPU rasterizer forward / forward+backward time and memory")
    render_bench.add_argument("--splats", type=counts(100), default=[20000, 100000],
                              help="comma-separated Gaussian counts (default 20000,100000)")
    render_bench.add_argument("--sizes", type=counts(1), default=[256, 512],
                              help="comma-separated image sizes (default 256,512)")
    render_bench.add_argument("--threads-list", type=counts(1), default=[1, 2],
                              help="torch thread counts to try (default 1,2)")
    render_bench.add_argument("--backends", type=backends, default=["numba", "torch"],
                              help="comma-separated CPU backends: numba (the fast path), torch (its pure-PyTorch "
                              "reference); default both")
    render_bench.add_argument("--repeats", type=int, default=3, help="timed repetitions per case")
    render_bench.add_argument("-o", "--output", default="bench-render.json", help="JSON report path")
    render_bench.set_defaults(func=_cmd_bench_render)
    fit_bench = bench_sub.add_parser("fit", help="detection and fit time on photos; fit accuracy on synthetic people")
    fit_bench.add_argument("--photos", nargs="*", default=[], help="photos to time (detection and fit)")
    fit_bench.add_argument("--synthetic", type=int, default=50, help="synthetic people to fit against the truth "
                           "(0: none; default 50)")
    fit_bench.add_argument("--hard", type=int, default=10, help="synthetic people in hard poses (crouch, jump, "
                           "crossed legs, arms over the head, in turn) fitted against the truth (0: none; default 10)")
    fit_bench.add_argument("--seed", type=int, default=0, help="seed of the synthetic people")
    fit_bench.add_argument("--learned-prior", type=float, default=0.0, help="weight of the learned pose prior "
                           "(default 0: off, as in the app; 1e-3 trades real photos' keypoints for 3D accuracy)")
    fit_bench.add_argument("--lifted-depth", type=float, default=0.0, help="how far (0-1) the detector's limb depths "
                           "move towards the learned lifter's (default 0: off, as in the app; 0.5 fits synthetic "
                           "people better and a real posed man's arms worse)")
    fit_bench.add_argument("--depth-flips", action=argparse.BooleanOptionalAction,
                           help="search each limb's depth flips after the limbs stage (default: as the app does)")
    fit_bench.add_argument("--sheet", help="also write a contact sheet of the photos' fits (overlay, side view) "
                           "to this image")
    fit_bench.add_argument("-o", "--output", default="bench-fit.json", help="JSON report path")
    fit_bench.set_defaults(func=_cmd_bench_fit)
    recon_bench = bench_sub.add_parser("recon", help="network inference time (torch, onnxruntime) and memory")
    recon_bench.add_argument("photos", nargs="+", help="photos to reconstruct (detection and fit are not timed)")
    recon_bench.add_argument("--model", help="network folder (default: the shipped resources/models/avatarium-small)")
    recon_bench.add_argument("--repeats", type=int, default=3, help="timed repetitions per photo")
    recon_bench.add_argument("-o", "--output", default="bench-recon.json", help="JSON report path")
    recon_bench.set_defaults(func=_cmd_bench_recon)
    html = bench_sub.add_parser("html", help="the web player in headless Chromium (software WebGL): file size, "
                                "load time, frame rate")
    html.add_argument("--splats", type=counts(100), default=[40000],
                      help="comma-separated splat counts (default 40000)")
    html.add_argument("--size", type=int, default=512, help="canvas size in pixels (square)")
    html.add_argument("--seconds", type=float, default=5.0, help="playing time measured per case")
    html.add_argument("--clip", default="walk", help="built-in clip played (default walk)")
    html.add_argument("-o", "--output", default="bench-html.json", help="JSON report path")
    html.set_defaults(func=_cmd_bench_html)
    motion = bench_sub.add_parser("motion", help="video → motion on rendered videos of known motions (errors, "
                                  "frames/s), and on a real turntable clip")
    motion.add_argument("--clips", type=lambda t: [c for c in t.split(",") if c],
                        default=["walk", "jump", "wave", "turn"],
                        help="comma-separated built-in clips to film (default walk,jump,wave,turn; none: '')")
    motion.add_argument("--size", type=_size, default=(1280, 720), help="video frame size (default 1280x720)")
    motion.add_argument("--fps", type=float, default=30.0, help="video frame rate (default 30)")
    motion.add_argument("--seed", type=int, default=0, help="people and backgrounds")
    motion.add_argument("--folder", default="bench-motion-videos", help="where the rendered videos are written")
    motion.add_argument("--turntable", help="a video of a person turning on the spot (e.g. People-Snapshot)")
    motion.add_argument("--sheet", help="contact sheet PNG of the turntable capture")
    motion.add_argument("-o", "--output", default="bench-motion.json", help="JSON report path")
    motion.set_defaults(func=_cmd_bench_motion)
    pipeline_bench = bench_sub.add_parser("pipeline", help="photo → avatar time per preset")
    pipeline_bench.add_argument("photos", nargs="+", help="photos to reconstruct")
    pipeline_bench.add_argument("--presets", type=lambda t: [p for p in t.split(",") if p],
                                default=["fast", "balanced", "best"], help="comma-separated presets")
    pipeline_bench.add_argument("--model", help="network folder (default: the shipped one)")
    pipeline_bench.add_argument("-o", "--output", default="bench-pipeline.json", help="JSON report path")
    pipeline_bench.set_defaults(func=_cmd_bench_pipeline)
