"""Synthetic people: random anny bodies in random poses, dressed in solid garments, rendered as photos.

Used by the fitting benchmark (and the start of the network's training data). Everything is
deterministic given the seed. Garments are regions of the body surface chosen by each vertex's
dominant skinning bone plus rules on the rest-pose position (hair above the eyes and on the back of
the head, sleeves and trouser legs of random length); the surface is splatted with flat Gaussians,
lit by a random directional light with ambient light, over a random gradient background with noise.

Camera: the fitting convention (:data:`core.fit.result.CAMERA_VIEWMAT`), at the origin looking down
world −Z; the person stands about ``distance`` metres away, ``K`` from a random field of view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.avatar.binding import mesh_area, sample_surface, triangle_frames
from core.body.joints import JOINT_INDEX, clamp_to_limits
from core.body.model import BodyModel
from core.body.motions import BUILTIN_MOTIONS, builtin_motion
from core.camera import intrinsics_from_fov
from core.fit.result import CAMERA_VIEWMAT
from core.rotations import rotmat_to_quat

# garment regions
SKIN, HAIR, TOP, BOTTOM, SHOES, EYES = range(6)
_SKIN_TONES = np.array([[0.96, 0.80, 0.69], [0.92, 0.72, 0.58], [0.80, 0.60, 0.45], [0.63, 0.45, 0.33],
                        [0.45, 0.31, 0.22], [0.30, 0.20, 0.15]])
_HAIR = np.array([[0.08, 0.06, 0.05], [0.25, 0.15, 0.08], [0.55, 0.40, 0.22], [0.80, 0.68, 0.45],
                  [0.45, 0.45, 0.45]])


@dataclass(frozen=True)
class SyntheticPerson:
    """One rendered person with its ground truth (world frame, metres; photo pixels)."""

    rgb: np.ndarray  # [H, W, 3] uint8
    mask: np.ndarray  # [H, W] float32 alpha of the body render
    K: np.ndarray  # [3, 3]
    viewmat: np.ndarray  # [4, 4] world-to-camera (CAMERA_VIEWMAT)
    shape: np.ndarray  # [S]
    pose: np.ndarray  # [55, 3]
    root: np.ndarray  # [3]
    joints: np.ndarray  # [55, 3] posed vocabulary joints
    vertices: np.ndarray  # [V, 3] posed mesh


def random_shape(rng: np.random.Generator, body: BodyModel) -> np.ndarray:
    """Shape parameters [S] drawn uniformly from the middle 70 % of each slider's range."""
    lo = np.array([p.minimum for p in body.shape_parameters])
    hi = np.array([p.maximum for p in body.shape_parameters])
    return (lo + (hi - lo) * rng.uniform(0.15, 0.85, len(lo))).astype(np.float32)


def random_pose(rng: np.random.Generator, max_yaw_deg: float = 35.0) -> np.ndarray:
    """A pose [55, 3]: a random frame of a built-in clip, every body joint perturbed (σ 0.12 rad on
    limbs, 0.05 on the spine), clamped to the joint limits, and turned up to ``max_yaw_deg`` about Y."""
    clip = builtin_motion(str(rng.choice(BUILTIN_MOTIONS)), fps=10.0)
    pose = clip.poses[int(rng.integers(len(clip)))].clone()
    noise = torch.tensor(rng.normal(0.0, 0.12, (22, 3)), dtype=torch.float32)
    for name in ("spine1", "spine2", "spine3", "neck"):
        noise[JOINT_INDEX[name]] *= 0.4
    pose[1:22] += noise[1:22]
    pose = clamp_to_limits(pose)
    yaw = math.radians(float(rng.uniform(-max_yaw_deg, max_yaw_deg)))
    pose[0] = torch.tensor([0.0, yaw, 0.0])
    return pose.numpy()


