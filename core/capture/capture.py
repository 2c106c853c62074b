"""``capture_motion``: a video of a person → their motion, on a CPU, frame by frame while the video is read.

Reading (:mod:`core.io.video_reader`), following the person (:mod:`core.capture.track`) and the first
fitting pass run as the frames arrive, so no frame is kept in memory; the temporal pass then refines
the whole clip (:mod:`core.capture.fit_motion`). The result is a :class:`core.body.motion_files.Motion`
(Y up, facing +Z when the person faces the camera, starting over the origin, feet on the body's rest
floor) plus what the user and the benchmarks need to check it: the camera, the per-frame fit in the
video's world, the keypoints, the frames where the person was not seen and the foot contacts.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core.body.model import BodyModel
from core.body.motion_files import Motion
from core.camera import frame_person
from core.capture.fit_motion import FEET, MotionFitOptions, MotionProblem, foot_contacts
from core.capture.track import PersonTracker
from core.detect.person import VISIBLE, NoPersonError
from core.fit.fit_body import FitOptions, fit_body
from core.fit.landmarks3d import facing_yaw
from core.fit.result import BodyFit
from core.io.video_reader import VideoClip, open_video, read_frames
from core.progress import CancelToken, Progress, report
from core.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle

VIDEO_FOV_DEG = 55.0  # field of view across a video's longer side when the camera is unknown (phones: 50–70°)
_SEEN = 4  # a frame where fewer keypoints are seen counts as missing
_TRACK_SHARE = 0.85  # progress share of reading, tracking and the first pass


@dataclass(frozen=True)
class CaptureOptions:
    """What to read and how to fit it."""

    start: float = 0.0  # seconds into the video
    end: float | None = None  # seconds into the video (None: its end)
    fps: float | None = None  # frames per second of the motion (None: the video's, at most 30)
    person: int | None = None  # whom to follow when several people are seen (0: the largest)
    fov_deg: float = VIDEO_FOV_DEG
    hands: bool = False  # fit the fingers too (mediapipe Holistic; about three times slower)
    fit: MotionFitOptions = MotionFitOptions()


@dataclass
class CapturedMotion:
    """A motion taken from a video, with the evidence to check it."""

    motion: Motion
    body_model: str
    shape: np.ndarray  # [S] the person's body shape, fixed over the clip
    clip: VideoClip
    anchor: BodyFit  # the full fit of the anchor frame: camera (K, viewmat in video pixels), shape
    anchor_index: int
    poses: np.ndarray  # [T, 55, 3] the fit in the video's world (before the motion's re-centring)
    roots: np.ndarray  # [T, 3]
    keypoints: np.ndarray  # [T, 23, 3] detected (video pixels, confidence)
    landmarks: np.ndarray  # [T, 23, 4] the detector's 3D landmarks (NaN: unknown; see track.Tracked)
    hands: np.ndarray  # [T, 32, 3] hand landmarks of core.fit.targets.HAND_JOINTS (confidence 0: none or not asked)
    missing: list[int]  # frames where the person was not seen (filled in by the temporal pass)
    contact: np.ndarray  # [T, 4] bool, which FEET joints rest
    height_px: float = 0.0  # the person's height in the anchor frame, video pixels
    people: int = 1  # how many people were seen where the person was first found
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage

    @property
    def frames_per_second(self) -> float:
        """Video frames processed per second of wall time, end to end."""
        return len(self.poses) / max(sum(self.seconds.values()), 1e-9)


def turned(pose: torch.Tensor, yaws: list[float]) -> torch.Tensor:
    """Copies [len(yaws), 55, 3] of ``pose`` [55, 3] with the body turned about the up axis by each of
    ``yaws`` (radians, wrapped to ±π; NaN: not turned): a chunk's start when the person turns."""
    angles = torch.tensor([math.remainder(y, 2 * math.pi) if math.isfinite(y) else 0.0 for y in yaws])
    turn = axis_angle_to_rotmat(torch.stack([torch.zeros_like(angles), angles, torch.zeros_like(angles)], -1))
    poses = pose.expand(len(yaws), -1, -1).clone()
    poses[:, 0] = rotmat_to_axis_angle(turn @ axis_angle_to_rotmat(pose[0]))
    return poses


