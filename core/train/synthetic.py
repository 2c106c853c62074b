"""Synthetic people: random anny bodies in random poses and procedural outfits, rendered as photos.

Used by the fitting benchmark and the network's training data. Everything is deterministic given
the seed. Outfits come from :mod:`core.train.garments` (colour and outward offset per canonical
surface point); the posed surface is splatted with flat Gaussians, lit by a random directional
light with ambient light, over a random gradient background with noise.

Camera: the fitting convention (:data:`core.fit.result.CAMERA_VIEWMAT`), at the origin looking down
world −Z; the person stands about ``distance`` metres away, ``K`` from a random field of view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.avatar.binding import mesh_area, sample_surface, surface_points
from core.body.joints import JOINT_INDEX, clamp_to_limits
from core.body.model import BodyModel, canonical_body
from core.body.motions import BUILTIN_MOTIONS, builtin_motion
from core.body.parts import vertex_parts
from core.camera import intrinsics_from_fov
from core.fit.result import CAMERA_VIEWMAT
from core.rotations import rotmat_to_quat
from core.train.garments import Outfit, dress, random_outfit


@dataclass(frozen=True, eq=False)  # identity semantics: tensors do not compare to one bool
class LitSplats:
    """A synthetic person's splats as photographed: posed, world frame (metres), lighting baked in,
    so any camera sees what the input camera would from there (novel-view ground truth)."""

    means: torch.Tensor  # [N, 3]
    quats: torch.Tensor  # [N, 4] wxyz
    scales: torch.Tensor  # [N, 3] metres
    colours: torch.Tensor  # [N, 3] lit colours in [0, 1]

    def render(self, viewmats: torch.Tensor, K: torch.Tensor, width: int, height: int,
               backgrounds: torch.Tensor, render_mode: str = "RGB") -> tuple[torch.Tensor, torch.Tensor]:
        """Images [C, H, W, 3 or 4] (``"RGB+ED"``: expected depth last) and alphas [C, H, W, 1] from
        ``viewmats`` [C, 4, 4] (OpenCV world-to-camera) with intrinsics ``K`` [3, 3] over ``backgrounds`` [C, 3]."""
        from core.render.rasterize import rasterize

        with torch.no_grad():
            image, alpha, _ = rasterize(
                self.means, self.quats, self.scales, torch.full((len(self.means),), 0.99), self.colours,
                viewmats.float(), K.float().expand(len(viewmats), 3, 3).contiguous(), width, height,
                near_plane=0.05, backgrounds=backgrounds, render_mode=render_mode)
        return image, alpha


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
    outfit: Outfit
    depth: np.ndarray  # [H, W] expected depth of the render (metres along the view axis; 0 = background)
    splats: LitSplats  # what was rendered, for other views


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


def render_person(body: BodyModel, rng: np.random.Generator, size: int = 512, splats: int = 60000,
                  shape: np.ndarray | None = None, pose: np.ndarray | None = None, outfit: Outfit | None = None,
                  geometry: bool = True) -> SyntheticPerson:
    """A random person (or the given ``shape``/``pose``/``outfit``) rendered into a ``size``² photo.
    ``geometry=False`` keeps every garment on the skin (colours only)."""
    shape = random_shape(rng, body) if shape is None else shape
    pose = random_pose(rng) if pose is None else pose
    outfit = random_outfit(rng) if outfit is None else outfit
    fov = float(rng.uniform(40.0, 60.0))
    canonical, canonical_joints = canonical_body(body, shape)
    with torch.no_grad():
        posed = body.forward(torch.tensor(shape)[None], torch.tensor(pose)[None])
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

    _, triangles, barycentric = sample_surface(canonical, body.faces, splats, seed=int(rng.integers(2**31)),
                                               stratified=True)
    rest_points, rest_frames = surface_points(body, canonical, triangles, barycentric)
    parts = vertex_parts(body)[body.faces[triangles, barycentric.argmax(1)]]
    albedo, lift = dress(outfit, rest_points.numpy(), rest_frames[..., 2].numpy(), parts.numpy(),
                         canonical_joints.numpy())
    means, frame = surface_points(body, vertices, triangles, barycentric)
    normal = frame[..., 2]
    if geometry:
        means = means + torch.tensor(lift)[:, None] * normal
    albedo = torch.tensor(albedo) * torch.tensor(rng.uniform(0.95, 1.05, (splats, 1)), dtype=torch.float32)
    light = torch.tensor([rng.uniform(-0.6, 0.6), rng.uniform(0.2, 0.9), 1.0], dtype=torch.float32)
    light = light / light.norm()
    # two-sided: where random sampling leaves a gap in the front layer, the back layer shows through
    # lit alike instead of as a dark speck
    shading = 0.45 + 0.6 * (normal @ light).abs()
    spacing = math.sqrt(float(mesh_area(canonical, body.faces)) / splats)
    # in-plane σ of 0.6 spacings: dense enough to close the surface, small enough that the
    # rendered outline lies within about a millimetre of the mesh's
    scales = torch.tensor([0.6 * spacing, 0.6 * spacing, 0.1 * spacing]).expand(splats, 3)
    background = rng.uniform(0.3, 0.9, 3)
    lit = LitSplats(means, rotmat_to_quat(frame), scales.contiguous(), (albedo * shading[:, None]).clamp(0, 1))
    image, alpha = lit.render(torch.tensor(CAMERA_VIEWMAT)[None], torch.tensor(K), size, size, torch.zeros(1, 3),
                              "RGB+ED")
    depth = image[0, ..., 3].numpy()
    gradient = np.linspace(0.85, 1.1, size, dtype=np.float32)[:, None, None] * background.astype(np.float32)
    rgb = image[0, ..., :3].numpy() + (1 - alpha[0].numpy()) * gradient
    rgb = rgb + rng.normal(0.0, 0.012, rgb.shape).astype(np.float32)
    return SyntheticPerson(
        rgb=(np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8), mask=alpha[0, ..., 0].numpy(), K=K,
        viewmat=CAMERA_VIEWMAT.copy(), shape=np.asarray(shape, np.float32), pose=np.asarray(pose, np.float32),
        root=root.astype(np.float32), joints=joints.numpy(), vertices=vertices.numpy(), outfit=outfit,
        depth=depth, splats=lit)
