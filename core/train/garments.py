"""Procedural outfits on the canonical body: colour (unlit albedo) and outward offset per surface point.

Rules work on the T-pose (canonical) body — x = the person's left, y up, z forward, metres — with
the body parts of :mod:`core.body.parts` and the T-pose joints. The mix follows what photos of real
people show, not what is easy to draw:

* garment colours are drawn with real-world frequencies (:data:`GARMENT_COLOURS`: black, white,
  greys, navy, denim, beige, brown and olive dominate; saturated colours are rare), fabrics are
  mostly plain, with denim, knit, stripes, checks and all-over prints on some;
* tops (tank, T-shirt, long sleeves), often under an outer layer (jacket to the hips, coat to the
  knees, a sleeveless padded vest; usually open at the front so the top shows in a band), trousers
  (slim or wide), shorts, skirts (to the knee or the calf) and dresses;
* hair of every length — long hair falls over the upper back, and shows from the front as it does on
  real people: beside the neck, on the shoulders, sometimes over the chest — buns, caps, bald heads;
  skin tones over the whole human range; shoes mostly black, white, grey or brown;
* prints exist on the front only or on the back only, so a network cannot learn to copy the front
  to the back blindly.

Offsets (metres, along the normal) give hair, loose and outer garments, wide trousers and skirts
their own geometry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.body.joints import JOINT_INDEX
from core.body.parts import PART_INDEX

TOPS = ("tank", "tshirt", "longsleeve")
OUTERS = ("jacket", "coat", "vest")
BOTTOMS = ("trousers", "wide", "shorts", "skirt", "long_skirt", "dress")
HAIR_STYLES = ("bald", "short", "medium", "long", "bun")
PATTERNS = ("solid", "denim", "knit", "stripes", "checks", "print")
#: Garment colours (sRGB in [0, 1]) and how often real clothes have them.
GARMENT_COLOURS: tuple[tuple[str, tuple[float, float, float], float], ...] = (
    ("black", (0.05, 0.05, 0.06), 0.20), ("charcoal", (0.18, 0.18, 0.19), 0.08), ("grey", (0.45, 0.45, 0.46), 0.08),
    ("light grey", (0.72, 0.72, 0.72), 0.05), ("white", (0.92, 0.91, 0.88), 0.12), ("navy", (0.09, 0.12, 0.24), 0.09),
    ("denim", (0.27, 0.36, 0.52), 0.07), ("beige", (0.78, 0.70, 0.56), 0.07), ("brown", (0.38, 0.25, 0.16), 0.05),
    ("olive", (0.33, 0.35, 0.20), 0.04), ("burgundy", (0.42, 0.10, 0.14), 0.03), ("saturated", (0.0, 0.0, 0.0), 0.12),
)
#: Skin tones from light to dark (sRGB); a person's tone is drawn between two neighbours.
SKIN_TONES = np.array([[0.97, 0.84, 0.74], [0.93, 0.76, 0.64], [0.84, 0.64, 0.50], [0.72, 0.52, 0.38],
                       [0.55, 0.38, 0.27], [0.38, 0.25, 0.17], [0.24, 0.16, 0.11]], np.float32)
HAIR_COLOURS = (((0.04, 0.035, 0.03), 0.42), ((0.16, 0.10, 0.06), 0.24), ((0.33, 0.21, 0.11), 0.13),
                ((0.70, 0.56, 0.34), 0.09), ((0.55, 0.54, 0.52), 0.06), ((0.45, 0.14, 0.08), 0.06))
SHOE_COLOURS = (((0.05, 0.05, 0.05), 0.35), ((0.90, 0.90, 0.88), 0.28), ((0.45, 0.45, 0.45), 0.10),
                ((0.36, 0.23, 0.13), 0.15), ((0.0, 0.0, 0.0), 0.12))
_P = PART_INDEX


def _pick(rng: np.random.Generator, table) -> np.ndarray:
    weights = np.array([w for *_, w in table], np.float64)
    return np.asarray(table[rng.choice(len(table), p=weights / weights.sum())][-2], np.float32)


def garment_colour(rng: np.random.Generator) -> np.ndarray:
    """A garment colour [3] drawn with :data:`GARMENT_COLOURS`' frequencies, its brightness jittered;
    "saturated" is any strong hue."""
    colour = _pick(rng, GARMENT_COLOURS)
    if not colour.any():  # a saturated colour: a random hue at high chroma
        colour = np.clip(rng.uniform(0, 1, 3) ** 2 * rng.uniform(0.6, 1.0) / 0.8, 0, 1)
    return np.clip(colour * rng.uniform(0.8, 1.2) + rng.normal(0, 0.02, 3), 0, 1).astype(np.float32)


def _noise(positions: np.ndarray, k: float, phase: np.ndarray) -> np.ndarray:
    """A smooth pseudo-random field [N] in about [−1, 1] at spatial frequency ``k`` (radians per metre)."""
    x, y, z = positions[:, 0], positions[:, 1], positions[:, 2]
    return (np.sin(k * x + phase[0]) * np.sin(0.83 * k * y + phase[1])
            + np.sin(1.31 * k * (x + z) + phase[2]) * np.cos(0.71 * k * (y - z) + phase[0])) / 2


@dataclass(frozen=True)
class Fabric:
    """A garment's colours and how they vary over the canonical surface."""

    colours: np.ndarray  # [2, 3] base and accent in [0, 1]
    pattern: str  # one of PATTERNS
    period: float  # metres
    phase: np.ndarray  # [3] radians

    def colour(self, positions: np.ndarray) -> np.ndarray:
        """Albedo [N, 3] at canonical ``positions`` [N, 3]."""
        x, y = positions[:, 0], positions[:, 1]
        k = 2 * np.pi / self.period
        base, accent = self.colours
        if self.pattern == "stripes":
            out = np.where((np.sin(k * y + self.phase[0]) > 0.3)[:, None], accent, base)
        elif self.pattern == "checks":
            lines = (np.abs(np.sin(k * x + self.phase[0])) > 0.85) | (np.abs(np.sin(k * y + self.phase[1])) > 0.85)
            shade = 1 + 0.12 * np.sign(np.sin(k * x + self.phase[0]) * np.sin(k * y + self.phase[1]))
            out = np.where(lines[:, None], accent, base * shade[:, None])
        elif self.pattern == "print":
            out = np.where((_noise(positions, k, self.phase) > 0.45)[:, None], accent, base)
        else:
            out = np.broadcast_to(base, positions.shape).copy()
        grain = {"denim": (0.12, 900.0), "knit": (0.1, 500.0)}.get(self.pattern, (0.03, 60.0))
        out = out * (1 + grain[0] * _noise(positions, grain[1], self.phase))[:, None]
        return np.clip(out, 0, 1).astype(np.float32)


