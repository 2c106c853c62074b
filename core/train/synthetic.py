"""Synthetic people: random anny bodies in random poses and procedural outfits, rendered as photos.

Used by the fitting benchmark and the network's training data. Everything is deterministic given
the seed. Outfits come from :mod:`core.train.garments` (colour and outward offset per canonical
surface point); the posed surface is splatted with flat Gaussians and lit as photos are
(:mod:`core.train.photo_look`): a key light that casts shadows (a shadow map rendered from the
light), ambient light darkened where the body encloses itself (ambient occlusion), a tinted light
colour; then composited over a procedural background (studio, room, street clutter) and degraded
like a photo (blur, sensor noise, JPEG).

Camera: the fitting convention (:data:`core.fit.result.CAMERA_VIEWMAT`), at the origin looking down
world −Z, ``K`` from a random field of view (20–60°). The person is framed as the pipeline frames a
detected person (:func:`core.camera.frame_person`: the box's centre, a margin of 5–20 % of its
longer side), so training photos look like the network's inputs at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.body.joints import JOINT_INDEX, clamp_to_limits
from core.body.model import BodyModel, canonical_body
from core.body.motions import BUILTIN_MOTIONS, builtin_motion
from core.body.surface import lift_spread, mesh_area, sample_surface, surface_parts, surface_points
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


@dataclass(frozen=True, eq=False)
class DressedSurface:
    """A dressed person's splats, fixed on the body's surface and posable with it."""

    triangles: torch.Tensor  # [N] int64 mesh triangle of each splat
    barycentric: torch.Tensor  # [N, 3] its place in the triangle
    albedo: torch.Tensor  # [N, 3] garment and skin colours in [0, 1], unlit
    lift: torch.Tensor  # [N] metres the garment stands off the skin along the normal (0: on the skin)
    scales: torch.Tensor  # [N, 3] metres: in-plane σ, σ, thickness

    def posed(self, body: BodyModel, vertices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Means [N, 3], quaternions [N, 4] (wxyz) and normals [N, 3] on the mesh ``vertices`` [V, 3]."""
        means, frame = surface_points(body, vertices, self.triangles, self.barycentric)
        normal = frame[..., 2]
        return means + self.lift[:, None] * normal, rotmat_to_quat(frame), normal


def dressed_surface(body: BodyModel, canonical: torch.Tensor, canonical_joints: torch.Tensor, outfit: Outfit,
                    splats: int, seed: int, geometry: bool = True) -> DressedSurface:
    """``splats`` splats sampled (stratified, ``seed``) on the body whose T-pose mesh is ``canonical``
    [V, 3] (joints ``canonical_joints`` [55, 3]), coloured by ``outfit``; ``geometry=False`` keeps every
    garment on the skin (colours only)."""
    _, triangles, barycentric = sample_surface(canonical, body.faces, splats, seed=seed, stratified=True)
    rest_points, rest_frames = surface_points(body, canonical, triangles, barycentric)
    parts = surface_parts(body, triangles, barycentric)
    albedo, lift = dress(outfit, rest_points.numpy(), rest_frames[..., 2].numpy(), parts.numpy(),
                         canonical_joints.numpy())
    lift = torch.tensor(lift) if geometry else torch.zeros(splats)
    spacing = math.sqrt(float(mesh_area(canonical, body.faces)) / splats)
    # in-plane σ of 0.6 spacings: dense enough to close the surface, small enough that the
    # rendered outline lies within about a millimetre of the mesh's; garments standing off the body
    # spread their splats apart, and they widen by as much (no background through a coat or a skirt)
    spread = lift_spread(rest_points, rest_points + lift[:, None] * rest_frames[..., 2]) if geometry \
        else torch.ones(splats)
    scales = torch.stack([0.6 * spacing * spread, 0.6 * spacing * spread, torch.full((splats,), 0.1 * spacing)], 1)
    return DressedSurface(triangles, barycentric, torch.tensor(albedo), lift, scales)


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


#: The kinds of :func:`hard_pose`, in the order ``bench fit`` cycles through them.
HARD_POSES: tuple[str, ...] = ("crouch", "jump", "crossed_legs", "arms_up")


