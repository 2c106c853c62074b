"""The body as a rigged glTF 2.0 binary (``.glb``): mesh, vertex colours, skeleton, skin weights and,
optionally, motions as glTF animations.

Blender, three.js, Unity and other glTF readers import it as a skinned mesh they can pose. Two rigs:

- ``native``: the body model's own skeleton in its rest pose (anny's A-pose, SMPL-X's T-pose), each
  joint node's rest rotation the bone's own frame;
- ``humanoid``: the same bones, bound in the T-pose (the zero pose) with every joint frame aligned with
  the world axes (rest rotations identity, as SMPL-X's exports for game engines), the 55 vocabulary
  joints named as :data:`core.body.humanoid.HUMANOID_NAMES` (Mixamo / Unity Humanoid); the model's
  other bones (anny's toes, metacarpals, extra spine and neck segments) keep their names.

One joint node per skinning bone (translation + rotation), inverse bind matrices of the bind-pose bones,
the four strongest bone weights per vertex (renormalised; glTF's common limit). A motion becomes one
animation: every joint's rotation and the root's translation per frame (linear interpolation). Units
metres, Y up, +Z forward — the glTF convention too. Written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from core.body.humanoid import HUMANOID_NAMES
from core.body.joints import zero_pose
from core.body.lbs import strongest_influences
from core.body.model import BodyModel
from core.body.motion_files import Motion
from core.export.glb import ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, FLOAT, UBYTE, UINT, USHORT, GlbBuilder
from core.io.atomic import write_bytes_atomic
from core.rotations import rotmat_to_quat

Rig = Literal["native", "humanoid"]
RIGS: tuple[str, ...] = ("native", "humanoid")
_INFLUENCES = 4


def rig_arrays(body: BodyModel, shape: torch.Tensor, rig: Rig = "native") -> dict[str, np.ndarray]:
    """The rig's arrays: bind-pose vertices [V, 3], faces [F, 3], joints [V, 4] and weights [V, 4]
    (strongest bones, renormalised), bind-pose bone world transforms ``bones`` [K, 4, 4], parents [K],
    ``to_bind`` [K, 4, 4] (the skinning transforms taking the model's rest pose to the bind pose) and
    the bone ``names`` [K]."""
    if rig not in RIGS:
        raise ValueError(f"unknown rig '{rig}'; rigs are {', '.join(RIGS)}")
    count = len(body.bone_names)
    with torch.no_grad():
        rest_bones = body.rest_bones(shape).double()
        if rig == "native":
            vertices = body.rest(shape).vertices[0]
            to_bind, bones = torch.eye(4, dtype=torch.float64).expand(count, 4, 4), rest_bones
            names = list(body.bone_names)
        else:
            zero = body.forward(shape, zero_pose()[None])
            vertices, to_bind = zero.vertices[0], zero.transforms[0].double()
            bones = torch.eye(4, dtype=torch.float64).repeat(count, 1, 1)
            bones[:, :3, 3] = (to_bind @ rest_bones)[:, :3, 3]  # the heads in the T-pose, world-aligned frames
            names = list(body.bone_names)
            for joint, bone in body.joint_bones.items():
                names[body.bone_names.index(bone)] = HUMANOID_NAMES[joint]
    joints, weights = strongest_influences(body.skin_indices, body.skin_weights, _INFLUENCES)
    return {"vertices": vertices.numpy().astype(np.float32), "faces": body.faces.numpy().astype(np.uint32),
            "joints": joints.numpy().astype(np.uint16), "weights": weights.numpy().astype(np.float32),
            "bones": bones.numpy(), "to_bind": to_bind.numpy(), "names": np.array(names),
            "parents": np.asarray(body.bone_parents, np.int64)}


def local_transforms(world: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Parent-relative transforms [..., K, 4, 4] of bone world transforms ``world`` [..., K, 4, 4]."""
    local = world.copy()
    for k, parent in enumerate(parents):
        if parent >= 0:
            local[..., k, :, :] = np.linalg.inv(world[..., parent, :, :]) @ world[..., k, :, :]
    return local


def rig_motion(body: BodyModel, shape: torch.Tensor, rig: dict[str, np.ndarray], motion: Motion
               ) -> tuple[np.ndarray, np.ndarray]:
    """The rig's joint nodes playing ``motion``: parent-relative translations [T, K, 3] (metres) and
    rotations [T, K, 4] (unit quaternions x y z w, glTF's order) per frame."""
    transforms = body.bone_transforms(shape, motion.poses, motion.trans)
    bind_to_posed = transforms.double().numpy() @ np.linalg.inv(rig["to_bind"])
    local = local_transforms(bind_to_posed @ rig["bones"], rig["parents"])
    wxyz = rotmat_to_quat(torch.from_numpy(local[..., :3, :3])).numpy()
    return local[..., :3, 3], np.concatenate([wxyz[..., 1:], wxyz[..., :1]], -1)


def _animation(glb: GlbBuilder, motion: Motion, translations: np.ndarray, rotations: np.ndarray,
               roots: list[int]) -> dict:
    """A glTF animation (the accessors added to ``glb``): every joint's rotation, the roots' translation."""
    times = glb.add((np.arange(len(motion)) / motion.fps).astype(np.float32), FLOAT, "SCALAR", bounds=True)
    samplers, channels = [], []
    for k in range(rotations.shape[1]):
        paths = [("rotation", rotations[:, k], "VEC4")] + ([("translation", translations[:, k], "VEC3")]
                                                          if k in roots else [])
        for path, values, kind in paths:
            samplers.append({"input": times, "output": glb.add(values.astype(np.float32), FLOAT, kind),
                             "interpolation": "LINEAR"})
            channels.append({"sampler": len(samplers) - 1, "target": {"node": k, "path": path}})
    return {"name": motion.name, "samplers": samplers, "channels": channels}


def save_rigged_glb(path: str | os.PathLike[str], body: BodyModel, shape: np.ndarray,
                    colours: np.ndarray | None = None, rig: Rig = "native", motions: Sequence[Motion] = ()) -> Path:
    """Write ``body`` of ``shape`` [S] as a rigged ``.glb`` with the ``rig`` skeleton; ``colours`` [V, 3]
    in [0, 1] per vertex; each of ``motions`` as an animation."""
    target = Path(path)
    if target.suffix.lower() != ".glb":
        raise ValueError(f"the rigged body is written as .glb, not '{target.suffix}'")
    shape_tensor = torch.as_tensor(shape, dtype=torch.float32)[None]
    arrays = rig_arrays(body, shape_tensor, rig)
    bones, parents = arrays["bones"], arrays["parents"]
    glb = GlbBuilder()
    add = glb.add
    attributes = {"POSITION": add(arrays["vertices"], FLOAT, "VEC3", ARRAY_BUFFER, bounds=True),
                  "JOINTS_0": add(arrays["joints"], USHORT, "VEC4", ARRAY_BUFFER),
                  "WEIGHTS_0": add(arrays["weights"], FLOAT, "VEC4", ARRAY_BUFFER)}
    if colours is not None:
        rgb = (np.clip(np.asarray(colours, np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)
        attributes["COLOR_0"] = add(np.concatenate([rgb, np.full((len(rgb), 1), 255, np.uint8)], 1), UBYTE, "VEC4",
                                    ARRAY_BUFFER, normalized=True)
    indices = add(arrays["faces"].reshape(-1), UINT, "SCALAR", ELEMENT_ARRAY_BUFFER)
    inverse_binds = add(np.linalg.inv(bones).transpose(0, 2, 1).astype(np.float32).reshape(len(bones), 16),
                        FLOAT, "MAT4")
    rest = local_transforms(bones, parents)
    rest_quats = rotmat_to_quat(torch.from_numpy(rest[:, :3, :3])).numpy()
    nodes: list[dict] = [{"name": str(arrays["names"][k]), "translation": [float(v) for v in rest[k, :3, 3]],
                          "rotation": [float(v) for v in (*rest_quats[k, 1:], rest_quats[k, 0])]}
                         for k in range(len(parents))]
    for k, parent in enumerate(parents):
        if parent >= 0:
            nodes[parent].setdefault("children", []).append(k)
    roots = [k for k, parent in enumerate(parents) if parent < 0]
    nodes.append({"name": f"{body.name}_body", "mesh": 0, "skin": 0})
    document = {
        "asset": {"version": "2.0", "generator": "Avatarium"},
        "scene": 0, "scenes": [{"nodes": [*roots, len(nodes) - 1]}], "nodes": nodes,
        "meshes": [{"name": f"{body.name}_body", "primitives": [{"attributes": attributes, "indices": indices,
                                                                  "mode": 4}]}],
        "skins": [{"name": f"{body.name}_{rig}_skeleton", "joints": list(range(len(parents))),
                   "inverseBindMatrices": inverse_binds, "skeleton": roots[0]}],
    }
    if motions:
        document["animations"] = [_animation(glb, motion, *rig_motion(body, shape_tensor, arrays, motion), roots)
                                  for motion in motions]
    write_bytes_atomic(target, glb.pack(document))
    return target