def random_fabric(rng: np.random.Generator, denim_bias: float = 0.0) -> Fabric:
    """A fabric: plain on about half of garments; ``denim_bias`` raises the chance of denim (trousers, jackets)."""
    weights = np.array([0.52, 0.08 + denim_bias, 0.12, 0.11, 0.09, 0.08])
    pattern = str(rng.choice(PATTERNS, p=weights / weights.sum()))
    base = garment_colour(rng)
    if pattern == "denim":
        base = np.clip(np.array([0.24, 0.33, 0.50]) * rng.uniform(0.5, 1.3) + rng.normal(0, 0.03, 3), 0, 1)
    accent = garment_colour(rng) if rng.random() < 0.6 else np.clip(base * rng.uniform(0.4, 1.6), 0, 1)
    period = float(rng.uniform(0.02, 0.12)) if pattern != "print" else float(rng.uniform(0.08, 0.25))
    return Fabric(np.stack([base, accent]).astype(np.float32), pattern, period, rng.uniform(0, 2 * np.pi, 3))


@dataclass(frozen=True)
class Outfit:
    """Everything that decides one synthetic person's look."""

    skin: np.ndarray  # [3]
    hair: np.ndarray  # [3]
    hair_style: str  # one of HAIR_STYLES
    hair_length: float  # metres below the shoulders that long hair reaches down the back
    hair_front: bool  # long hair also falls in front, over the chest
    hat: np.ndarray | None  # [3] a cap's colour, or no cap
    top: str  # one of TOPS
    top_fabric: Fabric
    outer: str | None  # one of OUTERS, or none
    outer_fabric: Fabric
    opening: float  # half-width (metres) of the outer layer's open front (0: closed)
    bottom: str  # one of BOTTOMS ("dress": the top's fabric down to the knee)
    bottom_fabric: Fabric
    shoes: np.ndarray  # [3]
    waist: float  # fraction from the hips joint (0) to the shoulders (1) where the top ends
    front_print: tuple[float, float, np.ndarray] | None  # (height fraction of the chest, radius m, colour)
    back_print: tuple[float, float, np.ndarray] | None
    looseness: float  # metres the top stands off the skin
    outer_looseness: float  # metres the outer layer stands off the skin


