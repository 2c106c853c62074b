"""Commands on photos and avatars: ``fit`` (body only), ``reconstruct`` (photo → avatar and its files),
``demo``, ``export`` (an avatar bundle's files) and ``animate`` (videos and posed frames)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import (
    DEFAULT_OUTPUT,
    PRESETS,
    counter,
    load_body,
    model_dir,
    stage_progress,
)
from cli.display import cmd_view


def parse_box(text: str) -> tuple[int, int, int, int]:
    try:
        values = tuple(int(float(v)) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= values[0] or values[3] <= values[1]:
        raise argparse.ArgumentTypeError(f"expected x0,y0,x1,y1 pixels with x1 > x0 and y1 > y0, got {text!r}")
    return values  # type: ignore[return-value]


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
    stage_progress(0.0, "Finding the person")
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
    fit = fit_body(body, observation, frame, FitOptions(optimise_focal=args.fit_focal), progress=stage_progress)
    fit.save(output)
    print(f"Wrote {output} (silhouette IoU {fit.silhouette_iou:.2f}, {fit.clothed_iou:.2f} with the clothing layer, "
          f"mean keypoint error {fit.mean_residual:.1f} px, quality {fit.quality:.2f}, {fit.seconds:.1f} s)")
    if args.overlay:
        write_image(args.overlay, draw_overlay(photo.rgb, observation, fit, body))
        print(f"Wrote {args.overlay}")
    return 0


def parse_formats(text: str) -> tuple[str, ...]:
    from core.export.writers import FORMATS

    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"formats are {', '.join(FORMATS)}; got {text!r}")
    return formats


def _cmd_reconstruct(args: argparse.Namespace) -> int:
    from core.detect.person import DetectionError
    from core.export.writers import NEEDS_MOTION, write_formats
    from core.fit.fit_body import FitError
    from core.io.images import ImageLoadError, load_image
    from core.pipeline import Pipeline

    moving = [f for f in args.formats if f in NEEDS_MOTION]
    if moving:
        print(f"avatarium: {', '.join(moving)} writes a motion: reconstruct first, then 'avatarium export AVATAR "
              f"--format {moving[0]} --motion CLIP'", file=sys.stderr)
        return 2
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    model = model_dir(args)
    body = load_body(args.body, args.smplx_dir)
    failed = []
    with Pipeline.from_settings(body, args.preset, model_dir=model, grabcut=args.grabcut) as pipeline:
        for index, name in enumerate(args.photos, 1):
            print(f"[{index}/{len(args.photos)}] {name}", file=sys.stderr)
            try:
                result = pipeline.reconstruct(load_image(name), progress=stage_progress)
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
    from core.export.writers import FORMATS, NEEDS_MOTION

    status = _cmd_reconstruct(argparse.Namespace(  # every format of the avatar itself (a motion file is not)
        photos=[str(photo)], output=str(out), model=args.model,
        formats=tuple(f for f in FORMATS if f not in NEEDS_MOTION), body="anny",
        smplx_dir=None, preset=args.preset, grabcut=True))
    if status != 0:
        return status
    avatar = out / f"{photo.stem}.avatar"
    return cmd_view(argparse.Namespace(file=str(avatar), body=None, smplx_dir=None, motion=args.motion,
                                        headless=args.headless, output=str(out), views=args.views, splats=0))


def _cmd_export(args: argparse.Namespace) -> int:
    from core.export.writers import write_formats
    from core.persist.bundle import load_bundle

    bundle = load_bundle(args.avatar)
    body = load_body(bundle.avatar.body_model, args.smplx_dir)
    stem = Path(args.output) / Path(args.avatar).stem
    motion = None
    if args.motion:
        from core.body.motions import load_motion

        motion = load_motion(args.motion)
    written = write_formats(stem, args.format, body, bundle.avatar, bundle.fit, motion=motion)
    print("Wrote " + ", ".join(str(p) for p in written))
    return 0


def _cmd_animate(args: argparse.Namespace) -> int:
    from core.body.motions import load_motion
    from core.export.animation import animation_images, save_ply_sequence
    from core.io.video import VIDEO_SUFFIXES, write_video
    from core.persist.bundle import load_bundle

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
        frames = animation_images(bundle.avatar, body, motion, args.fps, args.size, counter("frames"))
        count = write_video(output, frames, args.fps)
        print(f"Wrote {output} ({count} frames of '{motion.name}', {count / args.fps:.1f} s)")
    else:
        written = save_ply_sequence(output, bundle.avatar, body, motion, args.fps, counter("frames"))
        print(f"Wrote {len(written)} posed .ply frames of '{motion.name}' to {output.resolve()}/")
    return 0


def add_grabcut_option(parser: argparse.ArgumentParser) -> None:
    """``--grabcut/--no-grabcut``: whether the person mask is sharpened (``args.grabcut``)."""
    parser.add_argument("--grabcut", action=argparse.BooleanOptionalAction, default=True,
                        help="sharpen mediapipe's person mask to the photo's edges with GrabCut (default: on)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``avatarium`` parser."""
    fit = sub.add_parser("fit", help="fit the body model to the person in a photo (JSON, optional overlay)")
    fit.add_argument("photo", help="photo of one person (JPEG, PNG, WebP, BMP, TIFF)")
    fit.add_argument("-o", "--output", required=True, help="fit .json to write")
    fit.add_argument("--overlay", help="also write the photo with the mask, keypoints and fitted body (.png/.jpg)")
    fit.add_argument("--body", choices=["anny", "smplx"], default="anny",
                     help="body model (smplx: your SMPLX_NEUTRAL.npz via --smplx-dir or $AVATARIUM_SMPLX_DIR)")
    fit.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    fit.add_argument("--box", type=parse_box, help="x0,y0,x1,y1: use only this part of the photo (one person "
                     "of a group photo)")
    fit.add_argument("--fov", type=float, default=4.0, help="assumed field of view across the longer side, "
                     "degrees (default 4: a long lens; the fit is least wrong from other sides with it)")
    fit.add_argument("--fit-focal", action="store_true", help="also fit the focal length")
    fit.add_argument("--hands", action="store_true", help="detect hands and face (Holistic) and fit the fingers")
    add_grabcut_option(fit)
    fit.set_defaults(func=_cmd_fit)

    recon = sub.add_parser("reconstruct", help="photo(s) → avatar: detect, fit, network; write .ply, fit, preview")
    recon.add_argument("photos", nargs="+", help="photos, one person each (processed in turn)")
    recon.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT), help="output folder")
    recon.add_argument("--model", help="network folder (default: the shipped resources/models/avatarium-small)")
    recon.add_argument("--preset", choices=PRESETS, default="balanced",
                       help="fast (≈5 s: no refinement), balanced (≈15 s), best (≈60 s) on two CPU cores")
    recon.add_argument("--formats", type=parse_formats, default="avatar,ply,posed,fit,params,mesh,glb,preview",
                       help="comma-separated: avatar (the bundle: reopens losslessly), ply (canonical T-pose "
                       "3DGS), posed (the photo's pose), splats / posed_splats (the same as glTF .glb with "
                       "KHR_gaussian_splatting), spz / posed_spz (compressed .spz), fit (body fit JSON), params "
                       "(SMPL-X-style .npz), mesh "
                       "(coloured body .obj), glb (rigged coloured body for Blender & co.), preview (front and "
                       "back PNG); default all but the glTF and .spz splats")
    recon.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    recon.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    add_grabcut_option(recon)
    recon.set_defaults(func=_cmd_reconstruct)

    demo = sub.add_parser("demo", help="the bundled example photo → avatar, shown walking (headless: files)")
    demo.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT), help="output folder")
    demo.add_argument("--model", help="network folder (default: the shipped one)")
    demo.add_argument("--preset", choices=PRESETS, default="balanced", help="quality preset")
    demo.add_argument("--motion", default="walk", help="motion to play on the avatar")
    demo.add_argument("--headless", action="store_true", help="write files even with a display")
    demo.add_argument("--views", type=int, default=4, help="headless: frames of the motion to render")
    demo.set_defaults(func=_cmd_demo)

    export = sub.add_parser("export", help="write an avatar bundle's exports (.ply, posed .ply, glTF splats, .spz, "
                            "fit, body .npz, .obj, .glb, humanoid .glb, .bvh motion, preview, web player .html)")
    export.add_argument("avatar", help=".avatar bundle")
    export.add_argument("--format", type=parse_formats, required=True,
                        help="comma-separated: ply, posed, splats, posed_splats, spz, posed_spz, fit, params, mesh, "
                        "glb, humanoid (rigged .glb bound in the T-pose, bones named for Mixamo/Unity), bvh (the "
                        "motion), preview, avatar, html (a web page that plays the avatar offline in any browser)")
    export.add_argument("--motion", help="built-in clip (idle, walk, wave, turn, jump), AMASS .npz or SMPL-X .json "
                        "folder: the bvh file's motion, an animation in glb / humanoid, an extra clip of the html "
                        "player (which always has the built-in clips)")
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