def hard_pose(rng: np.random.Generator, kind: str, max_yaw_deg: float = 35.0) -> np.ndarray:
    """A pose [55, 3] of one of the :data:`HARD_POSES` a single photo shows ambiguously: a deep
    ``crouch`` (hips and knees bent far, arms reaching forward), a tuck ``jump`` (knees drawn up, arms
    thrown up and out), standing with ``crossed_legs`` (one leg crossed in front of the other at the
    knees, arms folded forward), ``arms_up`` (both arms over the head, elbows bent, a step forward).
    Each drawn around its template (σ 0.08 rad on every limb joint, larger on the defining ones),
    clamped to the joint limits, turned up to ``max_yaw_deg`` about Y. Signs: hip x < 0 swings the
    leg forward, knee x > 0 bends it; left shoulder z > 0 raises the left arm (T-pose 0); spine x > 0
    bends forward."""
    if kind not in HARD_POSES:
        raise KeyError(f"unknown hard pose '{kind}'; choose from {', '.join(HARD_POSES)}")
    pose = torch.zeros(55, 3)
    u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    j = JOINT_INDEX
    if kind == "crouch":
        for side in ("left", "right"):
            pose[j[f"{side}_hip"]] = torch.tensor([-u(1.5, 2.0), 0.0, 0.0])
            pose[j[f"{side}_knee"], 0] = u(1.9, 2.4)
            pose[j[f"{side}_ankle"], 0] = -u(0.3, 0.6)
        pose[j["left_hip"], 2], pose[j["right_hip"], 2] = u(0.1, 0.4), -u(0.1, 0.4)  # knees apart
        pose[j["spine1"], 0] = u(0.3, 0.8)
        pose[j["left_shoulder"]] = torch.tensor([-u(0.6, 1.2), 0.0, -u(0.3, 0.9)])
        pose[j["right_shoulder"]] = torch.tensor([-u(0.6, 1.2), 0.0, u(0.3, 0.9)])
        pose[j["left_elbow"], 1], pose[j["right_elbow"], 1] = -u(0.2, 1.2), u(0.2, 1.2)
    elif kind == "jump":
        for side, sign in (("left", 1.0), ("right", -1.0)):
            pose[j[f"{side}_hip"]] = torch.tensor([-u(0.6, 1.4), 0.0, sign * u(0.0, 0.4)])
            pose[j[f"{side}_knee"], 0] = u(1.0, 2.0)
            pose[j[f"{side}_ankle"], 0] = u(0.1, 0.5)  # toes pointed
            pose[j[f"{side}_shoulder"]] = torch.tensor([-u(0.0, 0.8), 0.0, sign * u(0.3, 1.4)])
            pose[j[f"{side}_elbow"], 1] = -sign * u(0.0, 0.8)
        pose[j["spine1"], 0] = u(-0.2, 0.4)
    elif kind == "crossed_legs":
        front, back = ("left", "right") if rng.uniform() < 0.5 else ("right", "left")
        across = 1.0 if front == "left" else -1.0  # the front leg swings towards the other side
        pose[j[f"{front}_hip"]] = torch.tensor([-u(0.1, 0.4), 0.0, -across * u(0.4, 0.52)])
        pose[j[f"{back}_hip"]] = torch.tensor([u(0.0, 0.2), 0.0, across * u(0.0, 0.15)])  # towards it too
        pose[j[f"{front}_knee"], 0] = u(0.0, 0.4)
        for side, sign in (("left", 1.0), ("right", -1.0)):  # arms folded in front or hands on the hips
            pose[j[f"{side}_shoulder"]] = torch.tensor([-u(0.2, 0.9), 0.0, -sign * u(0.8, 1.3)])
            pose[j[f"{side}_elbow"], 1] = -sign * u(1.2, 2.3)
    else:  # arms_up
        for side, sign in (("left", 1.0), ("right", -1.0)):
            pose[j[f"{side}_shoulder"]] = torch.tensor([-u(0.0, 0.5), 0.0, sign * u(1.1, 1.6)])
            pose[j[f"{side}_elbow"], 1] = -sign * u(0.0, 1.8)
        step = "left" if rng.uniform() < 0.5 else "right"
        pose[j[f"{step}_hip"], 0] = -u(0.2, 0.7)
        pose[j[f"{step}_knee"], 0] = u(0.1, 0.8)
        pose[j["spine1"], 0] = -u(0.0, 0.25)  # leaning back a little
    noise = torch.tensor(rng.normal(0.0, 0.08, (22, 3)), dtype=torch.float32)
    for name in ("spine1", "spine2", "spine3", "neck"):
        noise[j[name]] *= 0.5
    pose[1:22] += noise[1:22]
    pose = clamp_to_limits(pose)
    pose[0] = torch.tensor([0.0, math.radians(float(rng.uniform(-max_yaw_deg, max_yaw_deg))), 0.0])
    return pose.numpy()


