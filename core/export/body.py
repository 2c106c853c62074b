"""Body exports: fitted parameters (``.npz`` / ``.json``, SMPL-X-style keys) and the body mesh (``.obj``).

Parameters use the SMPL-X names and layout (``global_orient`` [3], ``body_pose`` [21, 3], ``jaw_pose``,
``leye_pose``, ``reye_pose`` [3], ``left_hand_pose`` / ``right_hand_pose`` [15, 3] as full rotation
vectors relative to the flat hand, ``transl`` [3] metres) plus ``betas`` = the body model's own shape
parameters (anny: 6 phenotype values in [0, 1], *not* SMPL-X betas; ``body_model`` says which) and
the camera (``K`` photo pixels, ``viewmat`` world-to-camera). The ``.npz`` holds plain numeric arrays
(no pickles).

The mesh is the fitted body (posed as in the photo, or in the T-pose) with per-vertex colours baked
from an avatar (each vertex takes the colour of the nearest Gaussian in the rest pose), written as
Wavefront OBJ with ``v x y z r g b`` lines, which Blender, MeshLab and trimesh read.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.body.joints import JOINT_INDEX, JOINT_NAMES, zero_pose
from core.body.model import BodyModel
from core.fit.result import BodyFit
from core.io.atomic import write_bytes_atomic

_HAND_JOINTS = list(JOINT_NAMES[25:])  # index, middle, pinky, ring, thumb: the SMPL-X order


def body_parameters(fit: BodyFit) -> dict[str, np.ndarray]:
    """SMPL-X-style parameter arrays of a fit (see the module docstring)."""
    pose = np.asarray(fit.pose, np.float32)

    def rows(names: list[str]) -> np.ndarray:
        return pose[[JOINT_INDEX[n] for n in names]]

    return {
        "betas": np.asarray(fit.shape, np.float32), "global_orient": pose[0], "body_pose": pose[1:22],
        "jaw_pose": pose[JOINT_INDEX["jaw"]], "leye_pose": pose[JOINT_INDEX["left_eye_smplhf"]],
        "reye_pose": pose[JOINT_INDEX["right_eye_smplhf"]],
        "left_hand_pose": rows([n for n in _HAND_JOINTS if n.startswith("left_")]),
        "right_hand_pose": rows([n for n in _HAND_JOINTS if n.startswith("right_")]),
        "transl": np.asarray(fit.root, np.float32), "K": np.asarray(fit.K, np.float64),
        "viewmat": np.asarray(fit.viewmat, np.float64),
        "image_size": np.asarray(fit.image_size, np.int64),
    }


def save_body_parameters(path: str | os.PathLike[str], fit: BodyFit) -> Path:
    """Write the parameters as ``.npz`` (numeric arrays, plus ``body_model`` as a byte string) or ``.json``."""
    target = Path(path)
    parameters = body_parameters(fit)
    if target.suffix.lower() == ".json":
        data = {"body_model": fit.body_model, **{k: v.tolist() for k, v in parameters.items()}}
        write_bytes_atomic(target, (json.dumps(data, indent=1) + "\n").encode())
    elif target.suffix.lower() == ".npz":
        buffer = io.BytesIO()
        np.savez(buffer, body_model=np.frombuffer(fit.body_model.encode(), np.uint8), **parameters)
        write_bytes_atomic(target, buffer.getvalue())
    else:
        raise ValueError(f"body parameters are written as .npz or .json, not '{target.suffix}'")
    return target


def vertex_colours(body: BodyModel, avatar: Avatar) -> np.ndarray:
    """RGB [V, 3] in [0, 1] per body vertex: the colour of the avatar's nearest Gaussian (rest pose)."""
    with torch.no_grad():
        rest = body.rest(torch.tensor(avatar.shape)[None]).vertices[0]
    means, colours = avatar.cloud.means, avatar.cloud.base_colors()
    nearest = torch.cat([torch.cdist(chunk, means).argmin(1) for chunk in rest.split(2048)])
    return colours[nearest].numpy()


def save_body_mesh(path: str | os.PathLike[str], body: BodyModel, fit: BodyFit, avatar: Avatar | None = None,
                   posed: bool = True) -> Path:
    """The fitted body as OBJ (posed as fitted, or in the T-pose with ``posed=False``), coloured from
    ``avatar`` when given."""
    target = Path(path)
    if target.suffix.lower() != ".obj":
        raise ValueError(f"the body mesh is written as .obj, not '{target.suffix}'")
    pose = torch.tensor(fit.pose)[None] if posed else zero_pose(1)
    root = torch.tensor(fit.root)[None] if posed else None
    with torch.no_grad():
        vertices = body.forward(torch.tensor(fit.shape)[None], pose, root).vertices[0].numpy()
    lines = [f"# Avatarium body mesh ({fit.body_model}, {'posed' if posed else 'T-pose'}), metres, Y up"]
    if avatar is not None:
        colours = vertex_colours(body, avatar)
        lines += [f"v {x:.6f} {y:.6f} {z:.6f} {r:.4f} {g:.4f} {b:.4f}"
                  for (x, y, z), (r, g, b) in zip(vertices, colours, strict=True)]
    else:
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in body.faces.numpy()]
    write_bytes_atomic(target, ("\n".join(lines) + "\n").encode())
    return target
