"""Sixteen body parts, by each vertex's dominant skinning bone; the same vocabulary for every backend.

anny's own segmentation texture is too coarse for garments (body / head / hands / feet), so the
parts come from the skeleton: e.g. a vertex whose strongest bone is anny's ``lowerarm01.L`` or
SMPL-X's ``left_elbow`` lies on the left forearm. ``left``/``right`` are the person's own sides.
"""

from __future__ import annotations

import torch

from core.body.model import BodyModel

PART_NAMES: tuple[str, ...] = (
    "head", "neck", "chest", "hips", "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm",
    "left_hand", "right_hand", "left_thigh", "right_thigh", "left_shin", "right_shin", "left_foot", "right_foot",
)
PART_INDEX = {name: i for i, name in enumerate(PART_NAMES)}

#: Bone-name prefixes of each limb part (anny names, then SMPL-X names); sides are added from the name.
_LIMBS = {
    "upper_arm": ("upperarm", "shoulder01", "_shoulder"),
    "forearm": ("lowerarm", "_elbow"),
    "hand": ("wrist", "finger", "metacarpal", "_wrist", "_index", "_middle", "_pinky", "_ring", "_thumb"),
    "thigh": ("pelvis.", "upperleg", "_hip"),
    "shin": ("lowerleg", "_knee"),
    "foot": ("foot", "toe", "_ankle", "_foot"),
}
_CENTRE = {"head": ("head", "eye", "jaw", "left_eye", "right_eye"), "neck": ("neck",),
           "chest": ("spine01", "spine02", "clavicle", "spine2", "spine3", "left_collar", "right_collar"),
           "hips": ("root", "spine03", "spine04", "spine05", "pelvis", "spine1")}


def bone_part(name: str) -> int:
    """The part index of a bone (anny or SMPL-X name)."""
    side = "left" if name.endswith(".L") or name.startswith("left_") else \
        "right" if name.endswith(".R") or name.startswith("right_") else None
    bare = name.removeprefix("left").removeprefix("right")
    if side is not None:
        for limb, prefixes in _LIMBS.items():
            if any(name.startswith(p) or bare.startswith(p) for p in prefixes):
                return PART_INDEX[f"{side}_{limb}"]
    for part, prefixes in _CENTRE.items():
        if any(name == p or name.startswith(p) for p in prefixes):
            return PART_INDEX[part]
    raise KeyError(f"bone '{name}' belongs to no body part")


def on_parts(parts: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """Which entries of the part indices ``parts`` [...] (int64) are one of the parts ``names`` (bool [...])."""
    return torch.isin(parts, torch.tensor([PART_INDEX[name] for name in names]))


def vertex_parts(body: BodyModel) -> torch.Tensor:
    """Part index [V] (int64) of every vertex of ``body``."""
    table = torch.tensor([bone_part(name) for name in body.bone_names])
    dominant = body.skin_indices.gather(1, body.skin_weights.argmax(1, keepdim=True))[:, 0]
    return table[dominant]