def _anchor_fit(body: BodyModel, rgb: np.ndarray, observation, fov_deg: float) -> BodyFit:
    frame = frame_person(rgb, observation.mask, observation.box, fov_deg=fov_deg)
    # no clothing layer (a motion needs none) and no depth-flip search (0.6 s; mediapipe's 3D limb
    # directions settle which side of the body a limb is on in every frame after this one)
    return fit_body(body, observation, frame, FitOptions(clothing=None, depth_flips=False))


def _eta(done: int, total: int, elapsed: float) -> str:
    rate = done / max(elapsed, 1e-9)
    left = (total - done) / max(rate, 1e-9)
    return f"{rate:.1f} frames/s, about {left:.0f} s left" if done > 2 else "starting"


def capture_motion(path: str | os.PathLike[str], body: BodyModel, options: CaptureOptions | None = None,
                   progress: Progress | None = None, cancel: CancelToken | None = None) -> CapturedMotion:
    """The motion of the person in the video at ``path``, on ``body``. Raises
    :class:`core.io.video_reader.VideoError` for a video that cannot be read,
    :class:`core.detect.person.DetectionError` when nobody (or several people, with no ``person``
    chosen) is found and :class:`core.progress.Cancelled` when cancelled."""
    options = options or CaptureOptions()
    o = options.fit
    clip = open_video(path, options.start, options.end, options.fps)
    total = clip.frame_count
    start = time.perf_counter()
    keypoints: list[np.ndarray] = []
    landmarks: list[np.ndarray] = []  # the detector's 3D landmarks per frame
    hands: list[np.ndarray] = []
    yaws: list[float] = []  # which way they say the person faces
    poses: list[torch.Tensor] = []
    roots: list[torch.Tensor] = []
    joints: list[torch.Tensor] = []  # per solved frame, for the next chunk's smoothness context
    pending: list[int] = []
    problem: MotionProblem | None = None
    anchor: BodyFit | None = None
    anchor_index = -1
    fitted_yaw = math.nan
    seconds = {"anchor_fit": 0.0, "chunks": 0.0}

    def solve(frames: list[int]) -> None:
        began = time.perf_counter()
        targets = torch.tensor(np.stack([keypoints[i] for i in frames]))
        before = yaws[frames[0] - 1] if frames[0] - 1 != anchor_index else fitted_yaw
        init_pose = turned(poses[-1], [yaws[i] - before for i in frames])
        init_root = problem.placed(init_pose, roots[-1].expand(len(frames), -1), targets)
        context = torch.stack(joints[-2:])
        p, r = problem.optimise(init_pose, init_root, targets, torch.tensor(np.stack([landmarks[i] for i in frames])),
                                o.chunk_iterations, context,
                                hands=torch.tensor(np.stack([hands[i] for i in frames])) if options.hands else None)
        with torch.no_grad():
            solved_joints, _ = problem.pose(p, r)
        poses.extend(p)
        roots.extend(r)
        joints.extend(solved_joints)
        frames.clear()
        seconds["chunks"] += time.perf_counter() - began

    with PersonTracker(options.person, options.hands) as tracker:
        for i, rgb in enumerate(read_frames(clip)):
            report(progress, _TRACK_SHARE * min(i / total, 1.0),
                   f"Frame {i + 1} of {total}: {_eta(i, total, time.perf_counter() - start)}", cancel)
            tracked = tracker.track(i, rgb, i / clip.fps)
            keypoints.append(tracked.keypoints)
            landmarks.append(tracked.world)
            hands.append(tracked.hands)
            yaws.append(facing_yaw(tracked.world))
            if anchor is None and tracker.anchor is not None:
                began = time.perf_counter()
                anchor, anchor_index = _anchor_fit(body, rgb, tracker.anchor.observation, options.fov_deg), i
                seconds["anchor_fit"] = time.perf_counter() - began
                box = tracker.anchor.observation.box
                problem = MotionProblem(body, torch.tensor(anchor.shape)[None], anchor.viewmat, anchor.K,
                                        max(box[3] - box[1], 16), o, options.hands)
                pose, root = torch.tensor(anchor.pose), torch.tensor(anchor.root)
                with torch.no_grad():
                    anchor_joints, anchor_keypoints = problem.pose(pose[None], root[None])
                    fitted = problem.in_ray_frame(torch.cat([anchor_joints[:, :1], anchor_keypoints], 1))[0, 1:]
                # the next frames turn from the anchor fit's own facing
                fitted_yaw = facing_yaw(torch.cat([fitted, torch.ones(len(fitted), 1)], 1).numpy())
                anchor_joints = anchor_joints[0]
                for _ in range(i + 1):  # frames before anyone was seen hold the first pose
                    poses.append(pose)
                    roots.append(root)
                    joints.append(anchor_joints)
            elif problem is not None:
                pending.append(i)
                if len(pending) == o.chunk:
                    solve(pending)
        if problem is not None and pending:
            solve(pending)
    seconds["read_and_track"] = time.perf_counter() - start - seconds["anchor_fit"] - seconds["chunks"]
    if problem is None:
        raise NoPersonError(f"Nobody was found in the {len(keypoints)} frames read from {clip.path.name}. "
                            "Use a video that shows one person, ideally the whole body, at least half "
                            "as tall as the frame (trim it to the person if they are small in it).")
    seen = np.array([(k[:, 2] >= VISIBLE).sum() >= _SEEN for k in keypoints])
    if seen.mean() < 0.5:
        raise NoPersonError(f"The person is seen in only {int(seen.sum())} of the {len(seen)} frames; "
                            "choose a span where they stay in view (--start, --end).")
    began = time.perf_counter()
    targets = torch.tensor(np.stack(keypoints))
    targets[~torch.tensor(seen)] = 0.0
    pose_all, root_all = torch.stack(poses), torch.stack(roots)
    with torch.no_grad():
        feet = problem.pose(pose_all, root_all)[0][:, FEET]
    contact, floor = foot_contacts(feet, targets, problem.height_px, clip.fps, o)
    step = lambda k: report(progress, _TRACK_SHARE + (1 - _TRACK_SHARE) * k / o.temporal_iterations,  # noqa: E731
                            "Smoothing the motion over time", cancel)
    world = torch.tensor(np.stack(landmarks))
    hand_targets = torch.tensor(np.stack(hands))
    hand_targets[~torch.tensor(seen)] = 0.0
    pose_all, root_all = problem.optimise(pose_all, root_all, targets, world, o.temporal_iterations,
                                          contact=contact, floor=floor, step=step,
                                          hands=hand_targets if options.hands else None)
    seconds["temporal"] = time.perf_counter() - began
    report(progress, 1.0, "Motion captured", cancel)
    motion = _as_motion(body, anchor.shape, pose_all, root_all, floor, clip.fps, clip.path.stem)
    return CapturedMotion(motion=motion, body_model=body.name, shape=anchor.shape, clip=clip, anchor=anchor,
                          anchor_index=anchor_index, poses=pose_all.numpy(), roots=root_all.numpy(),
                          keypoints=np.stack(keypoints), landmarks=world.numpy(), hands=hand_targets.numpy(),
                          missing=[int(i) for i in np.nonzero(~seen)[0]],
                          contact=contact.numpy(), people=tracker.people_seen,
                          height_px=float(problem.height_px), seconds=seconds)


def _as_motion(body: BodyModel, shape: np.ndarray, poses: torch.Tensor, roots: torch.Tensor, floor: float,
               fps: float, name: str) -> Motion:
    """The fit as a motion: starting over the origin, the video's floor moved to the rest body's."""
    with torch.no_grad():
        rest_floor = float(body.forward(torch.tensor(shape)[None], torch.zeros(1, *poses.shape[1:])
                                        ).joints[0, FEET, 1].min())
    trans = roots.clone()
    trans[:, [0, 2]] -= roots[0, [0, 2]]
    trans[:, 1] -= floor - rest_floor
    return Motion(poses.float(), trans.float(), float(fps), name)
