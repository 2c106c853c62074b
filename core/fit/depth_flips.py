"""Depth flips: the other way a limb can point that a photo cannot tell apart.

Under the fit's long lens the image barely changes when a limb segment's direction is mirrored in
depth (its camera-axis component negated): an upper arm reaching towards the camera and one reaching
away project alike. Gradient descent cannot cross between the two (half way, the segment lies in the
image plane and its projection is too long), so after the limbs stage the fit looks at the mirrored
alternatives, optimises them all briefly in one batch under the learned pose prior (a flipped bone
keeps an odd twist until then), and keeps the alternative the objective (keypoints, joint limits, the
prior) prefers (:meth:`core.fit.fit_body._Problem.choose_depth_flips`).

Frames: world Y up, the person facing +Z; the fit's camera looks down −Z, so depth is −z (pitch is
ignored here: it is small, and the following stages re-optimise).
"""

from __future__ import annotations

import torch

from core.body.joints import JOINT_INDEX, PARENTS, global_rotations
from core.rotations import rotation_between, rotmat_to_axis_angle

#: (joint whose rotation aims the segment, the joint at the segment's end), per limb: upper then lower.
LIMBS: dict[str, tuple[tuple[str, str], ...]] = {
    f"{side}_{limb}": tuple((f"{side}_{a}", f"{side}_{b}") for a, b in segments)
    for side in ("left", "right")
    for limb, segments in (("arm", (("shoulder", "elbow"), ("elbow", "wrist"))),
                           ("leg", (("hip", "knee"), ("knee", "ankle"))))
}


def _aimed(pose: torch.Tensor, rest_joints: torch.Tensor, joint: str, end: str, target: torch.Tensor
           ) -> torch.Tensor:
    """``pose`` [55, 3] with ``joint`` turned (least rotation, its children along) so that the segment
    ``joint`` → ``end`` points along world direction ``target`` [3]."""
    j, e = JOINT_INDEX[joint], JOINT_INDEX[end]
    world = global_rotations(pose)
    turned = rotation_between(world[j] @ (rest_joints[e] - rest_joints[j]), target) @ world[j]
    parent = world[PARENTS[j]] if PARENTS[j] >= 0 else torch.eye(3, dtype=pose.dtype)
    out = pose.clone()
    out[j] = rotmat_to_axis_angle(parent.transpose(-1, -2) @ turned)
    return out


def limb_alternatives(pose: torch.Tensor, rest_joints: torch.Tensor, limb: str) -> list[torch.Tensor]:
    """The limb's three depth flips of ``pose`` [55, 3], each with the same image under an orthographic
    camera: the upper segment mirrored (the lower keeps its world direction), the lower mirrored, both."""
    (upper, elbow), (lower, wrist) = LIMBS[limb]
    world = global_rotations(pose)
    u = world[JOINT_INDEX[upper]] @ (rest_joints[JOINT_INDEX[elbow]] - rest_joints[JOINT_INDEX[upper]])
    v = world[JOINT_INDEX[lower]] @ (rest_joints[JOINT_INDEX[wrist]] - rest_joints[JOINT_INDEX[lower]])
    mirror = torch.tensor([1.0, 1.0, -1.0], dtype=pose.dtype)
    alternatives = []
    for upper_to, lower_to in ((u * mirror, v), (u, v * mirror), (u * mirror, v * mirror)):
        turned = _aimed(pose, rest_joints, upper, elbow, upper_to)
        alternatives.append(_aimed(turned, rest_joints, lower, wrist, lower_to))
    return alternatives
