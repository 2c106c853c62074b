"""Procedural outfits on the canonical body: colour (unlit albedo) and outward offset per surface point.

Rules work on the T-pose (canonical) body — x = the person's left, y up, z forward, metres — with
the body parts of :mod:`core.body.parts` and the T-pose joints: sleeves end at a fraction of the
arm, the top ends at a waist height, shorts and skirts at a fraction of the thigh, hair covers the
top and back of the head (long hair also the back of the neck and shoulders). Patterns are
functions of the canonical position (stripes, checks, low-frequency noise), and prints exist on
the front only or on the back only, so a network cannot learn to copy the front to the back.
Offsets (metres, along the normal) give hair, skirts and loose tops their own geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.body.joints import JOINT_INDEX
from core.body.parts import PART_INDEX

TOPS = ("tshirt", "longsleeve", "tank")
BOTTOMS = ("trousers", "shorts", "skirt")
HAIR_STYLES = ("short", "long", "bald")
PATTERNS = ("solid", "stripes", "checks", "noise")
SKIN_TONES = np.array([[0.96, 0.80, 0.69], [0.92, 0.72, 0.58], [0.80, 0.60, 0.45], [0.63, 0.45, 0.33],
                       [0.45, 0.31, 0.22], [0.30, 0.20, 0.15]], np.float32)
HAIR_COLOURS = np.array([[0.08, 0.06, 0.05], [0.25, 0.15, 0.08], [0.55, 0.40, 0.22], [0.80, 0.68, 0.45],
                         [0.45, 0.45, 0.45]], np.float32)
_P = PART_INDEX


@dataclass(frozen=True)
class Fabric:
    """Two colours and how they alternate over the canonical surface."""

    colours: np.ndarray  # [2, 3] in [0, 1]
    pattern: str  # one of PATTERNS
    period: float  # metres
    phase: np.ndarray  # [3] radians of the noise / stripe phases

    def colour(self, positions: np.ndarray) -> np.ndarray:
        """Albedo [N, 3] at canonical ``positions`` [N, 3]."""
        x, y = positions[:, 0], positions[:, 1]
        k = 2 * np.pi / self.period
        if self.pattern == "stripes":
            choice = np.sin(k * y + self.phase[0]) > 0
        elif self.pattern == "checks":
            choice = np.sin(k * x + self.phase[0]) * np.sin(k * y + self.phase[1]) > 0
        else:
            choice = np.zeros(len(positions), bool)
        base = np.where(choice[:, None], self.colours[1], self.colours[0])
        if self.pattern == "noise":
            shade = 1 + 0.25 * np.sin(k * x + self.phase[0]) * np.sin(0.7 * k * y + self.phase[1]) \
                * np.cos(0.5 * k * positions[:, 2] + self.phase[2])
            base = base * shade[:, None]
        return np.clip(base, 0, 1).astype(np.float32)


@dataclass(frozen=True)
class Outfit:
    """Everything that decides one synthetic person's look."""

    skin: np.ndarray  # [3]
    hair: np.ndarray  # [3]
    hair_style: str
    top: str
    top_fabric: Fabric
    bottom: str
    bottom_fabric: Fabric
    shoes: np.ndarray  # [3]
    waist: float  # fraction from the hips joint (0) to the shoulders (1) where the top ends
    front_print: tuple[float, float, np.ndarray] | None  # (height fraction of the chest, radius m, colour)
    back_print: tuple[float, float, np.ndarray] | None
    looseness: float  # metres the top stands off the skin


def _fabric(rng: np.random.Generator) -> Fabric:
    first = rng.uniform(0.05, 0.95, 3)
    second = np.clip(first + rng.choice([-1, 1]) * rng.uniform(0.3, 0.6, 3), 0, 1)
    return Fabric(np.stack([first, second]).astype(np.float32), str(rng.choice(PATTERNS, p=[0.4, 0.25, 0.15, 0.2])),
                  float(rng.uniform(0.03, 0.12)), rng.uniform(0, 2 * np.pi, 3))


