"""Commands that show or draw: ``view`` (the viewer, or headless renders), ``render`` (CPU images and
turntables of a .ply) and ``info`` (versions, device, OpenGL)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import core
from cli.common import (
    DEFAULT_OUTPUT,
    counter,
)


def cmd_view(args: argparse.Namespace) -> int:
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


def parse_color(text: str) -> tuple[float, float, float]:
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
        frames = turntable(cloud, args.turntable, args.size, args.elevation, args.background, counter("frames"))
        count = write_video(output, frames, args.fps)
        print(f"Wrote {output} ({count} frames, {count / args.fps:.1f} s)")
    else:
        camera = framed_camera(cloud, args.azimuth, args.elevation, args.fov)
        write_image(output, render_image(cloud, camera, args.size, args.background))
        print(f"Wrote {output}")
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``avatarium`` parser."""
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
    view.set_defaults(func=cmd_view)

    render = sub.add_parser("render", help="render a .ply to an image, or a turntable to .mp4/.gif (CPU)")
    render.add_argument("file", help="3DGS .ply file")
    render.add_argument("-o", "--output", required=True, help="output .png/.jpg, or .mp4/.gif with --turntable")
    render.add_argument("--size", type=int, default=512, help="image size in pixels (square)")
    render.add_argument("--azimuth", type=float, default=0.0, help="degrees around the object (0 = front)")
    render.add_argument("--elevation", type=float, default=0.0, help="degrees above the object's centre")
    render.add_argument("--fov", type=float, default=40.0, help="vertical field of view, degrees")
    render.add_argument("--background", type=parse_color, default=(1.0, 1.0, 1.0), help="r,g,b in [0, 1]")
    render.add_argument("--turntable", type=int, metavar="FRAMES", help="render a full turn of FRAMES frames")
    render.add_argument("--fps", type=float, default=24.0, help="turntable frame rate")
    render.set_defaults(func=_cmd_render)

    info = sub.add_parser("info", help="versions, torch device and OpenGL renderer")
    info.set_defaults(func=_cmd_info)