def random_outfit(rng: np.random.Generator) -> Outfit:
    """An outfit drawn with the frequencies of the module docstring."""
    def print_or_none(probability: float) -> tuple[float, float, np.ndarray] | None:
        if rng.random() >= probability:
            return None
        return float(rng.uniform(0.45, 0.8)), float(rng.uniform(0.03, 0.09)), rng.uniform(0, 1, 3).astype(np.float32)

    low = int(rng.integers(len(SKIN_TONES) - 1))
    skin = SKIN_TONES[low] + rng.uniform(0, 1) * (SKIN_TONES[low + 1] - SKIN_TONES[low])
    shoes = _pick(rng, SHOE_COLOURS)
    if not shoes.any():
        shoes = garment_colour(rng)
    bottom = str(rng.choice(BOTTOMS, p=[0.40, 0.12, 0.15, 0.12, 0.10, 0.11]))
    top_fabric = random_fabric(rng)
    return Outfit(
        skin=np.clip(skin + rng.normal(0, 0.015, 3), 0, 1).astype(np.float32),
        hair=np.clip(_pick(rng, HAIR_COLOURS) * rng.uniform(0.85, 1.15), 0, 1).astype(np.float32),
        hair_style=str(rng.choice(HAIR_STYLES, p=[0.08, 0.34, 0.18, 0.28, 0.12])),
        hair_length=float(rng.uniform(0.0, 0.25)), hair_front=bool(rng.random() < 0.4),
        hat=garment_colour(rng) if rng.random() < 0.08 else None,
        top=str(rng.choice(TOPS, p=[0.12, 0.43, 0.45])), top_fabric=top_fabric,
        outer=str(rng.choice(OUTERS, p=[0.5, 0.3, 0.2])) if rng.random() < 0.35 else None,
        outer_fabric=random_fabric(rng, denim_bias=0.05), opening=float(rng.choice([0.0, rng.uniform(0.04, 0.12)],
                                                                               p=[0.3, 0.7])),
        bottom=bottom, bottom_fabric=top_fabric if bottom == "dress" else random_fabric(rng, denim_bias=0.25),
        shoes=np.clip(shoes, 0, 1).astype(np.float32), waist=float(rng.uniform(0.1, 0.3)),
        front_print=print_or_none(0.25), back_print=print_or_none(0.08),
        looseness=float(rng.uniform(0.0, 0.015)), outer_looseness=float(rng.uniform(0.012, 0.04)),
    )


