"""``eval``: scores of the network and the avatars against known truths (held-out synthetic people,
refinement from other views, real people seen from behind, holes at every zoom)."""

from __future__ import annotations

import argparse
import sys

from cli.common import (
    add_reconstruction_options,
    counter,
    counts,
    load_body,
    model_dir,
    report,
)


def _cmd_eval_synthetic(args: argparse.Namespace) -> int:
    from core.evaluation.heldout import evaluate_synthetic

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_synthetic(args.model, args.data, body, views=args.views, limit=args.limit,
                                 progress=counter("people"))
    for name, scores in results["summary"].items():
        if isinstance(scores, dict):
            print(f"{name:>9}: input view {scores['psnr_input']:.2f} dB, novel views {scores['psnr_novel']:.2f} dB "
                  f"(SSIM {scores['ssim_novel']:.3f}), back view {scores['psnr_back']:.2f} dB")
    return report(args.output, "eval-synthetic", results)


def _cmd_eval_refine(args: argparse.Namespace) -> int:
    from core.evaluation.refinement import evaluate_refinement

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_refinement(model_dir(args), body, args.fit, args.count, args.size, args.views, args.seed,
                                  args.preset, args.rounds, progress=counter("people"))
    for name, scores in results["summary"].items():
        if isinstance(scores, dict):
            print(f"{name:>8}: input view {scores['psnr_input']:.2f} dB, novel views {scores['psnr_novel']:.2f} dB "
                  f"(SSIM {scores['ssim_novel']:.3f}, silhouette IoU {scores['iou_novel']:.3f}), "
                  f"back view {scores['psnr_back']:.2f} dB")
    return report(args.output, "eval-refine", results)


def _cmd_eval_real(args: argparse.Namespace) -> int:
    from core.evaluation.real import evaluate_real

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_real(args.folder, body, model_dir(args), args.preset, args.limit, args.sheet,
                            progress=counter("people"))
    for name, scores in results["summary"].items():
        if isinstance(scores, dict) and "back_psnr" in scores:
            parts = ", ".join(f"{part} {value:.1f} ({scores['back_parts_median'][part]:.1f})"
                              for part, value in scores.get("back_parts", {}).items())
            print(f"{name:>8}: back view {scores['back_psnr']:.2f} dB (SSIM {scores['back_ssim']:.3f}, silhouette "
                  f"IoU {scores['back_iou']:.3f}); colour error ΔE00 mean (median) {parts}")
    return end_evaluation(args, "eval-real", results, "subjects", "subject",
                          "front | truth | refined | network | mirror")


def _cmd_eval_holes(args: argparse.Namespace) -> int:
    from core.evaluation.holes import evaluate_holes

    body = load_body(args.body, args.smplx_dir)
    results = evaluate_holes(args.photos, body, model_dir(args), args.preset, args.sizes, args.views, args.sheet,
                             progress=counter("photos"))
    for size, scores in results["summary_worst_photo"].items():
        print(f"{size:>5}²: holes inside the body {100 * scores['body_mean']:.2f} % (worst view "
              f"{100 * scores['body_worst']:.2f} %), pinholes in the avatar's outline "
              f"{100 * scores['alpha_mean']:.2f} % (worst view {100 * scores['alpha_worst']:.2f} %; clear through "
              f"{100 * scores['alpha_clear_mean']:.2f} %), worst photo")
    return end_evaluation(args, "eval-holes", results, "photos", "photo", "photo | front | left | back | right")


def end_evaluation(args: argparse.Namespace, benchmark: str, results: dict, rows: str, name: str, columns: str
                   ) -> int:
    """Report an evaluation's failures, where its contact sheet (``args.sheet``) and JSON report went;
    exit 1 if nothing was scored."""
    for failure in results["failed"]:
        print(f"  failed: {failure[name]}: {failure['error']}", file=sys.stderr)
    if args.sheet and results[rows]:
        print(f"Wrote {args.sheet} ({columns})")
    report(args.output, benchmark, results)
    return 0 if results[rows] else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``avatarium`` parser."""
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
    add_reconstruction_options(refine, "eval-refine.json")
    refine.set_defaults(func=_cmd_eval_refine)

    real = eval_sub.add_parser("real", help="real people seen front and back: the avatar of the front photo from "
                               "the hidden views vs the truth, next to the mirrored front photo")
    real.add_argument("folder", help="benchmark folder (NAME_front.png + NAME_back.png pairs, optional "
                      "*_label.png; or PaMIR turntables with mv_renders/meta/cam_data.mat)")
    real.add_argument("--limit", type=int, help="only the first N subjects (by name)")
    real.add_argument("--sheet", help="also write a contact sheet image (.png): front | truth | refined | network | "
                      "mirror, a row per hidden view")
    add_reconstruction_options(real, "eval-real.json")
    real.set_defaults(func=_cmd_eval_real)

    holes = eval_sub.add_parser("holes", help="is the avatar solid at every zoom: share of its silhouette where "
                                "the background shows through, 8 views at 256², 512² and 1024²")
    holes.add_argument("photos", nargs="+", help="photos to reconstruct (group photos: the most prominent person)")
    holes.add_argument("--sizes", type=counts(16), default=[256, 512, 1024],
                       help="comma-separated image sizes (default 256,512,1024)")
    holes.add_argument("--views", type=int, default=8, help="views around each avatar")
    holes.add_argument("--sheet", help="also write a contact sheet image (.png): photo | front | left | back | right")
    add_reconstruction_options(holes, "eval-holes.json")
    holes.set_defaults(func=_cmd_eval_holes)
