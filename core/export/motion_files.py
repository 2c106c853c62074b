"""Writing motions in the formats :mod:`core.body.motion_files` reads (and other tools read):

- AMASS-style ``.npz``: ``poses`` [T, 165] (SMPL-X order: root, 21 body joints, jaw, eyes, 2×15 hand
  joints; rotation vectors, radians), ``trans`` [T, 3] (metres), ``mocap_framerate``, in AMASS's Z-up
  world (our Y-up world turned by +90° about X), ``gender`` "neutral" and ``surface_model_type`` "smplx";
- LHM-style folders of per-frame SMPL-X ``.json`` (``root_pose``, ``body_pose``, ``jaw_pose``,
  ``leye_pose``, ``reye_pose``, ``lhand_pose``, ``rhand_pose``, ``trans``, plus ``fps``) in camera
  coordinates (OpenCV: y down, z away), named ``00000.json`` …

Both are written atomically: the file (or the whole folder) appears only when complete.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import torch

from core.body.model import BodyModel
from core.body.motion_files import Motion, change_frame
from core.io.atomic import atomic_folder, write_bytes_atomic

_Y_UP_TO_Z_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
_Y_UP_TO_OPENCV = torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])


def save_amass(path: str | os.PathLike[str], motion: Motion) -> Path:
    """Write ``motion`` as an AMASS-style SMPL-X ``.npz`` (see the module docstring)."""
    target = Path(path)
    if target.suffix.lower() != ".npz":
        raise ValueError(f"AMASS motions are .npz files, not '{target.suffix}'")
    poses, trans = change_frame(motion.poses.float(), motion.trans.float(), _Y_UP_TO_Z_UP)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, poses=poses.reshape(len(motion), -1).numpy().astype(np.float32),
                        trans=trans.numpy().astype(np.float32), mocap_framerate=np.float64(motion.fps),
                        gender=np.str_("neutral"), surface_model_type=np.str_("smplx"))
    write_bytes_atomic(target, buffer.getvalue())
    return target


def save_smplx_json_folder(folder: str | os.PathLike[str], motion: Motion) -> Path:
    """Write ``motion`` as a folder of per-frame SMPL-X ``.json`` files (see the module docstring); an
    existing folder of that name is replaced only once the new one is complete."""
    target = Path(folder)
    poses, trans = change_frame(motion.poses.float(), motion.trans.float(), _Y_UP_TO_OPENCV)
    poses, trans = poses.numpy().astype(np.float64), trans.numpy().astype(np.float64)
    with atomic_folder(target) as staging:
        for i in range(len(motion)):
            frame = {"root_pose": poses[i, 0].tolist(), "body_pose": poses[i, 1:22].tolist(),
                     "jaw_pose": poses[i, 22].tolist(), "leye_pose": poses[i, 23].tolist(),
                     "reye_pose": poses[i, 24].tolist(), "lhand_pose": poses[i, 25:40].tolist(),
                     "rhand_pose": poses[i, 40:55].tolist(), "trans": trans[i].tolist(), "fps": motion.fps}
            (staging / f"{i:05d}.json").write_text(json.dumps(frame), encoding="utf-8")
    return target


MOTION_FORMATS = {".npz": "AMASS-style SMPL-X motion", ".bvh": "BVH motion on the body's skeleton",
                  ".glb": "rigged body with the motion as a glTF animation", "": "folder of per-frame SMPL-X .json"}


def save_motion(path: str | os.PathLike[str], motion: Motion, body: BodyModel, shape: np.ndarray) -> Path:
    """Write ``motion`` in the format of ``path``'s suffix (:data:`MOTION_FORMATS`; none: a folder of
    SMPL-X ``.json``); ``.bvh`` and ``.glb`` carry ``body``'s skeleton in ``shape`` [S]."""
    from core.export.bvh import save_bvh
    from core.export.gltf import save_rigged_glb

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".npz":
        return save_amass(target, motion)
    if suffix == ".bvh":
        return save_bvh(target, body, shape, motion)
    if suffix == ".glb":
        return save_rigged_glb(target, body, shape, motions=[motion])
    if suffix == "":
        return save_smplx_json_folder(target, motion)
    raise ValueError(f"cannot write a motion as '{suffix}': use " + ", ".join(
        f"{s or 'a folder name'} ({what})" for s, what in MOTION_FORMATS.items()))
