"""The pose vocabulary every body backend accepts: the 55 SMPL-X joints by name.

A pose is ``[..., 55, 3]`` rotation vectors (axis × angle, radians), each relative to its parent
joint, in the SMPL-X convention: the zero pose is the T-pose (arms along ±X), the person stands
along +Y and faces +Z, the person's left is +X. Joint frames are world-aligned at the zero pose,
so a joint's rotation vector reads in world axes: x = to the person's left, y = up, z = forward.
Root translation is separate (metres, world).

Limits are plausible human ranges per rotation-vector component (degrees), used by sliders and by
fitting; they are a box on the components, not an anatomical cone.
"""

from __future__ import annotations

import torch

from core.rotations import axis_angle_to_rotmat

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3", "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3", "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3", "right_middle1", "right_middle2", "right_middle3",
    "right_pinky1", "right_pinky2", "right_pinky3", "right_ring1", "right_ring2", "right_ring3",
    "right_thumb1", "right_thumb2", "right_thumb3",
)
NUM_JOINTS = len(JOINT_NAMES)

#: Surface keypoints every body backend regresses from its vertices (COCO-17 + 6 foot points), the
#: points 2D detectors find; ``left``/``right`` are the person's own sides.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle", "left_big_toe", "right_big_toe", "left_small_toe",
    "right_small_toe", "left_heel", "right_heel",
)
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}

#: Parent index of each joint (-1 for the pelvis), the SMPL-X kinematic tree.
PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)

_LEFT_LIMITS_DEG: dict[str, tuple[tuple[float, float], ...]] = {
    # (x, y, z) ranges for left-side joints and the spine; right side mirrored (x, -y, -z)
    "pelvis": ((-180, 180), (-180, 180), (-180, 180)),
    "left_hip": ((-125, 30), (-45, 60), (-30, 60)),
    "spine1": ((-30, 60), (-35, 35), (-30, 30)),
    "left_knee": ((0, 150), (-10, 10), (-5, 5)),
    "spine2": ((-15, 30), (-20, 20), (-15, 15)),
    "left_ankle": ((-45, 30), (-25, 25), (-25, 25)),
    "spine3": ((-15, 30), (-20, 20), (-15, 15)),
    "left_foot": ((-30, 40), (-5, 5), (-5, 5)),
    "neck": ((-40, 50), (-60, 60), (-35, 35)),
    "left_collar": ((-15, 15), (-20, 15), (-10, 30)),
    "head": ((-40, 40), (-50, 50), (-30, 30)),
    "left_shoulder": ((-90, 90), (-100, 40), (-90, 100)),
    "left_elbow": ((-10, 10), (-150, 0), (-10, 10)),
    "left_wrist": ((-70, 70), (-30, 30), (-80, 80)),
    "jaw": ((0, 30), (-5, 5), (-5, 5)),
    "left_eye_smplhf": ((-30, 30), (-40, 40), (-5, 5)),
    "left_index1": ((-10, 10), (-20, 20), (-90, 15)),
    "left_middle1": ((-10, 10), (-15, 15), (-90, 15)),
    "left_pinky1": ((-10, 10), (-25, 25), (-90, 15)),
    "left_ring1": ((-10, 10), (-20, 20), (-90, 15)),
    "left_thumb1": ((-40, 40), (-45, 45), (-40, 40)),
}
_PHALANX = ((-5, 5), (-5, 5), (-100, 5))  # second and third phalanges: curl only