def dress(outfit: Outfit, positions: np.ndarray, normals: np.ndarray, parts: np.ndarray, joints: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Albedo [N, 3] and outward offset [N] (metres) of canonical surface points ``positions`` [N, 3]
    with ``normals`` [N, 3] and body ``parts`` [N], on a body whose T-pose joints are ``joints`` [55, 3]."""
    j = {name: joints[JOINT_INDEX[name]] for name in (
        "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow", "left_wrist", "left_eye_smplhf",
        "right_eye_smplhf")}
    x, y, z = positions[:, 0], positions[:, 1], positions[:, 2]
    reach = np.abs(x)
    albedo = np.tile(outfit.skin, (len(positions), 1)).astype(np.float32)
    offset = np.zeros(len(positions), np.float32)

    def part(*names: str) -> np.ndarray:
        return np.isin(parts, [_P[n] for n in names])

    def wear(region: np.ndarray, fabric: Fabric, lift: np.ndarray | float) -> None:
        albedo[region] = fabric.colour(positions[region])
        offset[region] = np.broadcast_to(lift, offset.shape)[region] if np.ndim(lift) else lift

    shoulder_x, elbow_x, wrist_x = abs(j["left_shoulder"][0]), abs(j["left_elbow"][0]), abs(j["left_wrist"][0])
    hip_y, knee_y, ankle_y, shoulder_y = j["left_hip"][1], j["left_knee"][1], j["left_ankle"][1], j["left_shoulder"][1]
    waist_y = hip_y + outfit.waist * (shoulder_y - hip_y)
    arms = part("left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm")
    legs = part("left_thigh", "right_thigh", "left_shin", "right_shin")
    below_hip = np.clip((hip_y - y) / max(hip_y - knee_y, 1e-3), 0, None)  # 0 at the hips, 1 at the knees
    # bottom
    bottom_end = {"trousers": ankle_y + 0.02, "wide": ankle_y + 0.02, "shorts": knee_y + 0.55 * (hip_y - knee_y),
                  "skirt": knee_y + 0.05, "long_skirt": knee_y - 0.55 * (knee_y - ankle_y),
                  "dress": knee_y + 0.02}[outfit.bottom]
    bottom = (part("hips") & (y <= waist_y)) | (legs & (y > bottom_end))
    flare = {"wide": 0.005 + 0.02 * below_hip, "skirt": 0.03 * np.minimum(below_hip, 1.2),
             "long_skirt": 0.035 * np.minimum(below_hip, 2.0), "dress": 0.03 * np.minimum(below_hip, 1.2)}
    wear(bottom, outfit.bottom_fabric, flare.get(outfit.bottom, 0.004))
    # top
    sleeve_end = {"tank": shoulder_x + 0.02, "tshirt": shoulder_x + 0.5 * (elbow_x - shoulder_x),
                  "longsleeve": wrist_x - 0.03}[outfit.top]
    top = part("chest", "neck") & (y < shoulder_y + 0.06) & ~(part("neck") & (z > 0.0))
    top = top | (part("hips") & (y > waist_y)) | (arms & (reach < sleeve_end))
    if outfit.bottom == "dress":
        top = top | (part("hips") & (y <= waist_y))
    wear(top, outfit.top_fabric, outfit.looseness)
    chest_low, chest_high = waist_y, shoulder_y
    for spec, side in ((outfit.front_print, 1.0), (outfit.back_print, -1.0)):
        if spec is not None:
            height, radius, colour = spec
            centre_y = chest_low + height * (chest_high - chest_low)
            albedo[top & (np.hypot(x, y - centre_y) < radius) & (side * normals[:, 2] > 0.3)] = colour
    # outer layer, open at the front
    if outfit.outer is not None:
        hem = knee_y + 0.04 if outfit.outer == "coat" else hip_y - 0.06
        sleeve = shoulder_x + 0.03 if outfit.outer == "vest" else wrist_x - 0.02
        body = part("chest", "hips") | (part("neck") & (z < 0.0) & (y < shoulder_y + 0.05))
        outer = (body & (y > hem)) | (arms & (reach < sleeve)) | (legs & (y > hem))
        outer &= ~(part("chest", "hips", "neck") & (np.abs(x) < outfit.opening) & (normals[:, 2] > 0.2))
        coat_flare = np.where(legs | (part("hips") & (y < hip_y)), 0.02 * np.minimum(below_hip, 1.2), 0.0)
        wear(outer, outfit.outer_fabric, outfit.outer_looseness + coat_flare)
    # shoes
    wear(part("left_foot", "right_foot") | (legs & (y < ankle_y + 0.02)),
         Fabric(np.stack([outfit.shoes, outfit.shoes]), "solid", 0.1, np.zeros(3)), 0.004)
    # hair, hat and eyes
    head = part("head")
    eye_y = (j["left_eye_smplhf"][1] + j["right_eye_smplhf"][1]) / 2
    if outfit.hair_style != "bald":
        hair, lift = _hair(outfit, positions, normals, part, eye_y, shoulder_x, shoulder_y)
        wear(hair, Fabric(np.stack([outfit.hair, outfit.hair * 0.8]), "knit", 0.01, np.zeros(3)), lift)
    if outfit.hat is not None:
        wear(head & (y > eye_y + 0.045), Fabric(np.stack([outfit.hat, outfit.hat]), "solid", 0.1, np.zeros(3)), 0.02)
    for eye in ("left_eye_smplhf", "right_eye_smplhf"):
        near = head & (np.linalg.norm(positions - j[eye], axis=1) < 0.016) & (normals[:, 2] > 0.5)
        albedo[near] = (0.05, 0.04, 0.04)
    return albedo, offset


def _hair(outfit: Outfit, positions: np.ndarray, normals: np.ndarray, part: Callable[..., np.ndarray], eye_y: float,
          shoulder_x: float, shoulder_y: float) -> tuple[np.ndarray, np.ndarray | float]:
    """Where ``outfit``'s hair lies on the canonical surface points ``positions`` [N, 3] (bool [N]) and
    how far it stands off (metres, [N] or one value); ``part(*names)`` selects body parts."""
    x, y, z = positions[:, 0], positions[:, 1], positions[:, 2]
    reach = np.abs(x)
    head = part("head")
    centre_z = float(positions[head, 2].mean()) if head.any() else 0.0
    top_y = float(positions[head, 1].max()) if head.any() else eye_y + 0.1
    behind = z < centre_z - 0.02
    hair = head & ((y > eye_y + 0.03) | (behind & (y > eye_y - 0.05)))
    lift: np.ndarray | float = 0.012
    beside_neck = part("neck") & (np.abs(x) > 0.03) & (z < centre_z + 0.02)  # seen from the front too
    if outfit.hair_style == "medium":
        hair |= (part("head", "neck") & behind & (y > shoulder_y + 0.02)) | (beside_neck & (y > shoulder_y))
        lift = np.where(part("neck"), 0.03, 0.018)
    elif outfit.hair_style == "long":
        end = shoulder_y - outfit.hair_length
        hair |= part("head", "neck", "chest") & (z < centre_z - 0.03) & (y > end) & (reach < shoulder_x)
        hair |= head & (np.abs(x) > 0.05) & (y > eye_y - 0.08)  # falling beside the face
        shoulders = part("chest") & (y > shoulder_y - 0.04) & (reach < 0.6 * shoulder_x)
        hair |= beside_neck | shoulders
        if outfit.hair_front:
            hair |= part("chest") & (normals[:, 2] > 0.2) & (reach > 0.05) & (reach < 0.14) & (y > end)
        lift = np.where(part("chest", "neck"), 0.03, 0.018)
    elif outfit.hair_style == "bun":
        bun = np.exp(-((y - (top_y - 0.05)) ** 2 + x ** 2) / (2 * 0.035 ** 2)) * (z < centre_z)
        lift = 0.01 + 0.05 * bun
    return hair, lift