def random_outfit(rng: np.random.Generator) -> Outfit:
    """An outfit: front-only prints on 45 % of people, back-only prints on 15 %."""
    def print_or_none(probability: float) -> tuple[float, float, np.ndarray] | None:
        if rng.random() >= probability:
            return None
        return float(rng.uniform(0.45, 0.8)), float(rng.uniform(0.04, 0.09)), rng.uniform(0, 1, 3).astype(np.float32)

    return Outfit(
        skin=SKIN_TONES[rng.integers(len(SKIN_TONES))], hair=HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))],
        hair_style=str(rng.choice(HAIR_STYLES, p=[0.5, 0.4, 0.1])), top=str(rng.choice(TOPS)),
        top_fabric=_fabric(rng), bottom=str(rng.choice(BOTTOMS, p=[0.5, 0.25, 0.25])), bottom_fabric=_fabric(rng),
        shoes=(rng.uniform(0.0, 1.0, 3) * rng.uniform(0.2, 1.0)).astype(np.float32),
        waist=float(rng.uniform(0.15, 0.3)), front_print=print_or_none(0.45), back_print=print_or_none(0.15),
        looseness=float(rng.uniform(0.0, 0.012)),
    )


def dress(outfit: Outfit, positions: np.ndarray, normals: np.ndarray, parts: np.ndarray, joints: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Albedo [N, 3] and outward offset [N] (metres) of canonical surface points ``positions`` [N, 3]
    with ``normals`` [N, 3] and body ``parts`` [N], on a body whose T-pose joints are ``joints`` [55, 3]."""
    j = {name: joints[JOINT_INDEX[name]] for name in (
        "pelvis", "left_hip", "left_knee", "left_shoulder", "left_elbow", "left_wrist", "neck", "head",
        "left_eye_smplhf", "right_eye_smplhf")}
    x, y, z = positions[:, 0], positions[:, 1], positions[:, 2]
    reach = np.abs(x)
    albedo = np.tile(outfit.skin, (len(positions), 1)).astype(np.float32)
    offset = np.zeros(len(positions), np.float32)

    def part(*names: str) -> np.ndarray:
        return np.isin(parts, [_P[n] for n in names])

    shoulder_x, elbow_x, wrist_x = abs(j["left_shoulder"][0]), abs(j["left_elbow"][0]), abs(j["left_wrist"][0])
    hip_y, knee_y, shoulder_y = j["left_hip"][1], j["left_knee"][1], j["left_shoulder"][1]
    waist_y = hip_y + outfit.waist * (shoulder_y - hip_y)
    # top
    sleeve_end = {"tank": shoulder_x + 0.02, "tshirt": shoulder_x + 0.5 * (elbow_x - shoulder_x),
                  "longsleeve": wrist_x - 0.03}[outfit.top]
    arms = part("left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm")
    top = (part("chest") | (part("hips") & (y > waist_y)) | (arms & (reach < sleeve_end)))
    albedo[top] = outfit.top_fabric.colour(positions[top])
    offset[top] = outfit.looseness
    chest_low, chest_high = waist_y, shoulder_y
    for spec, side in ((outfit.front_print, 1.0), (outfit.back_print, -1.0)):
        if spec is None:
            continue
        height, radius, colour = spec
        centre_y = chest_low + height * (chest_high - chest_low)
        inside = top & (np.hypot(x, y - centre_y) < radius) & (side * normals[:, 2] > 0.3)
        albedo[inside] = colour
    # bottom
    legs = part("left_thigh", "right_thigh", "left_shin", "right_shin")
    bottom_end = {"trousers": -np.inf, "shorts": knee_y + 0.55 * (hip_y - knee_y),
                  "skirt": knee_y + 0.05}[outfit.bottom]
    bottom = (part("hips") & (y <= waist_y)) | (legs & (y > bottom_end))
    albedo[bottom] = outfit.bottom_fabric.colour(positions[bottom])
    offset[bottom] = 0.025 * np.clip((hip_y - y[bottom]) / max(hip_y - knee_y, 1e-3), 0, 1) \
        if outfit.bottom == "skirt" else 0.004
    # shoes
    albedo[part("left_foot", "right_foot")] = outfit.shoes
    # hair and eyes
    head = part("head")
    eye_y = (j["left_eye_smplhf"][1] + j["right_eye_smplhf"][1]) / 2
    centre_z = float(positions[head, 2].mean()) if head.any() else 0.0
    if outfit.hair_style != "bald":
        hair = head & ((y > eye_y + 0.03) | ((z < centre_z - 0.02) & (y > eye_y - 0.05)))
        if outfit.hair_style == "long":
            hair |= part("head", "neck", "chest") & (z < centre_z - 0.03) & (y > shoulder_y - 0.12)
        albedo[hair] = outfit.hair
        offset[hair] = np.where(outfit.hair_style == "long", 0.02, 0.012)
    for eye in ("left_eye_smplhf", "right_eye_smplhf"):
        near = head & (np.linalg.norm(positions - j[eye], axis=1) < 0.016) & (normals[:, 2] > 0.5)
        albedo[near] = (0.05, 0.04, 0.04)
    return albedo, offset
