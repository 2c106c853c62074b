"""The body as a rigged glTF 2.0 binary (``.glb``): mesh, vertex colours, skeleton and skin weights.

Blender, three.js and other glTF readers import it as a skinned mesh they can pose. The mesh is in
the bind pose (the body model's rest pose: anny's A-pose, SMPL-X's T-pose), one joint node per
skinning bone with its local matrix, inverse bind matrices of the rest bones, and the four strongest
bone weights per vertex (renormalised; glTF's common limit). Units metres, Y up, +Z forward — the
glTF convention too. Written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from core.body.model import BodyModel
from core.export.glb import ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, FLOAT, UBYTE, UINT, USHORT, GlbBuilder
from core.io.atomic import write_bytes_atomic

_INFLUENCES = 4


def _column_major(matrix: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(matrix, np.float64).T.reshape(-1)]


def rig_arrays(body: BodyModel, shape: torch.Tensor) -> dict[str, np.ndarray]:
    """The rig's arrays: bind-pose vertices [V, 3], faces [F, 3], joints [V, 4] and weights [V, 4]
    (strongest bones, renormalised), rest bone world transforms [K, 4, 4] and parents [K]."""
    with torch.no_grad():
        vertices = body.rest(shape).vertices[0].numpy().astype(np.float32)
    weights, order = body.skin_weights.topk(min(_INFLUENCES, body.skin_weights.shape[1]), dim=1)
    joints = body.skin_indices.gather(1, order)
    weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
    if joints.shape[1] < _INFLUENCES:  # pad to four influences with zero weight
        pad = _INFLUENCES - joints.shape[1]
        joints = torch.cat([joints, joints[:, :1].expand(-1, pad)], 1)
        weights = torch.cat([weights, torch.zeros(len(weights), pad)], 1)
    return {"vertices": vertices, "faces": body.faces.numpy().astype(np.uint32),
            "joints": joints.numpy().astype(np.uint16), "weights": weights.numpy().astype(np.float32),
            "bones": body.rest_bones(shape).numpy().astype(np.float64),
            "parents": np.asarray(body.bone_parents, np.int64)}


def save_rigged_glb(path: str | os.PathLike[str], body: BodyModel, shape: np.ndarray,
                    colours: np.ndarray | None = None) -> Path:
    """Write ``body`` of ``shape`` [S] as a rigged ``.glb``; ``colours`` [V, 3] in [0, 1] per vertex."""
    target = Path(path)
    if target.suffix.lower() != ".glb":
        raise ValueError(f"the rigged body is written as .glb, not '{target.suffix}'")
    rig = rig_arrays(body, torch.as_tensor(shape, dtype=torch.float32)[None])
    bones, parents = rig["bones"], rig["parents"]
    glb = GlbBuilder()
    add = glb.add
    attributes = {"POSITION": add(rig["vertices"], FLOAT, "VEC3", ARRAY_BUFFER, bounds=True),
                  "JOINTS_0": add(rig["joints"], USHORT, "VEC4", ARRAY_BUFFER),
                  "WEIGHTS_0": add(rig["weights"], FLOAT, "VEC4", ARRAY_BUFFER)}
    if colours is not None:
        rgb = (np.clip(np.asarray(colours, np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)
        attributes["COLOR_0"] = add(np.concatenate([rgb, np.full((len(rgb), 1), 255, np.uint8)], 1), UBYTE, "VEC4",
                                    ARRAY_BUFFER, normalized=True)
    indices = add(rig["faces"].reshape(-1), UINT, "SCALAR", ELEMENT_ARRAY_BUFFER)
    inverse_binds = add(np.linalg.inv(bones).transpose(0, 2, 1).astype(np.float32).reshape(len(bones), 16),
                        FLOAT, "MAT4")
    nodes: list[dict] = []
    for k, parent in enumerate(parents):
        local = bones[k] if parent < 0 else np.linalg.inv(bones[parent]) @ bones[k]
        nodes.append({"name": body.bone_names[k], "matrix": _column_major(local)})
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
        "skins": [{"name": f"{body.name}_skeleton", "joints": list(range(len(parents))),
                   "inverseBindMatrices": inverse_binds, "skeleton": roots[0]}],
    }
    write_bytes_atomic(target, glb.pack(document))
    return target
