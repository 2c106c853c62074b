"""The detector's 3D landmarks as fitting terms: which way each limb points and which way the body faces.

mediapipe Pose also guesses every landmark in 3D (``pose_world_landmarks``: metres, origin between
the hips, x right, y down, z away from the camera; its z axis is the ray to the person, so a person
off to the side of a wide lens is seen as if in the middle). Its depths are coarse, but they tell an
arm reaching towards the camera from one reaching away, which a photo's 2D keypoints cannot. The terms
compare unit directions only (no lengths, no positions): the fitted body keeps its own proportions.

Points are COCO-23 keypoints (:data:`core.body.joints.KEYPOINT_NAMES`); ``landmarks`` [..., 23, 4] are
x, y, z (the frame above) and confidence (0: not seen), as :func:`core.fit.targets.coco_keypoints` makes
them with ``depth``.
"""

from __future__ import annotations

import numpy as np
import torch

from core.body.joints import KEYPOINT_NAMES

_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
_LEFT = [_K["left_hip"], _K["left_shoulder"]]
_RIGHT = [_K["right_hip"], _K["right_shoulder"]]
#: Limb segments (COCO-23 keypoints, from → to) whose 3D direction the landmarks suggest: upper arms,
#: forearms, thighs, shins, left then right.
SEGMENTS = tuple(torch.tensor(side) for side in zip(*[
    (_K[f"{s}_{a}"], _K[f"{s}_{b}"]) for s in ("left", "right")
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"))], strict=True))


def in_ray_frame(camera: torch.Tensor) -> torch.Tensor:
    """Points [..., n, 3] in camera axes (x right, y down, z away), the first row the pelvis, turned
    about y so that the ray to the pelvis is the z axis: the frame of mediapipe's 3D landmarks."""
    ray = torch.nn.functional.normalize(camera[..., 0, [2, 0]].detach(), dim=-1)  # (cos α, sin α)
    c, s = ray[..., None, 0], ray[..., None, 1]
    x, y, z = camera.unbind(-1)
    return torch.stack([c * x - s * z, y, s * x + c * z], -1)


def limb_direction_error(fitted: torch.Tensor, landmarks: torch.Tensor, plane_weight: float = 1.0) -> torch.Tensor:
    """Σ over :data:`SEGMENTS` of confidence × |fitted unit direction − landmark unit direction|² [...]
    (0 … 4 each) of fitted keypoints [..., 23, 3] (:func:`in_ray_frame`) and ``landmarks`` [..., 23, 4];
    the confidence of a segment is its ends' lower one. ``plane_weight`` scales the differences across
    the picture (x, y) against the depth (z) one: below 1 the term says mostly which way and how steeply a
    limb points into the picture and leaves where it lies in the picture to the 2D keypoints (0 leaves
    an arm raised in the picture's plane no pull out of a wrong depth; a little is enough)."""
    a, b = SEGMENTS
    mine = torch.nn.functional.normalize(fitted[..., b, :] - fitted[..., a, :], dim=-1)
    theirs = torch.nn.functional.normalize(landmarks[..., b, :3] - landmarks[..., a, :3], dim=-1)
    trust = torch.minimum(landmarks[..., a, 3], landmarks[..., b, 3])
    difference = mine - theirs
    if plane_weight != 1.0:
        difference = difference * difference.new_tensor([plane_weight, plane_weight, 1.0])
    return (trust * difference.square().sum(-1)).sum(-1)


def facing_error(fitted: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
    """1 − cos of the angle between the fitted and the landmarks' facing, seen from above [...]: the
    direction from the right to the left hip plus right to left shoulder, of fitted keypoints
    [..., 23, 3] (:func:`in_ray_frame`) and ``landmarks`` [..., 23, 4]."""
    def left(points: torch.Tensor) -> torch.Tensor:
        across = points[..., _LEFT, :3].sum(-2) - points[..., _RIGHT, :3].sum(-2)
        return torch.nn.functional.normalize(across[..., [0, 2]], dim=-1)

    return 1 - (left(fitted) * left(landmarks)).sum(-1)


def facing_yaw(landmarks: np.ndarray) -> float:
    """Yaw (radians about the up axis: 0 facing the camera, positive turning to the person's left; NaN:
    unknown) of ``landmarks`` [23, 4]: the direction from the right to the left hip plus right to left
    shoulder, seen from above. (The person's left is (cos θ, 0, sin θ) in camera axes, z away.)"""
    left = landmarks[_LEFT, :3].sum(0) - landmarks[_RIGHT, :3].sum(0)
    return float(np.arctan2(left[2], left[0]))
