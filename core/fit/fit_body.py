"""``fit_body``: a body model fitted to one photo's keypoints and silhouette, in stages.

The fit works in the pixels of the person crop (:class:`core.camera.PersonFrame`) with the crop's
pinhole camera at the world origin looking down −Z (:data:`core.fit.result.CAMERA_VIEWMAT`), and
optimises with Adam, stage by stage, each with a fresh optimiser:

1. *torso*: pelvis rotation and translation against the shoulders and hips (nose and eyes when the
   hips are not seen), from a translation guessed from the torso's pixel length and the focal length;
2. *limbs*: adds every body joint's rotation and the shape, against all seen keypoints; optionally
   followed by a search of the limbs' depth flips (``FitOptions.depth_flips``, :mod:`core.fit.depth_flips`);
3. *silhouette*: adds the two-way silhouette distance to the person mask (:mod:`core.fit.silhouette`);
4. *hands*: finger rotations against the Holistic hand landmarks, when there are any;
5. *clothing*: with the body fixed, the clothing layer (offsets along the body's normals, see
   :mod:`core.fit.clothing`) against the same silhouette distance. A refit keeps its start's layer.

Keypoint residuals (crop pixels / crop size) go through a Geman–McClure penalty
``ρ(r) = r² / (r² + σ²)``, weighted by detection confidence. Priors: a weighted L2 pull towards a
relaxed standing pose, a penalty outside the joint limits (:data:`core.body.joints.JOINT_LIMITS`)
and an L2 pull of the shape towards its default (through a sigmoid onto the slider range). User
constraints add pinned 2D points (large weight) and locked joints (never optimised). The fit is
deterministic: fixed initialisation, fixed iteration counts, no randomness.

Depth is what one photo does not show, and a body that explains the keypoints by leaning towards
the camera looks wrong from every other side. So gravity is a prior: the torso (pelvis → neck)
and, for a person whose 2D legs stand under the hips, each leg (hip → ankle; without it a standing
person's legs come out mid-stride from the side) are pulled upright in the world (their direction's
forward share squared; a standing torso's sideways share too: hips hidden under a coat tilt it),
and the camera may pitch (a rotation about its x axis, ``pitch`` > 0
looking down, with a pull towards level). (Pulling the arms into the image plane as well made
scanned people in A-pose match from behind slightly better and real photos of raised, bent arms
much worse: clothed IoU 0.89 → 0.82 on one; it is not done.)
One photo barely shows a camera's pitch (a 15° tilt changes the image by a keystone of a few
per cent), so the person stays upright in the world and the pitch moves only when the keypoints
ask for it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from core.body.joints import JOINT_INDEX, JOINT_NAMES, KEYPOINT_NAMES, NUM_JOINTS, limit_violation
from core.body.model import BodyModel, BodyOutput
from core.body.motions import relaxed_pose
from core.camera import PersonFrame, project
from core.detect.person import PersonObservation
from core.fit.adam import AdamMoments, adam_step
from core.fit.clothing import ClothingOptions, clothed_vertices, fit_clothing, offset_directions
from core.fit.linear_shape import LinearShape
from core.fit.result import CAMERA_VIEWMAT, BodyFit
from core.fit.robust import geman_mcclure
from core.fit.silhouette import SilhouetteTarget
from core.fit.targets import FitTargets, make_targets
from core.metrics import mask_iou
from core.progress import CancelToken, Progress, report, within
from core.rotations import axis_angle_to_rotmat

_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
_TORSO = [_K[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
_HEAD = [_K[n] for n in ("nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder")]
BODY_JOINTS = [JOINT_INDEX[n] for n in JOINT_NAMES[1:22] if n != "jaw"]
FINGERS = list(range(25, NUM_JOINTS))
#: Per-keypoint weights: mediapipe's hips sit higher and wider than anatomical hip keypoints, and
#: face points are many for one rigid head.
KEYPOINT_WEIGHT = torch.tensor([0.5 if n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
                                 else 0.7 if n.endswith("_hip") else 1.0 for n in KEYPOINT_NAMES])
#: Pose-prior weight per joint: the spine and neck stay near upright, limbs move freely.
PRIOR_WEIGHT = torch.tensor([1.0 if n.startswith(("spine", "neck", "head")) else 0.5 if "collar" in n
                              else 0.1 for n in JOINT_NAMES])


def relaxed_prior(poses: torch.Tensor, mean: torch.Tensor, joints: list[int] | None = None) -> torch.Tensor:
    """The relaxed-pose prior [...]: Σ :data:`PRIOR_WEIGHT` · (pose − ``mean``)² over the joints of axis-angle
    ``poses`` [..., J, 3] (radians) and the relaxed standing ``mean`` [J, 3]; only over ``joints`` (indices)
    when given."""
    weight = PRIOR_WEIGHT[:, None]
    if joints is not None:
        poses, mean, weight = poses[..., joints, :], mean[joints], weight[joints]
    return (weight * (poses - mean).square()).sum((-1, -2))


_RELINEARISE = 15  # iterations between re-linearisations of the shape state


class FitError(ValueError):
    """The photo cannot be fitted (e.g. too few keypoints); the message says why."""


@dataclass(frozen=True)
class FitOptions:
    """Fitting settings; the defaults fit a 512² crop in about two seconds on two cores."""

    iterations: tuple[int, int, int, int] = (25, 45, 55, 20)  # torso, limbs, silhouette, hands
    refit_iterations: int = 30  # iterations of a refit from a previous fit
    silhouette: bool = True
    optimise_focal: bool = False  # also fit the focal length (log-scale factor on the assumed one)
    silhouette_points: int = 1500  # body surface points compared with the mask
    mask_size: int = 256  # silhouette resolution (pixels per side)
    sigma: float = 0.1  # Geman–McClure scale, fraction of the crop size
    learning_rate: float = 0.03
    pose_prior: float = 2e-3
    # weight of the learned pose prior's negative log-likelihood (core.fit.pose_prior); off by default: at 1e-3
    # it lowers the synthetic PA-MPJPE (45.3 → 41.1 mm) but fits real photos' keypoints a little worse
    learned_prior: float = 0.0
    # after the limbs stage (not in refits), search the limbs' depth flips (core.fit.depth_flips): an arm
    # the photo shows alike in front of or behind the body is put where the learned prior finds it likelier
    depth_flips: bool = True
    flip_prior: float = 1e-3  # weight of the learned prior's NLL in the depth-flip search (not in the stages)
    flip_iterations: int = 15  # Adam steps of the batched depth-flip candidates
    flip_margin: float = 0.0  # a flip is kept when it lowers the search's objective by this much
    flip_keep: int = 3  # flips still optimised after the first third of the steps: the likeliest so far
    shape_prior: float = 1e-3
    limit_weight: float = 1.0
    silhouette_weight: float = 1.0
    cover_sigma: float = 0.05  # Geman–McClure scale of the silhouette's cover term (fraction of the mask side)
    side_weight: float = 1.0  # weight of the side views' silhouettes in a refit (per view, averaged)
    hand_weight: float = 0.5
    pin_weight: float = 20.0
    upright_weight: float = 2.0  # standing: torso and legs upright, per squared forward share of their direction
    leaning_weight: float = 0.3  # the same for the torso of a person not standing (sitting, bending, half body)
    sideways_weight: float = 1.0  # a standing person's torso upright seen from the front: per squared sideways share
    pitch_prior: float = 0.2  # per radian² of camera pitch
    # the detector's 3D landmarks (core.fit.landmarks3d), where it gave them: the limbs' directions (per segment, times
    # the squared difference of unit directions, across the picture times limb_plane_weight; not in the torso stage,
    # nor with the user's pins) and the body's facing (1 − cos). Measured: hard synthetic poses 95 → 57 mm PA-MPJPE,
    # random ones 43.8 → 41.3
    limb_weight: float = 0.3
    limb_plane_weight: float = 0.25
    facing_weight: float = 0.3
    # how far (0–1) the landmarks' limb depths move towards the learned lifter's (core.fit.lifter), where its 12
    # body keypoints are seen; off by default: at 0.5 the synthetic PA-MPJPE (random / hard poses) falls from 41.3 /
    # 57.3 to 38.7 / 53.4 mm, but the one real person measured from the sides (hands in his pockets) gets his
    # forearms put in front of him (side IoU 0.78 → 0.68)
    lifted_depth: float = 0.0
    optimise_pitch: bool = True  # the camera may look up or down
    clothing: ClothingOptions | None = ClothingOptions()  # the clothing layer (None: none; needs the silhouette)


@dataclass(frozen=True)
class Constraints:
    """The user's corrections: points pinned in photo pixels (keypoint names of
    :data:`core.body.joints.KEYPOINT_NAMES`, or vocabulary joint names) and joints whose rotation stays."""

    pins: dict[str, tuple[float, float]] = field(default_factory=dict)
    locked: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in self.pins:
            if name not in _K and name not in JOINT_INDEX:
                raise ValueError(f"cannot pin '{name}': use a keypoint ({', '.join(KEYPOINT_NAMES[:6])}, …) "
                                 "or a joint name")
        for name in self.locked:
            if name not in JOINT_INDEX:
                raise ValueError(f"cannot lock '{name}': not a joint name (e.g. 'left_elbow')")


@dataclass(frozen=True, eq=False)
class SideView:
    """A silhouette of the person from another camera (e.g. the avatar's, seen from the side), for a refit.

    ``viewmat`` [4, 4] world-to-camera (OpenCV), ``K`` [3, 3] in the pixels of ``silhouette``'s mask."""

    viewmat: np.ndarray
    K: np.ndarray
    silhouette: SilhouetteTarget


@dataclass(frozen=True)
class _Stage:
    name: str
    iterations: int
    joints: list[int]  # joints whose rotation is optimised
    keypoints: list[int] | None  # keypoints used (None: all)
    shape: bool
    silhouette: bool
    hands: bool


class _Problem:
    """The differentiable objective of one fit: body, targets, camera, constraints."""

    def __init__(self, body: BodyModel, targets: FitTargets, frame: PersonFrame, options: FitOptions,
                 constraints: Constraints, side_views: Sequence[SideView] = ()) -> None:
        self.body, self.targets, self.frame, self.options = body, targets, frame, options
        self.side_views = [(torch.tensor(v.viewmat, dtype=torch.float32), torch.tensor(v.K, dtype=torch.float32),
                            v.silhouette) for v in side_views]
        indices, weights = body.keypoint_regressor()
        rest = body.rest(body.default_shape()).vertices[0]
        corner = _surface_vertices(rest, body.faces, options.silhouette_points)
        self.keypoint_ids = torch.unique(indices)
        self.all_ids = torch.unique(torch.cat([self.keypoint_ids, corner]))
        self.keypoint_rows = torch.searchsorted(self.all_ids, indices), weights
        self.keypoint_rows_small = torch.searchsorted(self.keypoint_ids, indices), weights
        self.silhouette_rows = torch.searchsorted(self.all_ids, torch.unique(corner))
        self.f0 = torch.tensor([targets.K[0, 0], targets.K[1, 1]], dtype=torch.float32)
        self.c = torch.tensor([targets.K[0, 2], targets.K[1, 2]], dtype=torch.float32)
        self.weights = KEYPOINT_WEIGHT * targets.confidence
        def crop(point: tuple[float, float]) -> torch.Tensor:
            return torch.tensor(frame.to_crop(point), dtype=torch.float32)

        self.pin_keypoints = [(_K[n], crop(p)) for n, p in constraints.pins.items() if n in _K]
        if self.pin_keypoints:  # the user's pin replaces the detector's guess for that point
            self.weights = self.weights.clone()
            self.weights[[row for row, _ in self.pin_keypoints]] = 0.0
        self.pin_joints = [(JOINT_INDEX[n], crop(p)) for n, p in constraints.pins.items() if n not in _K]
        self.locked = {JOINT_INDEX[n] for n in constraints.locked}
        self.prior_mean = relaxed_pose()
        self.standing = standing(targets)
        self.landmarks = _lifted(targets, options.lifted_depth)
        lo = torch.tensor([p.minimum for p in body.shape_parameters])
        hi = torch.tensor([p.maximum for p in body.shape_parameters])
        self.shape_range = lo, hi
        self.linear: LinearShape | None = None
        self.rest_joints: torch.Tensor | None = None  # [55, 3] T-pose joints of the fit's shape, for depth flips
        self.unturned: tuple[_Stage, torch.Tensor, torch.Tensor] | None = None  # the torso stage's body (posed)

    def scale_variables(self, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The optimised variables from the fit's values (root in metres, pitch in radians): the root's
        depth in units of its starting depth / 2 m and the pitch in crop pixels, so one Adam step moves
        the image about as much whatever the lens (a long lens puts the body ten times farther away)."""
        self.root_unit = torch.tensor([1.0, 1.0, max(1.0, float(-values["root"][2]) / 2.0)])
        self.pitch_unit = 1.0 / float(self.f0[1])
        return {**values, "root": values["root"] / self.root_unit, "pitch": values["pitch"] / self.pitch_unit}

    def root(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """The pelvis translation [3] (metres) of the optimised variables."""
        return params["root"] * self.root_unit

    def pitch(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """The camera's pitch (radians) of the optimised variables."""
        return params["pitch"] * self.pitch_unit

    def relinearise(self, params: dict[str, torch.Tensor]) -> None:
        """Linearise the body's shape state around the current shape (unless it already is)."""
        shape = self.shape_value(params["shape"].detach())[None]
        if self.linear is None or not torch.equal(self.linear.shape0, shape):
            self.linear = LinearShape(self.body, shape)

    def shape_value(self, logits: torch.Tensor) -> torch.Tensor:
        lo, hi = self.shape_range
        return lo + (hi - lo) * torch.sigmoid(logits)

    def shape_logits(self, shape: torch.Tensor) -> torch.Tensor:
        lo, hi = self.shape_range
        u = ((torch.as_tensor(shape, dtype=torch.float32) - lo) / (hi - lo)).clamp(1e-4, 1 - 1e-4)
        return torch.log(u / (1 - u))

    def project(self, points: torch.Tensor, log_focal: torch.Tensor, pitch: torch.Tensor) -> torch.Tensor:
        """Crop pixels [..., 2] of world points [..., 3] (camera at the origin looking down −Z, tilted
        down by ``pitch`` radians)."""
        cos, sin = torch.cos(pitch), torch.sin(pitch)
        y = cos * points[..., 1] - sin * points[..., 2]
        depth = (-(sin * points[..., 1] + cos * points[..., 2])).clamp_min(1e-3)
        xy = torch.stack([points[..., 0], -y], -1) / depth[..., None]
        return self.f0 * torch.exp(log_focal) * xy + self.c

    def gravity(self, joints: torch.Tensor, pitch: torch.Tensor) -> torch.Tensor:
        """The upright and camera-pitch priors (see the module docstring) of posed ``joints`` [55, 3]."""
        o = self.options

        def forward(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # squared forward (z) share of a → b
            direction = b - a
            return direction[2].square() / direction.square().sum().clamp_min(1e-8)

        def joint(name: str) -> torch.Tensor:
            return joints[JOINT_INDEX[name]]

        torso = joint("neck") - joints[0]
        upright = o.leaning_weight * forward(joints[0], joint("neck"))
        if self.standing:  # the torso (a little sideways too: hips under a coat mislead) and each leg
            upright = o.upright_weight * (forward(joints[0], joint("neck")) + 0.5 * (
                forward(joint("left_hip"), joint("left_ankle")) + forward(joint("right_hip"), joint("right_ankle"))))
            upright = upright + o.sideways_weight * torso[0].square() / torso.square().sum().clamp_min(1e-8)
        return upright + o.pitch_prior * pitch.square()

    def landmark_terms(self, joints: torch.Tensor, keypoints: torch.Tensor, pitch: torch.Tensor, limbs: bool = True
                       ) -> torch.Tensor:
        """The 3D-landmark terms [...] (:mod:`core.fit.landmarks3d`; 0 without landmarks) of posed ``joints``
        [..., 55, 3] and ``keypoints`` [..., 23, 3] (world) seen by the camera tilted down by ``pitch``;
        ``limbs=False``: the facing term alone."""
        from core.fit.landmarks3d import facing_error, in_ray_frame, limb_direction_error

        landmarks = self.landmarks
        if landmarks is None:
            return joints.new_zeros(joints.shape[:-2])
        points = torch.cat([joints[..., :1, :], keypoints], -2)
        cos, sin = torch.cos(pitch), torch.sin(pitch)
        x, y, z = points.unbind(-1)
        camera = torch.stack([x, -(cos * y - sin * z), -(sin * y + cos * z)], -1)  # x right, y down, z away
        seen = in_ray_frame(camera)[..., 1:, :]
        o = self.options
        total = o.facing_weight * facing_error(seen, landmarks)
        if limbs:
            total = total + o.limb_weight * limb_direction_error(seen, landmarks, o.limb_plane_weight)
        return total

    def batch_objective(self, poses: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """The objective [B] of poses [B, 55, 3] with the rest of ``params`` fixed, as the depth-flip
        search sees it: keypoints, joint limits, the relaxed-pose and the learned pose priors, the 3D landmarks."""
        from core.fit.pose_prior import shipped_pose_prior

        o, t = self.options, self.targets
        with torch.no_grad():
            shape = self.shape_value(params["shape"])[None]
            root = self.root(params).expand(len(poses), 3)
            log_focal, pitch = params["log_focal"], self.pitch(params)
        out = self.body.posed(self.linear.state(shape), poses, root, vertex_ids=self.keypoint_ids)
        rows, weights = self.keypoint_rows_small
        keypoints = (out.vertices[:, rows] * weights[..., None]).sum(2)
        uv = self.project(keypoints, log_focal, pitch)
        fit = geman_mcclure(uv, t.keypoints, self.weights, o.sigma, t.size)
        limits = o.limit_weight * limit_violation(poses)[:, 1:].square().sum((-1, -2))
        relaxed = o.pose_prior * relaxed_prior(poses, self.prior_mean)
        seen = self.landmark_terms(out.joints, keypoints, pitch)
        return fit + limits + relaxed + seen + o.flip_prior * shipped_pose_prior().nll(poses)

    def _optimise_flips(self, batch: torch.Tensor, params: dict[str, torch.Tensor], mask: torch.Tensor
                        ) -> torch.Tensor:
        """The pose and its flips [B, 55, 3] (the pose first) after ``flip_iterations`` Adam steps of
        :meth:`batch_objective` on the joints of ``mask`` [55, 1]; after the first third of the steps
        only the pose and the ``flip_keep`` flips of lowest objective go on (a flip far behind by then
        does not catch up, and each one costs a body evaluation per step)."""
        o = self.options
        batch = batch.clone()
        moments = AdamMoments.like(batch)
        for step in range(o.flip_iterations):
            if step == o.flip_iterations // 3 and len(batch) > o.flip_keep + 1:
                with torch.no_grad():
                    order = self.batch_objective(batch, params)[1:].argsort()[:o.flip_keep] + 1
                keep = torch.cat([order.new_zeros(1), order])
                batch, moments = batch[keep], moments.rows(keep)  # each candidate's own Adam moments go on with it
            batch.requires_grad_(True)
            grad, = torch.autograd.grad(self.batch_objective(batch, params).sum(), batch)
            batch = batch.detach()
            adam_step(batch, grad * mask, moments, o.learning_rate)
        return batch

    def choose_depth_flips(self, params: dict[str, torch.Tensor]) -> None:
        """Search the limbs' depth flips (:mod:`core.fit.depth_flips`): the pose and every single-limb flip
        of it optimised together as one batch for a few steps (:meth:`_optimise_flips`); the best is kept
        when it beats the pose by ``flip_margin``; twice, so two limbs can flip. Locked limbs are left alone."""
        from core.fit.depth_flips import LIMBS, limb_alternatives

        limbs = [limb for limb, segments in LIMBS.items()
                 if not any(JOINT_INDEX[j] in self.locked for j, _ in segments)]
        if not limbs:
            return
        if self.rest_joints is None:
            with torch.no_grad():
                self.rest_joints = self.body.forward(self.shape_value(params["shape"].detach())[None],
                                                     torch.zeros(1, NUM_JOINTS, 3)).joints[0]
        mask = torch.zeros(NUM_JOINTS, 1)
        mask[[j for j in BODY_JOINTS if j not in self.locked]] = 1.0
        pose = params["pose"].detach()
        for _ in range(2):
            candidates = [pose] + [p for limb in limbs for p in limb_alternatives(pose, self.rest_joints, limb)]
            batch = self._optimise_flips(torch.stack(candidates), params, mask)
            with torch.no_grad():
                scores = self.batch_objective(batch, params)
            best = int(scores[1:].argmin()) + 1
            if float(scores[best]) > float(scores[0]) - self.options.flip_margin:
                break  # the pose as it was: the search's own steps are not kept
            pose = batch[best].detach()
        with torch.no_grad():
            params["pose"].copy_(pose)

    def posed(self, params: dict[str, torch.Tensor], state: dict[str, torch.Tensor], stage: _Stage,
              ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The vertices ``ids`` [n, 3] and joints [55, 3] (world) of ``params`` posed from the shape ``state``.
        In the torso stage only the pelvis turns (about itself): the body is posed once with the pelvis
        unturned at the origin and then moved rigidly (the same to float rounding, the stage in half the time)."""
        if stage.name != "torso":
            out = self.body.posed(state, params["pose"][None], self.root(params)[None], vertex_ids=ids)
            return out.vertices[0], out.joints[0]
        if self.unturned is None or self.unturned[0] is not stage:
            pose = params["pose"].detach().clone()
            pose[0] = 0.0
            with torch.no_grad():
                out = self.body.posed(state, pose[None], torch.zeros(1, 3), vertex_ids=ids)
            self.unturned = stage, out.vertices[0], out.joints[0]
        _, vertices, joints = self.unturned
        turn, centre = axis_angle_to_rotmat(params["pose"][0]), joints[0]
        shift = centre + self.root(params)
        return (vertices - centre) @ turn.T + shift, (joints - centre) @ turn.T + shift

    def losses(self, params: dict[str, torch.Tensor], stage: _Stage) -> dict[str, torch.Tensor]:
        """Every weighted term of the objective for ``stage``."""
        o, t = self.options, self.targets
        shape = self.shape_value(params["shape"])[None]
        state = self.linear.state(shape) if stage.shape else self.linear.state(shape.detach())
        small = not stage.silhouette
        ids = self.keypoint_ids if small else self.all_ids
        vertices, joints = self.posed(params, state, stage, ids)
        rows, weights = self.keypoint_rows_small if small else self.keypoint_rows
        keypoints = (vertices[rows] * weights[..., None]).sum(1)
        uv = self.project(keypoints, params["log_focal"], self.pitch(params))
        weight = self.weights if stage.keypoints is None else _select(self.weights, stage.keypoints)
        terms = {"keypoints": geman_mcclure(uv, t.keypoints, weight, o.sigma, t.size)}
        pose = params["pose"]
        free = stage.joints
        terms["pose_prior"] = o.pose_prior * relaxed_prior(pose, self.prior_mean, free)
        if o.learned_prior > 0 and len(free) > 1 and not (self.pin_keypoints or self.pin_joints):
            from core.fit.pose_prior import shipped_pose_prior  # the user's pins win over what is likely

            terms["learned_prior"] = o.learned_prior * shipped_pose_prior().nll(pose)
        terms["limits"] = o.limit_weight * limit_violation(pose)[1:].square().sum()  # the pelvis turns freely
        terms["shape_prior"] = o.shape_prior * params["shape"].square().sum()
        terms["gravity"] = self.gravity(joints, self.pitch(params))
        if t.landmarks is not None and not stage.hands:  # the user's pins win over the detector's 3D limbs
            pinned = bool(self.pin_keypoints or self.pin_joints)
            terms["landmarks"] = self.landmark_terms(joints, keypoints, self.pitch(params),
                                                     limbs=stage.name != "torso" and not pinned)
        pins = [uv[row] - target for row, target in self.pin_keypoints]
        pins += [self.project(joints[joint], params["log_focal"], self.pitch(params)) - target
                 for joint, target in self.pin_joints]
        if pins:
            terms["pins"] = o.pin_weight * (torch.stack(pins) / t.size).square().sum(-1).mean()
        if stage.silhouette:
            scale = t.silhouette.width / t.size
            points = self.project(vertices[self.silhouette_rows], params["log_focal"], self.pitch(params)) * scale
            outside, cover = t.silhouette.loss(points, o.cover_sigma)
            terms["silhouette"] = o.silhouette_weight * (outside + cover)
            if self.side_views:
                terms["side_silhouettes"] = o.side_weight * sum(
                    sum(target.loss(project(vertices[self.silhouette_rows], viewmat, K, min_depth=1e-3), o.cover_sigma))
                    for viewmat, K, target in self.side_views) / len(self.side_views)
        if stage.hands and t.has_hands:
            hand_uv = self.project(joints[t.hand_joints], params["log_focal"], self.pitch(params))
            seen = torch.ones(len(hand_uv))  # fingers are small: a tighter robust scale
            terms["hands"] = o.hand_weight * geman_mcclure(hand_uv, t.hand_points, seen, 0.3 * o.sigma, t.size)
        return terms


def standing(targets: FitTargets) -> bool:
    """Whether the keypoints show a person standing: hips and ankles seen, each ankle below its hip
    within 35° of straight down, at least as far from it as the shoulders are from the hips; and, where
    the detector's 3D landmarks are sure of them, each thigh within 45° of straight down in 3D (a
    crouch or a tuck jump seen from the front has thighs reaching towards the camera that the 2D
    keypoints draw as a wide stance)."""
    seen, points = targets.confidence > 0, targets.keypoints
    names = ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_ankle", "right_ankle")
    if not all(bool(seen[_K[n]]) for n in names):
        return False
    torso = float(((points[_K["left_shoulder"]] + points[_K["right_shoulder"]]) / 2
                   - (points[_K["left_hip"]] + points[_K["right_hip"]]) / 2).norm())
    for side in ("left", "right"):
        leg = points[_K[f"{side}_ankle"]] - points[_K[f"{side}_hip"]]
        length = float(leg.norm())
        if length < torso or float(leg[1]) < np.cos(np.radians(35.0)) * length:  # image y points down
            return False
        if targets.landmarks is not None:
            hip, knee = targets.landmarks[_K[f"{side}_hip"]], targets.landmarks[_K[f"{side}_knee"]]
            thigh = knee[:3] - hip[:3]  # y points down
            if min(float(hip[3]), float(knee[3])) > 0 and float(thigh[1]) < np.cos(np.radians(45.0)) * float(
                    thigh.norm()):
                return False
    return True


def _lifted(targets: FitTargets, weight: float) -> torch.Tensor | None:
    """The 3D landmarks the fit aims at: the detector's, their limbs' depths moved ``weight`` of the way to
    the lifter's (:func:`core.fit.lifter.lifted_landmarks`) where the lifter's 12 keypoints are all seen."""
    landmarks = targets.landmarks
    if landmarks is None or weight <= 0:
        return landmarks
    from core.fit.lifter import INPUTS, lifted_landmarks, shipped_lifter

    if not bool((targets.confidence[list(INPUTS)] > 0).all()):
        return landmarks
    with torch.no_grad():
        shares = shipped_lifter().depth_shares(targets.keypoints.float())
    return lifted_landmarks(landmarks, shares, weight)


def torso_lean_deg(body: BodyModel, fit: BodyFit) -> float:
    """Angle (degrees) between the fitted torso (pelvis → neck, posed, world) and the vertical."""
    from core.fit.overlay import posed_body

    joints = posed_body(body, fit).joints[0].numpy()
    axis = joints[JOINT_INDEX["neck"]] - joints[0]
    return float(np.degrees(np.arccos(np.clip(axis[1] / max(np.linalg.norm(axis), 1e-9), -1.0, 1.0))))


def camera_pitch(viewmat: np.ndarray) -> float:
    """The downward pitch (radians) of a fit camera ``viewmat`` (:func:`pitched_viewmat`'s inverse)."""
    rotation = np.diag([1.0, -1.0, -1.0]) @ viewmat[:3, :3]
    return float(np.arctan2(rotation[2, 1], rotation[1, 1]))


def pitched_viewmat(pitch: float) -> np.ndarray:
    """World-to-camera [4, 4] of the fit camera at the origin looking down −Z, tilted down by ``pitch`` radians."""
    cos, sin = np.cos(pitch), np.sin(pitch)
    turn = np.eye(4)
    turn[1:3, 1:3] = [[cos, -sin], [sin, cos]]
    return CAMERA_VIEWMAT @ turn


def _select(weights: torch.Tensor, rows: list[int]) -> torch.Tensor:
    mask = torch.zeros_like(weights)
    mask[rows] = 1.0
    return weights * mask


def _surface_vertices(vertices: torch.Tensor, faces: torch.Tensor, count: int) -> torch.Tensor:
    """About ``count`` vertex indices spread evenly by area (the corner nearest each area-uniform sample)."""
    from core.body.surface import sample_surface

    _, triangles, barycentric = sample_surface(vertices, faces, count, seed=0)
    return faces[triangles, barycentric.argmax(1)]


def _initial_params(problem: _Problem, init: BodyFit | None) -> dict[str, torch.Tensor]:
    """Start values: a previous fit, or a body facing the way the shoulders say at the depth where
    its torso (or shoulders, for half bodies) has the observed pixel length."""
    body, t = problem.body, problem.targets
    if init is not None:
        f_ratio = float(init.K[0, 0] * problem.frame.scale / t.K[0, 0])
        return {"pose": torch.tensor(init.pose), "root": torch.tensor(init.root),
                "shape": problem.shape_logits(torch.tensor(init.shape)),
                "log_focal": torch.tensor(float(np.log(f_ratio))), "pitch": torch.tensor(camera_pitch(init.viewmat))}
    conf, kp = t.confidence, t.keypoints
    seen = lambda *names: all(conf[_K[n]] > 0 for n in names)  # noqa: E731
    if not seen("left_shoulder", "right_shoulder"):
        raise FitError("The shoulders are not visible, so the body cannot be placed. Use a photo that shows "
                       "at least the upper body, facing the camera.")
    pose = problem.prior_mean.clone()
    facing = bool(kp[_K["left_shoulder"], 0] > kp[_K["right_shoulder"], 0])
    pose[0] = torch.tensor([0.0, 0.0 if facing else float(np.pi), 0.0])
    with torch.no_grad():
        rest = body.forward(body.default_shape(), pose[None])
        rest_kp = body.keypoints(rest.vertices)[0]
    mid = lambda points, a, b: (points[_K[a]] + points[_K[b]]) / 2  # noqa: E731
    if seen("left_hip", "right_hip"):
        length_3d = (mid(rest_kp, "left_shoulder", "right_shoulder") - mid(rest_kp, "left_hip", "right_hip")).norm()
        length_2d = (mid(kp, "left_shoulder", "right_shoulder") - mid(kp, "left_hip", "right_hip")).norm()
        anchor_2d, anchor_3d = mid(kp, "left_hip", "right_hip"), mid(rest_kp, "left_hip", "right_hip")
    else:
        length_3d = (rest_kp[_K["left_shoulder"]] - rest_kp[_K["right_shoulder"]]).norm()
        length_2d = (kp[_K["left_shoulder"]] - kp[_K["right_shoulder"]]).norm()
        anchor_2d = mid(kp, "left_shoulder", "right_shoulder")
        anchor_3d = mid(rest_kp, "left_shoulder", "right_shoulder")
    depth = float(problem.f0[0] * length_3d / length_2d.clamp_min(1.0))
    xy = (anchor_2d - problem.c) / problem.f0 * depth
    world = torch.tensor([float(xy[0]), -float(xy[1]), -depth])
    return {"pose": pose, "root": world - anchor_3d, "shape": torch.zeros(len(body.shape_parameters)),
            "log_focal": torch.tensor(0.0), "pitch": torch.tensor(0.0)}


def _stages(options: FitOptions, targets: FitTargets, refit: bool, locked: set[int], side_views: bool
            ) -> list[_Stage]:
    def free(joints: list[int]) -> list[int]:
        return [j for j in joints if j not in locked]

    hips_seen = bool((targets.confidence[[_K["left_hip"], _K["right_hip"]]] > 0).all())
    body = free([0, *BODY_JOINTS])
    if refit:
        return [_Stage("refit", options.refit_iterations, body, None, True, side_views and options.silhouette, False)]
    torso, limbs, silhouette, hands = options.iterations
    stages = [_Stage("torso", torso, free([0]), _TORSO if hips_seen else _HEAD, False, False, False),
              _Stage("limbs", limbs, body, None, True, False, False)]
    if options.silhouette and silhouette > 0:
        stages.append(_Stage("silhouette", silhouette, body, None, True, True, False))
    if targets.has_hands and hands > 0:
        stages.append(_Stage("hands", hands, free([20, 21, *FINGERS]), None, False, False, True))
    return stages


def fit_body(body: BodyModel, observation: PersonObservation, frame: PersonFrame,
             options: FitOptions | None = None, constraints: Constraints | None = None,
             init: BodyFit | None = None, progress: Progress | None = None,
             cancel: CancelToken | None = None, side_views: Sequence[SideView] = ()) -> BodyFit:
    """Fit ``body`` to the person of ``observation`` seen through ``frame`` (from
    :func:`core.camera.frame_person`). With ``init`` (a previous fit, e.g. after the user pinned a
    joint) only a short refit runs from it; ``side_views`` add silhouettes from other cameras to a
    refit (with the photo's own silhouette). Raises :class:`FitError` when the photo cannot be fitted
    and :class:`core.progress.Cancelled` when cancelled."""
    start = time.perf_counter()
    options = options or FitOptions()
    constraints = constraints or Constraints()
    targets = make_targets(observation, frame, options.mask_size)
    if int((targets.confidence > 0).sum()) < 4:
        raise FitError("Fewer than four body keypoints were found, too few to fit a body. Use a photo where "
                       "the person is larger and facing the camera.")
    problem = _Problem(body, targets, frame, options, constraints, side_views)
    params = {k: v.clone().float().requires_grad_(True)
              for k, v in problem.scale_variables(_initial_params(problem, init)).items()}
    problem.relinearise(params)
    stages = _stages(options, targets, init is not None, problem.locked, bool(side_views))
    clothing = options.clothing if options.silhouette else None
    total = sum(s.iterations for s in stages) + (clothing.iterations if clothing and init is None else 0)
    done = 0
    for stage in stages:
        joint_mask = torch.zeros(NUM_JOINTS, 1)
        joint_mask[stage.joints] = 1.0
        groups = [{"params": [params["pose"]], "lr": options.learning_rate},
                  {"params": [params["root"]], "lr": options.learning_rate * 0.5}]
        if stage.shape:
            groups.append({"params": [params["shape"]], "lr": options.learning_rate * 2})
        if options.optimise_focal and stage.name != "torso":
            groups.append({"params": [params["log_focal"]], "lr": options.learning_rate * 0.3})
        if options.optimise_pitch and stage.name != "hands":
            groups.append({"params": [params["pitch"]], "lr": options.learning_rate * 10})  # crop pixels
        optimiser = torch.optim.Adam(groups)
        for step in range(stage.iterations):
            if stage.shape and step % _RELINEARISE == 0:
                problem.relinearise(params)
            if step % 5 == 0:
                report(progress, done / total, f"Fitting the body: {stage.name}", cancel)
            optimiser.zero_grad(set_to_none=False)
            loss = sum(problem.losses(params, stage).values())
            loss.backward()
            params["pose"].grad.mul_(joint_mask)
            if stage.name == "hands":
                params["root"].grad.zero_()
            optimiser.step()
            done += 1
        if stage.name == "limbs" and options.depth_flips and init is None:
            problem.choose_depth_flips(params)
    with torch.no_grad():
        shape = problem.shape_value(params["shape"])
        out = body.forward(shape[None], params["pose"][None], problem.root(params)[None])
    layer = None
    if clothing is not None:
        directions = offset_directions(body, shape, out)
        if init is not None and init.clothing is not None and len(init.clothing) == body.num_vertices:
            offsets = init.clothing  # a refit keeps the clothing layer, which moves with the body
        else:
            scale = targets.silhouette.width / targets.size
            log_focal, pitch = params["log_focal"].detach(), problem.pitch(params).detach()
            offsets = fit_clothing(out.vertices[0], directions, body.faces,
                                   lambda points: problem.project(points, log_focal, pitch) * scale, targets.silhouette,
                                   clothing, within(progress, cancel, done / total, 1.0), cancel)
        layer = (offsets, clothed_vertices(out.vertices[0], directions, offsets))
    report(progress, 1.0, "Body fitted", cancel)
    return _result(problem, observation, frame, params, shape, out, layer, constraints, time.perf_counter() - start)


def _result(problem: _Problem, observation: PersonObservation, frame: PersonFrame, params: dict[str, torch.Tensor],
            shape: torch.Tensor, out: BodyOutput, layer: tuple[np.ndarray, torch.Tensor] | None,
            constraints: Constraints, seconds: float) -> BodyFit:
    """The fit of the final ``params`` (body ``out`` in ``shape``), with its clothing ``layer`` (offsets
    and clothed vertices) when there is one."""
    from core.fit.overlay import body_mask

    body, t = problem.body, problem.targets
    with torch.no_grad():
        focal_scale = float(torch.exp(params["log_focal"]))
        keypoints = body.keypoints(out.vertices)[0]
        uv = problem.project(keypoints, params["log_focal"], problem.pitch(params)).double().numpy()
    residuals = {}
    seen = t.confidence.numpy() > 0
    for i, name in enumerate(KEYPOINT_NAMES):
        if seen[i]:
            residuals[name] = float(np.linalg.norm(uv[i] - t.keypoints[i].double().numpy()) / frame.scale)
    K = frame.K.copy()
    K[0, 0] *= focal_scale
    K[1, 1] *= focal_scale
    K_photo = np.array([[K[0, 0] / frame.scale, 0.0, K[0, 2] / frame.scale + frame.offset[0]],
                        [0.0, K[1, 1] / frame.scale, K[1, 2] / frame.scale + frame.offset[1]], [0.0, 0.0, 1.0]])
    height, width = observation.mask.shape
    fit = BodyFit(body_model=body.name, shape=shape.numpy(), pose=params["pose"].detach().numpy(),
                  root=problem.root(params).detach().numpy(), K=K_photo, image_size=(width, height),
                  viewmat=pitched_viewmat(float(problem.pitch(params).detach())),
                  keypoint_residuals=residuals, pins=dict(constraints.pins), locked=tuple(constraints.locked),
                  seconds=seconds, clothing=None if layer is None else layer[0])
    fit.silhouette_iou = mask_iou(body_mask(fit, out.vertices[0].numpy(), body.faces.numpy()), observation.mask)
    if layer is not None:
        fit.clothed_iou = mask_iou(body_mask(fit, layer[1].numpy(), body.faces.numpy()), observation.mask)
    box_height = max(1.0, float(observation.box[3] - observation.box[1]))
    good = np.mean([r < 0.05 * box_height for r in residuals.values()]) if residuals else 0.0
    fit.quality = float(0.5 * fit.silhouette_iou + 0.5 * good)
    return fit