def render_person(body: BodyModel, rng: np.random.Generator, size: int = 512, splats: int = 60000,
                  shape: np.ndarray | None = None, pose: np.ndarray | None = None, outfit: Outfit | None = None,
                  geometry: bool = True) -> SyntheticPerson:
    """A random person (or the given ``shape``/``pose``/``outfit``) rendered into a ``size``² photo.
    ``geometry=False`` keeps every garment on the skin (colours only)."""
    from core.train.photo_look import ambient_occlusion, background, degrade, random_lighting, shadowed

    shape = random_shape(rng, body) if shape is None else shape
    pose = random_pose(rng) if pose is None else pose
    outfit = random_outfit(rng) if outfit is None else outfit
    fov = math.radians(float(rng.uniform(20.0, 60.0)))  # the photo's, before the crop: sets the perspective
    canonical, canonical_joints = canonical_body(body, shape)
    with torch.no_grad():
        posed = body.forward(torch.tensor(shape)[None], torch.tensor(pose)[None])
    vertices, joints = posed.vertices[0], posed.joints[0]
    # stand the body where it fills 40–60 % of such a photo's height, then crop the photo to its box
    lo, hi = vertices.min(0).values, vertices.max(0).values
    height = float(hi[1] - lo[1])
    centre = (lo + hi) / 2
    offset = torch.tensor([-float(centre[0]), -float(centre[1]) + float(rng.uniform(-0.1, 0.1)) * height,
                           -float(centre[2]) - height * float(rng.uniform(1.6, 2.6)) / (2 * math.tan(fov / 2))])
    vertices, joints = vertices + offset, joints + offset
    root = offset.numpy()  # the pelvis moves with the whole body
    K = framing_intrinsics(vertices.numpy(), size, margin=float(rng.uniform(0.05, 0.2)),
                           jitter=rng.uniform(-0.04, 0.04, 2))

    surface = dressed_surface(body, canonical, canonical_joints, outfit, splats, int(rng.integers(2**31)), geometry)
    means, quats, normal = surface.posed(body, vertices)
    albedo = surface.albedo * torch.tensor(rng.uniform(0.96, 1.04, (splats, 1)), dtype=torch.float32)
    scales = surface.scales
    light = random_lighting(rng)
    occlusion = ambient_occlusion(vertices.numpy(), body.faces.numpy())
    ao = torch.tensor((occlusion[body.faces[surface.triangles].numpy()] * surface.barycentric.numpy()).sum(1),
                      dtype=torch.float32)
    sun = shadowed(means, quats, scales, torch.tensor(light.direction, dtype=torch.float32)) if light.shadows \
        else torch.ones(splats)
    direct = (normal @ torch.tensor(light.direction, dtype=torch.float32)).clamp_min(0) * sun
    shading = light.ambient * ao[:, None] * torch.tensor(light.ambient_colour) \
        + light.key * direct[:, None] * torch.tensor(light.key_colour)
    lit = LitSplats(means, quats, scales, (albedo * shading).clamp(0, 1))
    image, alpha = lit.render(torch.tensor(CAMERA_VIEWMAT)[None], torch.tensor(K), size, size, torch.zeros(1, 3),
                              "RGB+ED")
    depth = image[0, ..., 3].numpy()
    rgb = image[0, ..., :3].numpy() + (1 - alpha[0].numpy()) * background(rng, size)
    return SyntheticPerson(
        rgb=degrade(rng, rgb), mask=alpha[0, ..., 0].numpy(), K=K, viewmat=CAMERA_VIEWMAT.copy(),
        shape=np.asarray(shape, np.float32), pose=np.asarray(pose, np.float32), root=root.astype(np.float32),
        joints=joints.numpy(), vertices=vertices.numpy(), outfit=outfit, depth=depth, splats=lit)


def framing_intrinsics(vertices: np.ndarray, size: int, margin: float, jitter: np.ndarray) -> np.ndarray:
    """K [3, 3] of a ``size``² crop of a camera at the origin looking down −Z that shows the box of
    ``vertices`` [V, 3] (world) as
    :func:`core.camera.frame_person` frames a person: centred, ``margin`` of the box's longer side
    on every edge, moved by ``jitter`` [2] (fractions of the image) as a detector's box would be."""
    camera = vertices * np.array([1.0, -1.0, -1.0])  # CAMERA_VIEWMAT
    xy = camera[:, :2] / np.maximum(camera[:, 2:], 1e-6)
    lo, hi = xy.min(0), xy.max(0)
    side = float(max(hi - lo)) * (1 + 2 * margin)
    focal = size / side
    centre = (lo + hi) / 2 + jitter * side
    return np.array([[focal, 0.0, size / 2 - focal * centre[0]], [0.0, focal, size / 2 - focal * centre[1]],
                     [0.0, 0.0, 1.0]])