def _regions(body: BodyModel, rest: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
    """Garment region [V] of each vertex (SKIN, HAIR, TOP, BOTTOM, SHOES, EYES)."""
    names = body.bone_names
    dominant = body.skin_indices.gather(1, body.skin_weights.argmax(1, keepdim=True))[:, 0].numpy()
    bone = np.array([names[i] for i in dominant])
    y, z = rest[:, 1].numpy(), rest[:, 2].numpy()
    region = np.full(len(bone), TOP)

    def starts(names: np.ndarray, prefixes: str | tuple[str, ...]) -> np.ndarray:
        prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
        return np.logical_or.reduce([np.char.startswith(names, p) for p in prefixes])

    region[starts(bone, ("root", "pelvis", "upperleg"))] = BOTTOM
    long_trousers, long_sleeves = rng.random() < 0.6, rng.random() < 0.5
    region[starts(bone, "lowerleg")] = BOTTOM if long_trousers else SKIN
    region[starts(bone, "lowerarm")] = TOP if long_sleeves else SKIN
    region[starts(bone, ("foot", "toe"))] = SHOES
    region[starts(bone, ("wrist", "finger", "metacarpal", "neck", "head"))] = SKIN
    region[starts(bone, "eye")] = EYES
    head = starts(bone, ("head", "eye"))
    eye_y = float(rest[starts(bone, "eye"), 1].mean()) if starts(bone, "eye").any() else float(y[head].max()) - 0.1
    centre_z = float(z[head].mean())
    hair = head & ((y > eye_y + 0.035) | ((z < centre_z - 0.02) & (y > eye_y - 0.06 - 0.1 * rng.random())))
    region[hair] = HAIR
    return region


def _palette(rng: np.random.Generator) -> np.ndarray:
    """Colours [6, 3] of the regions: skin, hair, top, bottom, shoes, eyes."""
    top, bottom, shoes = rng.uniform(0.05, 0.95, (3, 3))
    return np.stack([_SKIN_TONES[rng.integers(len(_SKIN_TONES))], _HAIR[rng.integers(len(_HAIR))],
                     top, bottom * 0.8, shoes * 0.5, np.array([0.05, 0.04, 0.04])]).astype(np.float32)


def render_person(body: BodyModel, rng: np.random.Generator, size: int = 512, splats: int = 60000,
                  shape: np.ndarray | None = None, pose: np.ndarray | None = None) -> SyntheticPerson:
    """A random person (or the given ``shape``/``pose``) rendered into a ``size``² photo."""
    from core.render.rasterize import rasterize

    shape = random_shape(rng, body) if shape is None else shape
    pose = random_pose(rng) if pose is None else pose
    fov = float(rng.uniform(40.0, 60.0))
    shape_t = torch.tensor(shape)[None]
    with torch.no_grad():
        rest = body.rest(shape_t).vertices[0]
        posed = body.forward(shape_t, torch.tensor(pose)[None])
    vertices, joints = posed.vertices[0], posed.joints[0]
    # place the body so it fills 65–85 % of the image height, off-centre by up to 8 %
    lo, hi = vertices.min(0).values, vertices.max(0).values
    K = intrinsics_from_fov(fov, size, size)
    fill = float(rng.uniform(0.65, 0.85))
    distance = float(K[1, 1]) * float(hi[1] - lo[1]) / (fill * size)
    centre = (lo + hi) / 2
    shift = torch.tensor([rng.uniform(-0.08, 0.08), rng.uniform(-0.05, 0.05)], dtype=torch.float32)
    offset = torch.tensor([float(shift[0]) * distance - float(centre[0]), float(shift[1]) * distance - float(centre[1]),
                           -distance - float(centre[2])])
    vertices, joints = vertices + offset, joints + offset
    root = offset.numpy()  # the pelvis moves with the whole body

    region = _regions(body, rest, rng)
    colours = _palette(rng)
    _, triangles, barycentric = sample_surface(rest, body.faces, splats, seed=int(rng.integers(2**31)))
    corners = vertices[body.faces[triangles]]
    means = (barycentric[..., None] * corners).sum(1)
    frame = triangle_frames(corners)
    normal = frame[..., 2]
    nearest_corner = body.faces[triangles, barycentric.argmax(1)].numpy()
    albedo = torch.tensor(colours[region[nearest_corner]])
    albedo = (albedo * torch.tensor(rng.uniform(0.92, 1.08, (splats, 1)), dtype=torch.float32)).clamp(0, 1)
    light = torch.tensor([rng.uniform(-0.6, 0.6), rng.uniform(0.2, 0.9), 1.0], dtype=torch.float32)
    light = light / light.norm()
    shading = 0.45 + 0.6 * (normal @ light).abs()  # two-sided: mesh winding is not trusted here
    spacing = math.sqrt(float(mesh_area(rest, body.faces)) / splats)
    # in-plane σ of half the spacing: dense enough to close the surface, small enough that the
    # rendered outline lies within about a millimetre of the mesh's
    scales = torch.tensor([0.5 * spacing, 0.5 * spacing, 0.1 * spacing]).expand(splats, 3)
    background = rng.uniform(0.3, 0.9, 3)
    viewmat = torch.tensor(CAMERA_VIEWMAT, dtype=torch.float32)
    with torch.no_grad():
        image, alpha, _ = rasterize(
            means, rotmat_to_quat(frame), scales.contiguous(), torch.full((splats,), 0.95),
            (albedo * shading[:, None]).clamp(0, 1), viewmat[None], torch.tensor(K, dtype=torch.float32)[None],
            size, size, near_plane=0.05, backgrounds=torch.zeros(1, 3))
    gradient = np.linspace(0.85, 1.1, size, dtype=np.float32)[:, None, None] * background.astype(np.float32)
    rgb = image[0].numpy() + (1 - alpha[0].numpy()) * gradient
    rgb = rgb + rng.normal(0.0, 0.012, rgb.shape).astype(np.float32)
    return SyntheticPerson(
        rgb=(np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8), mask=alpha[0, ..., 0].numpy(), K=K,
        viewmat=CAMERA_VIEWMAT.copy(), shape=np.asarray(shape, np.float32), pose=np.asarray(pose, np.float32),
        root=root.astype(np.float32), joints=joints.numpy(), vertices=vertices.numpy())

