"""``avatarium motion``: a video of a person → their motion (AMASS .npz, BVH, rigged .glb, SMPL-X .json)."""

from __future__ import annotations

import argparse
import sys

from cli.common import load_body, stage_progress


def _cmd_motion(args: argparse.Namespace) -> int:
    from core.capture.capture import CaptureOptions, capture_motion
    from core.export.motion_files import save_motion

    body = load_body(args.body, args.smplx_dir)
    options = CaptureOptions(start=args.start, end=args.end, fps=args.fps, person=args.person, fov_deg=args.fov,
                             hands=args.hands)
    captured = capture_motion(args.video, body, options, stage_progress)
    for note in captured.clip.notes:
        print(f"Note: {note}", file=sys.stderr)
    written = save_motion(args.output, captured.motion, body, captured.shape)
    motion = captured.motion
    print(f"Wrote {written} ({len(motion)} frames, {motion.duration:.1f} s at {motion.fps:g} fps; "
          f"{captured.frames_per_second:.1f} video frames per second)")
    if captured.missing:
        print(f"The person was not seen in {len(captured.missing)} frames; they were filled in from the frames "
              f"around them: {', '.join(str(i) for i in captured.missing[:20])}"
              f"{' …' if len(captured.missing) > 20 else ''}", file=sys.stderr)
    if args.report:
        from core.bench import write_report

        write_report(args.report, "motion", {
            "video": str(args.video), "frames": len(motion), "fps": motion.fps, "missing_frames": captured.missing,
            "seconds": captured.seconds, "frames_per_second": captured.frames_per_second,
            "notes": captured.clip.notes, "foot_contact_frames": captured.contact.sum(0).tolist(),
            "hand_frames": {side: int((captured.hands[:, part, 2] > 0).any(-1).sum())
                            for side, part in (("left", slice(0, 16)), ("right", slice(16, 32)))}})
        print(f"Wrote {args.report}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    motion = sub.add_parser("motion", help="a video of a person → their motion (for the avatar, Blender, games)",
                            description="Follows one person through a video and fits the body over time "
                                        "(smooth, feet planted). Output by suffix: .npz (AMASS SMPL-X), .bvh, "
                                        ".glb (rigged body with the animation), or a folder name (per-frame "
                                        "SMPL-X .json).")
    motion.add_argument("video", help="video file (.mp4, .mov, .avi, .mkv, .webm, .gif)")
    motion.add_argument("-o", "--output", required=True, help="motion file (.npz, .bvh, .glb) or folder")
    motion.add_argument("--person", type=int, help="whom to follow when several people are seen (0: the largest)")
    motion.add_argument("--start", type=float, default=0.0, help="seconds into the video to start at")
    motion.add_argument("--end", type=float, help="seconds into the video to stop at (default: its end)")
    motion.add_argument("--fps", type=float, help="frames per second of the motion (default: the video's, ≤ 30)")
    motion.add_argument("--fov", type=float, default=55.0,
                        help="the camera's field of view across the longer side, degrees (default 55: phones)")
    motion.add_argument("--hands", action="store_true",
                        help="fit the fingers too (mediapipe Holistic hands; about three times slower)")
    motion.add_argument("--body", choices=["anny", "smplx"], default="anny", help="body model")
    motion.add_argument("--smplx-dir", help="folder holding your SMPLX_NEUTRAL.npz")
    motion.add_argument("--report", help="also write a JSON report (frames, timings, missing frames)")
    motion.set_defaults(func=_cmd_motion)
