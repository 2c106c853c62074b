"""``avatarium bench motion``: video → motion on synthetic videos whose motion is known, and its speed.

Each video shows one generated person (random shape and outfit, :mod:`core.train.garments`, lit by a
key light and ambient light) playing a built-in clip, turned to an angle, filmed by a fixed camera
(a 50° lens across the frame's longer side, 10° of pitch downward) over a cluttered background, written
as H.264 ``.mp4`` and read back, so the capture sees what it sees in a phone video: compression,
blur, a perspective lens it does not know. Measured against the truth, per clip:

- ``pa_mpjpe_mm``: per-frame joint error after similarity (Procrustes) alignment, 22 body joints;
- ``accel_error_mm``: the joints' acceleration error, mm/frame², pelvis-centred (as VIBE's);
- ``foot_skate_cm``: how far a foot joint moves per frame while the truth has it resting, cm/frame,
  in the capture's world;
- ``root_error_cm``: the pelvis path after one similarity alignment of the whole clip, cm;
- ``frames_per_second``: video frames processed per second, end to end (read, detect, fit, smooth).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.body.model import BodyModel, canonical_body
from core.body.motion_files import Motion
from core.body.motions import builtin_motion
from core.capture.fit_motion import FEET
from core.fit.result import CAMERA_VIEWMAT
from core.metrics import pa_mpjpe, similarity_transform

#: Clips of the benchmark: built-in motion, seconds, yaw (degrees) the person is turned by.
CLIPS: tuple[tuple[str, float, float], ...] = (("walk", 2.5, 70.0), ("jump", 2.0, 20.0), ("wave", 2.0, -25.0),
                                                ("turn", 3.0, 0.0))
_BODY = 22
_PITCH_DEG = 10.0
_FOV_DEG = 50.0
_REST_HEIGHT = 0.03  # metres above the floor a resting foot joint of the truth is within
_REST_SPEED = 0.15  # metres per second it moves slower than


@dataclass(frozen=True)
class SyntheticVideo:
    """A rendered video and its truth (world metres, Y up, the fit's camera convention)."""

    path: Path
    joints: np.ndarray  # [T, 55, 3] true joints per frame
    fps: float
    K: np.ndarray  # [3, 3] the camera's, video pixels
    viewmat: np.ndarray  # [4, 4] world-to-camera


def turned_motion(motion: Motion, yaw_deg: float, seconds: float | None = None) -> Motion:
    """``motion`` (its first ``seconds``) turned about the vertical through the rest pelvis by ``yaw_deg``."""
    from core.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle

    count = len(motion) if seconds is None else min(len(motion), int(round(seconds * motion.fps)) + 1)
    turn = axis_angle_to_rotmat(torch.tensor([0.0, math.radians(yaw_deg), 0.0]))
    poses = motion.poses[:count].clone()
    poses[:, 0] = rotmat_to_axis_angle(turn @ axis_angle_to_rotmat(poses[:, 0]))
    return Motion(poses, motion.trans[:count] @ turn.T, motion.fps, motion.name)


def render_video(body: BodyModel, motion: Motion, path: str | os.PathLike[str], rng: np.random.Generator,
                 size: tuple[int, int] = (1280, 720), splats: int = 40000,
                 progress: Callable[[int, int], None] | None = None) -> SyntheticVideo:
    """Film a generated person playing ``motion`` into ``path`` (.mp4) with a fixed camera framing the
    whole motion; returns the video's truth."""
    from core.io.video import write_video
    from core.train.garments import random_outfit
    from core.train.photo_look import background
    from core.train.synthetic import LitSplats, dressed_surface, random_shape

    width, height = size
    shape = torch.tensor(random_shape(rng, body))[None]
    canonical, canonical_joints = canonical_body(body, shape[0].numpy())
    seed = int(rng.integers(2**31))
    surface = dressed_surface(body, canonical, canonical_joints, random_outfit(rng), splats, seed, geometry=False)
    light = torch.tensor([0.4, 0.7, 0.6])
    light = light / light.norm()
    with torch.no_grad():
        posed = [body.forward(shape, motion.poses[i: i + 32], motion.trans[i: i + 32])
                 for i in range(0, len(motion), 32)]
    vertices = torch.cat([p.vertices for p in posed])
    joints = torch.cat([p.joints for p in posed])
    # place the motion in front of the camera: its middle at the distance where the person's height
    # fills about 70 % of the frame
    focal = 0.5 * max(width, height) / math.tan(math.radians(_FOV_DEG) / 2)
    lo, hi = vertices.amin((0, 1)), vertices.amax((0, 1))
    distance = float(hi[1] - lo[1]) / 0.7 * focal / height + float(hi[2] - lo[2]) / 2
    offset = torch.tensor([-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -distance - (lo[2] + hi[2]) / 2])
    pitch = math.radians(_PITCH_DEG)
    tilt = np.eye(4)
    tilt[1:3, 1:3] = [[math.cos(pitch), -math.sin(pitch)], [math.sin(pitch), math.cos(pitch)]]
    viewmat = CAMERA_VIEWMAT @ tilt  # looking down by the pitch
    # raise the camera so the middle of the motion stays in the middle of the frame
    offset[1] -= distance * math.tan(pitch)
    K = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    side = max(width, height)
    backdrop = background(rng, side)[:height, :width]

    def frames():
        for i in range(len(motion)):
            means, quats, normal = surface.posed(body, vertices[i] + offset)
            shading = 0.55 + 0.5 * (normal @ light).clamp_min(0)[:, None]
            lit = LitSplats(means, quats, surface.scales, (surface.albedo * shading).clamp(0, 1))
            image, alpha = lit.render(torch.tensor(viewmat)[None], torch.tensor(K), width, height, torch.zeros(1, 3))
            rgb = image[0].numpy() + (1 - alpha[0].numpy()) * backdrop
            if progress is not None:
                progress(i + 1, len(motion))
            yield (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)

    write_video(path, frames(), fps=motion.fps)
    return SyntheticVideo(Path(path), (joints + offset).numpy(), motion.fps, K, viewmat)


def motion_errors(body: BodyModel, captured, truth: SyntheticVideo) -> dict:
    """The capture's errors against the truth (see the module docstring); ``captured`` is a
    :class:`core.capture.capture.CapturedMotion` of ``truth``'s video."""
    with torch.no_grad():
        out = body.forward(torch.tensor(captured.shape)[None], torch.tensor(captured.poses).float(),
                           torch.tensor(captured.roots).float(), vertex_ids=torch.zeros(1, dtype=torch.int64))
    predicted = out.joints.numpy().astype(np.float64)
    true = truth.joints.astype(np.float64)
    count = min(len(predicted), len(true))
    predicted, true = predicted[:count], true[:count]
    body_pred, body_true = predicted[:, :_BODY], true[:, :_BODY]
    per_frame = [pa_mpjpe(p, t) for p, t in zip(body_pred, body_true, strict=True)]
    centred_pred = body_pred - body_pred[:, :1]
    centred_true = body_true - body_true[:, :1]
    accel = (centred_pred[2:] - 2 * centred_pred[1:-1] + centred_pred[:-2]) \
        - (centred_true[2:] - 2 * centred_true[1:-1] + centred_true[:-2])
    feet_true, feet_pred = true[:, FEET], predicted[:, FEET]
    floor = feet_true[..., 1].min()
    speed = np.linalg.norm(feet_true[1:] - feet_true[:-1], axis=-1) * truth.fps
    resting = (feet_true[1:, :, 1] < floor + _REST_HEIGHT) & (feet_true[:-1, :, 1] < floor + _REST_HEIGHT) \
        & (speed < _REST_SPEED)
    slide = np.linalg.norm(feet_pred[1:] - feet_pred[:-1], axis=-1)
    # one similarity for the whole clip, from every body joint of every frame (a still person's pelvis
    # path alone is a point and would fix no rotation)
    scale, rotation, translation = similarity_transform(body_pred.reshape(-1, 3), body_true.reshape(-1, 3))
    aligned = scale * predicted[:, 0] @ rotation + translation
    return {
        "frames": count,
        "pa_mpjpe_mm": 1000 * float(np.mean(per_frame)),
        "accel_error_mm": 1000 * float(np.linalg.norm(accel, axis=-1).mean()) if count >= 3 else 0.0,
        "foot_skate_cm": 100 * float(slide[resting].mean()) if resting.any() else 0.0,
        "resting_foot_frames": int(resting.sum()),
        "root_error_cm": 100 * float(np.linalg.norm(aligned - true[:, 0], axis=-1).mean()),
        "missing_frames": len(captured.missing),
    }


def bench_motion(folder: str | os.PathLike[str], clips=CLIPS, size: tuple[int, int] = (1280, 720), fps: float = 30.0,
                 seed: int = 0, progress: Callable[[str], None] | None = None) -> dict:
    """Render each of ``clips`` into ``folder``, capture its motion and measure it; the summary holds
    the mean of each error and the end-to-end frame rate over all clips."""
    from core.body.anny_body import AnnyBody
    from core.capture.capture import capture_motion

    body = AnnyBody()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (name, seconds, yaw) in enumerate(clips):
        rng = np.random.default_rng([seed, i])
        motion = turned_motion(builtin_motion(name, fps=fps), yaw, seconds)
        if progress is not None:
            progress(f"rendering {name} ({len(motion)} frames, {size[0]}×{size[1]})")
        truth = render_video(body, motion, folder / f"{name}.mp4", rng, size)
        if progress is not None:
            progress(f"capturing {name}")
        start = time.perf_counter()
        captured = capture_motion(truth.path, body)
        seconds_taken = time.perf_counter() - start
        rows.append({"clip": name, "yaw_deg": yaw, "seconds": seconds_taken,
                     "frames_per_second": len(captured.poses) / seconds_taken,
                     "stage_seconds": captured.seconds, **motion_errors(body, captured, truth)})
    summary: dict = {"clips": len(rows), "size": list(size), "fps": fps}
    for key in ("pa_mpjpe_mm", "accel_error_mm", "foot_skate_cm", "root_error_cm"):
        summary[f"mean_{key}"] = float(np.mean([r[key] for r in rows]))
        summary[f"max_{key}"] = float(np.max([r[key] for r in rows]))
    frames = sum(r["frames"] for r in rows)
    summary["frames_per_second"] = frames / sum(r["seconds"] for r in rows)
    return {"clips": rows, "summary": summary}


def turning(captured) -> dict:
    """How a captured person turns: the root's yaw per frame (degrees, unwrapped; 0 facing the camera), the
    total turn, and the largest step against the direction of the turn (0 for a monotone turn)."""
    from core.rotations import axis_angle_to_rotmat

    forward = axis_angle_to_rotmat(torch.tensor(captured.poses[:, 0]).float())[:, :, 2].numpy()  # body +Z in world
    yaw = np.degrees(np.unwrap(np.arctan2(forward[:, 0], forward[:, 2])))
    total = float(yaw[-1] - yaw[0])
    direction = 1.0 if total >= 0 else -1.0
    progress = direction * (yaw - yaw[0])
    backwards = float(np.max(np.maximum.accumulate(progress) - progress))
    return {"yaw_deg": yaw.round(1).tolist(), "total_turn_deg": total, "max_backwards_deg": backwards}


def arm_spread(body: BodyModel, captured) -> np.ndarray:
    """Angle (degrees) between each upper arm and the torso's downward axis, per frame [T, 2] (left, right):
    about 0 with the arms hanging, 90 in a T-pose."""
    from core.body.joints import JOINT_INDEX

    with torch.no_grad():
        joints = body.forward(torch.tensor(captured.shape)[None], torch.tensor(captured.poses).float(),
                              vertex_ids=torch.zeros(1, dtype=torch.int64)).joints.numpy()
    down = joints[:, 0] - joints[:, JOINT_INDEX["neck"]]
    angles = []
    for side in ("left", "right"):
        arm = joints[:, JOINT_INDEX[f"{side}_elbow"]] - joints[:, JOINT_INDEX[f"{side}_shoulder"]]
        cos = (arm * down).sum(-1) / (np.linalg.norm(arm, axis=-1) * np.linalg.norm(down, axis=-1))
        angles.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return np.stack(angles, 1)


def turntable_sheet(path: str | os.PathLike[str], body: BodyModel, captured, columns: int = 8,
                    height: int = 256) -> Path:
    """A contact sheet: ``columns`` frames of the video (top) above the body playing the captured motion
    seen from the same fixed camera (bottom)."""
    from core.avatar.body_splats import body_splats
    from core.avatar.skinning import skin_gaussians
    from core.camera import OrbitCamera
    from core.io.sheets import grid, to_height
    from core.io.video import write_image
    from core.io.video_reader import read_frames
    from core.render.offline import render_image

    picks = np.linspace(0, len(captured.poses) - 1, columns).round().astype(int)
    frames = [f for i, f in enumerate(read_frames(captured.clip)) if i in set(picks.tolist())]
    shape = torch.tensor(captured.shape)[None]
    cloud, binding = body_splats(body, shape, count=20000)
    motion = captured.motion
    with torch.no_grad():  # the body turning on the spot (its path across the floor left out)
        outs = [body.forward(shape, motion.poses[i][None], (motion.trans[i] * torch.tensor([0.0, 1.0, 0.0]))[None])
                for i in picks]
    camera = OrbitCamera(fov_y=30.0)
    camera.frame(outs[0].joints[0].mean(0).double().numpy(), 1.0)
    renders = [render_image(skin_gaussians(cloud, binding, out.transforms[0]), camera, height) for out in outs]
    tiles = [to_height(f, height) for f in frames[:len(picks)]] + renders
    write_image(path, grid(tiles, columns))
    return Path(path)


def bench_turntable(video: str | os.PathLike[str], sheet: str | os.PathLike[str] | None = None) -> dict:
    """Capture a person turning on the spot (e.g. a People-Snapshot clip): the turn (:func:`turning`), the
    arms' spread (:func:`arm_spread`: mean and spread over the clip), the frame rate; and the contact sheet."""
    from core.body.anny_body import AnnyBody
    from core.capture.capture import capture_motion

    body = AnnyBody()
    start = time.perf_counter()
    captured = capture_motion(video, body)
    seconds = time.perf_counter() - start
    arms = arm_spread(body, captured)
    result = {"video": str(video), "frames": len(captured.poses), "seconds": seconds,
              "frames_per_second": len(captured.poses) / seconds, "missing_frames": len(captured.missing),
              **turning(captured), "arm_spread_mean_deg": arms.mean(0).tolist(),
              "arm_spread_std_deg": arms.std(0).tolist()}
    if sheet is not None:
        result["sheet"] = str(turntable_sheet(sheet, body, captured))
    return result