def _mirror(limits: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    (x0, x1), (y0, y1), (z0, z1) = limits
    return ((x0, x1), (-y1, -y0), (-z1, -z0))


def _limits_table() -> torch.Tensor:
    table = torch.zeros(NUM_JOINTS, 3, 2)
    for name, i in JOINT_INDEX.items():
        base = name.replace("right_", "left_")
        if base in _LEFT_LIMITS_DEG:
            limits = _LEFT_LIMITS_DEG[base]
        elif base[-1] in "23" and base[:-1] + "1" in _LEFT_LIMITS_DEG:
            limits = _PHALANX
        else:
            raise KeyError(f"no rotation limits for joint {name}")
        if name.startswith("right_"):
            limits = _mirror(limits)
        table[i] = torch.tensor(limits)
    return torch.deg2rad(table)


#: Rotation-vector component limits [55, 3, 2] (min, max) in radians.
JOINT_LIMITS = _limits_table()

#: For each joint, the index of its left/right counterpart (itself for centre joints).
MIRROR_INDEX: tuple[int, ...] = tuple(
    JOINT_INDEX[n.replace("left_", "#").replace("right_", "left_").replace("#", "right_")] for n in JOINT_NAMES
)


def zero_pose(*batch: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The T-pose [*batch, 55, 3]."""
    return torch.zeros(*batch, NUM_JOINTS, 3, dtype=dtype)


def clamp_to_limits(pose: torch.Tensor) -> torch.Tensor:
    """``pose`` [..., 55, 3] with each component clamped to :data:`JOINT_LIMITS`."""
    limits = JOINT_LIMITS.to(pose)
    return torch.maximum(torch.minimum(pose, limits[..., 1]), limits[..., 0])


def limit_violation(pose: torch.Tensor) -> torch.Tensor:
    """How far (radians, ≥ 0) each component of ``pose`` [..., 55, 3] lies outside its limits."""
    return (pose - clamp_to_limits(pose)).abs()


def mirror_pose(pose: torch.Tensor) -> torch.Tensor:
    """The left/right mirror image of ``pose`` [..., 55, 3] (reflection x → -x)."""
    mirrored = pose[..., list(MIRROR_INDEX), :]
    return mirrored * torch.tensor([1.0, -1.0, -1.0], dtype=pose.dtype, device=pose.device)


def global_rotations(pose: torch.Tensor) -> torch.Tensor:
    """World rotations [..., 55, 3, 3] of each joint relative to the T-pose (pose: [..., 55, 3]).

    One batched product per depth of the tree on the joints sorted by depth, without in-place writes (whose
    backward would copy the whole result once per level: the fit differentiates this some 200 times)."""
    local = axis_angle_to_rotmat(pose[..., _BY_DEPTH, :])
    levels = list(local.split(_LEVEL_SIZES, -3))
    for depth, parents in enumerate(_LEVEL_PARENTS, start=1):
        levels[depth] = levels[depth - 1][..., parents, :, :] @ levels[depth]
    return torch.cat(levels, -3)[..., _FROM_DEPTH, :, :]


def _depth_order() -> tuple[torch.Tensor, list[int], list[torch.Tensor], torch.Tensor]:
    """The joints sorted by depth in the tree, each level's size, each level's parents (their positions in the
    level above) and the inverse order."""
    depth = [0] * NUM_JOINTS
    for joint, parent in enumerate(PARENTS):
        depth[joint] = 0 if parent < 0 else depth[parent] + 1
    levels = [[j for j in range(NUM_JOINTS) if depth[j] == d] for d in range(max(depth) + 1)]
    order = [j for level in levels for j in level]
    parents = [torch.tensor([above.index(PARENTS[j]) for j in level])
               for above, level in zip(levels[:-1], levels[1:], strict=True)]
    return torch.tensor(order), [len(level) for level in levels], parents, torch.tensor(order).argsort()


_BY_DEPTH, _LEVEL_SIZES, _LEVEL_PARENTS, _FROM_DEPTH = _depth_order()


def pose_from_dict(rotations: dict[str, torch.Tensor | list[float]], dtype: torch.dtype = torch.float32
                   ) -> torch.Tensor:
    """A [55, 3] pose from ``{joint name: rotation vector}``; unknown names raise KeyError."""
    pose = zero_pose(dtype=dtype)
    for name, value in rotations.items():
        if name not in JOINT_INDEX:
            raise KeyError(f"unknown joint '{name}'; joints are the 55 SMPL-X names, e.g. 'left_elbow'")
        pose[JOINT_INDEX[name]] = torch.as_tensor(value, dtype=dtype)
    return pose


def forward_kinematics(pose: torch.Tensor, rest_joints: torch.Tensor, root: torch.Tensor | None = None
                       ) -> torch.Tensor:
    """Posed joint positions [..., 55, 3] of a skeleton whose T-pose joints are ``rest_joints``
    [55, 3] (metres), for ``pose`` [..., 55, 3] and pelvis translation ``root`` [..., 3]."""
    rotations = global_rotations(pose)
    offsets = rest_joints - rest_joints[list(max(p, 0) for p in PARENTS)]
    positions: list[torch.Tensor] = []
    for i, parent in enumerate(PARENTS):
        if parent < 0:
            base = rest_joints[0].expand(*pose.shape[:-2], 3)
            positions.append(base if root is None else base + root)
        else:
            positions.append(positions[parent] + (rotations[..., parent, :, :] @ offsets[i, :, None])[..., 0])
    return torch.stack(positions, dim=-2)
