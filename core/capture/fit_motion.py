"""A body fitted over time to one person's per-frame keypoints, seen by a fixed camera.

The camera, the body's shape and its first pose come from a full single-photo fit of one frame (the
*anchor*, :func:`core.fit.fit_body.fit_body` with the silhouette); the shape stays fixed for the whole
clip. Then two passes, both batched (:class:`MotionProblem` poses keypoints straight from bone
transforms, :mod:`core.capture.keypoint_skin`):

1. *chunks*, while the video is read: every ``chunk`` frames are optimised together from the last
   solved frame's pose and root (a warm start: a person turning round is followed through the turn),
   with the two frames before them as fixed context for the smoothness term; each frame starts turned
   by as much as the detector's 3D landmarks say the person turned since the last solved frame;
2. *temporal*: all frames at once, with keypoints (Geman–McClure, weighted by confidence), the
   facing direction of the detector's 3D landmarks (2D keypoints of a person seen from the side hardly
   tell which way they face; mediapipe's 3D hips and shoulders do, within about 10°), the
   relaxed-pose and learned pose priors, joint limits, smoothness (the joints' acceleration) and foot
   contact: a foot found resting on the floor after pass 1 (low and slow) must not move while it rests,
   and no foot goes below the floor, so the root moves to keep planted feet still.

With ``hands`` the fingers are free too and follow mediapipe Holistic's hand landmarks (a tighter
robust term, as in the photo fit), their rotations smooth in time.

World frame: the fit's (camera at the origin looking down −Z, tilted by the anchor's pitch; Y up).
Frames where the person is not seen have no keypoint term: smoothness and the priors fill them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.body.joints import JOINT_INDEX, KEYPOINT_NAMES, NUM_JOINTS, limit_violation
from core.body.model import BodyModel
from core.body.motions import relaxed_pose
from core.camera import project
from core.capture.keypoint_skin import KeypointSkin
from core.fit.fit_body import BODY_JOINTS, FINGERS, KEYPOINT_WEIGHT, relaxed_prior
from core.fit.landmarks3d import facing_error, in_ray_frame, limb_direction_error
from core.fit.robust import geman_mcclure
from core.fit.targets import HAND_JOINTS

#: The joints a foot contact holds still: ankles and feet (toe bases), left then right.
FEET = [JOINT_INDEX[n] for n in ("left_ankle", "left_foot", "right_ankle", "right_foot")]
_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
_FOOT_KEYPOINTS = [_K[n] for n in ("left_ankle", "left_big_toe", "right_ankle", "right_big_toe")]  # as FEET
@dataclass(frozen=True)
class MotionFitOptions:
    """Weights and iteration counts of the two passes (per frame; distances in metres, time in frames)."""

    chunk: int = 8  # frames optimised together while the video is read
    chunk_iterations: int = 30
    temporal_iterations: int = 150
    learning_rate: float = 0.02  # Adam, radians and metres
    lbfgs: bool = True
    sigma: float = 0.1  # Geman–McClure scale, fraction of the person's height in pixels
    pose_prior: float = 2e-3
    learned_prior: float = 1e-3
    facing_weight: float = 0.3  # per frame, times 1 − cos(the torso's yaw − the detector's 3D yaw)
    limb_weight: float = 0.5  # per frame, times the squared difference of unit limb directions from the detector's 3D
    hand_weight: float = 2.0  # per frame, robust hand-landmark error (with ``hands``)
    limit_weight: float = 1.0
    smooth_weight: float = 50.0  # per (metre / frame²)², mean over the body joints
    contact_weight: float = 200.0  # per metre² a resting foot joint moves from one frame to the next
    floor_weight: float = 200.0  # per metre² a foot joint is below the floor
    contact_height: float = 0.12  # metres above its resting level a resting foot may be (fitted depth jitters)
    contact_speed: float = 0.25  # person heights per second a resting foot's keypoint may move in the image


class MotionProblem:
    """The objective of a batch of frames of one body shape seen by one camera."""

    def __init__(self, body: BodyModel, shape: torch.Tensor, viewmat, K, height_px: float,
                 options: MotionFitOptions, hands: bool = False) -> None:
        """``shape`` [1, S]; ``viewmat`` [4, 4] world-to-camera (OpenCV), ``K`` [3, 3] in video pixels;
        ``height_px`` the person's height in pixels (the scale of keypoint errors); ``hands``: the
        fingers are fitted too (to hand landmarks), else they keep their starting rotations."""
        self.body, self.options = body, options
        with torch.no_grad():
            self.state = {k: v.detach() for k, v in body.shape_state(shape).items()}
        self.skin = KeypointSkin(body, shape)
        self.viewmat = torch.as_tensor(viewmat, dtype=torch.float32)
        self.K = torch.as_tensor(K, dtype=torch.float32)
        self.height_px = float(height_px)
        self.prior_mean = relaxed_pose()
        self.free = torch.zeros(NUM_JOINTS, 1)
        self.free[[0, *BODY_JOINTS, *(FINGERS if hands else [])]] = 1.0
        self.prior_joints = [*BODY_JOINTS, *(FINGERS if hands else [])]  # the pelvis turns freely
        self._one_vertex = torch.zeros(1, dtype=torch.int64)

    def pose(self, poses: torch.Tensor, roots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Joints [B, 55, 3] and keypoints [B, 23, 3] (world) of poses [B, 55, 3] and roots [B, 3]."""
        out = self.body.posed(self.state, poses, roots, vertex_ids=self._one_vertex)
        return out.joints, self.skin.keypoints(out.transforms)

    def placed(self, poses: torch.Tensor, roots: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Roots [B, 3] moved so that each frame's body, posed as it is, projects onto its seen keypoints
        ``targets`` [B, 23, 3] as well as a translation can make it (linear least squares in the camera
        frame, confidence-weighted); frames with fewer than three seen keypoints keep their root. A warm
        start far from the keypoints would sit where the robust penalty has no slope."""
        with torch.no_grad():
            _, keypoints = self.pose(poses, roots)
            rotation = self.viewmat[:3, :3]
            camera = keypoints @ rotation.T + self.viewmat[:3, 3]  # [B, 23, 3]
            f = torch.stack([self.K[0, 0], self.K[1, 1]])
            d = targets[..., :2] - self.K[:2, 2]  # [B, 23, 2] pixels from the principal point
            # d (z + δz) = f (xy + δxy)  →  f δxy − d δz = d z − f xy
            rows = torch.zeros(*d.shape, 3)
            rows[..., 0, 0], rows[..., 1, 1] = f[0], f[1]
            rows[..., 2] = -d
            rhs = d * camera[..., 2:3] - f * camera[..., :2]
            w = targets[..., 2].sqrt()[..., None, None]
            a = (rows * w).reshape(len(poses), -1, 3)
            b = (rhs[..., None] * w).reshape(len(poses), -1, 1)
            normal = a.transpose(1, 2) @ a + 1e-6 * f[0] ** 2 * torch.eye(3)
            delta = torch.linalg.solve(normal, a.transpose(1, 2) @ b)[..., 0]  # [B, 3] camera frame
            seen = (targets[..., 2] > 0).sum(-1) >= 3
            return torch.where(seen[:, None], roots + delta @ rotation, roots)

    def in_ray_frame(self, points: torch.Tensor) -> torch.Tensor:
        """World points [B, n, 3] in the frame of mediapipe's 3D landmarks: camera axes (x right, y down,
        z away) turned about y so that the ray to the pelvis (the points' first row) is the z axis."""
        return in_ray_frame(points @ self.viewmat[:3, :3].T + self.viewmat[:3, 3])

    def objective(self, poses: torch.Tensor, roots: torch.Tensor, targets: torch.Tensor, world: torch.Tensor,
                  context: torch.Tensor | None = None, contact: torch.Tensor | None = None,
                  floor: float | None = None, hands: torch.Tensor | None = None) -> torch.Tensor:
        """The summed objective of frames ``poses`` [B, 55, 3], ``roots`` [B, 3] against ``targets``
        [B, 23, 3] (pixels, confidence) and the detector's 3D landmarks ``world`` [B, 23, 4] (NaN:
        none; see :class:`core.capture.track.Tracked`); ``context`` [c, 55, 3] joints of the
        frames just before (fixed); ``contact`` [B, 4] which :data:`FEET` joints rest; ``floor`` the
        floor's height (metres); ``hands`` [B, 32, 3] targets of :data:`core.fit.targets.HAND_JOINTS`
        (pixels, confidence)."""
        o = self.options
        joints, keypoints = self.pose(poses, roots)
        uv = project(keypoints, self.viewmat, self.K, min_depth=1e-3)
        total = geman_mcclure(uv, targets[..., :2], KEYPOINT_WEIGHT * targets[..., 2], o.sigma, self.height_px).sum()
        if hands is not None:  # fingers are small: a tighter robust scale, as in the photo fit
            hand_uv = project(joints[:, HAND_JOINTS], self.viewmat, self.K, min_depth=1e-3)
            total = total + o.hand_weight * geman_mcclure(hand_uv, hands[..., :2], hands[..., 2], 0.3 * o.sigma,
                                                          self.height_px).sum()
        total = total + o.pose_prior * relaxed_prior(poses, self.prior_mean, self.prior_joints).sum()
        total = total + o.limit_weight * limit_violation(poses)[:, 1:].square().sum()
        if o.learned_prior > 0:
            from core.fit.pose_prior import shipped_pose_prior

            total = total + o.learned_prior * shipped_pose_prior().nll(poses).sum()
        known = torch.isfinite(world[:, 0, 0])
        if known.any():
            seen = self.in_ray_frame(torch.cat([joints[known, :1], keypoints[known]], 1))[:, 1:]
            landmarks = world[known]
            total = total + o.facing_weight * facing_error(seen, landmarks).sum()
            total = total + o.limb_weight * limb_direction_error(seen, landmarks).sum()
        body = joints[:, :22]
        track = body if context is None else torch.cat([context[:, :22], body])
        if len(track) >= 3:
            acceleration = track[2:] - 2 * track[1:-1] + track[:-2]
            total = total + o.smooth_weight * acceleration.square().sum(-1).mean(-1).sum()
        if hands is not None and len(poses) >= 3:  # the fingers' own rotations, smooth in time
            fingers = poses[:, FINGERS]
            total = total + o.smooth_weight * 1e-3 * (fingers[2:] - 2 * fingers[1:-1] + fingers[:-2]).square().sum()
        if contact is not None:
            feet = joints[:, FEET]  # [B, 4, 3]
            both = contact[1:] & contact[:-1]
            total = total + o.contact_weight * ((feet[1:] - feet[:-1]).square().sum(-1) * both).sum()
            total = total + o.floor_weight * (floor - feet[..., 1]).clamp_min(0).square().sum()
        return total

    def optimise(self, poses: torch.Tensor, roots: torch.Tensor, targets: torch.Tensor, world: torch.Tensor,
                 iterations: int, context: torch.Tensor | None = None, contact: torch.Tensor | None = None,
                 floor: float | None = None, step=None, hands: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """The free joints' rotations and the roots optimised from ``poses``/``roots`` against
        :meth:`objective` (Adam; L-BFGS for the temporal pass, the one with ``contact``); returns the
        (detached) poses [B, 55, 3] and roots [B, 3]. ``step(i)`` is called before each iteration."""
        poses = poses.detach().clone().requires_grad_(True)
        roots = roots.detach().clone().requires_grad_(True)
        if contact is not None and self.options.lbfgs:
            optimiser = torch.optim.LBFGS([poses, roots], lr=1.0, max_iter=iterations, history_size=20,
                                          line_search_fn="strong_wolfe")
            count = [0]

            def closure():
                if step is not None:
                    step(min(count[0], iterations - 1))
                count[0] += 1
                optimiser.zero_grad()
                loss = self.objective(poses, roots, targets, world, context, contact, floor, hands)
                loss.backward()
                poses.grad.mul_(self.free)
                return loss

            optimiser.step(closure)
            return poses.detach(), roots.detach()
        optimiser = torch.optim.Adam([{"params": [poses], "lr": self.options.learning_rate},
                                      {"params": [roots], "lr": 0.5 * self.options.learning_rate}])
        for i in range(iterations):
            if step is not None:
                step(i)
            optimiser.zero_grad(set_to_none=False)
            self.objective(poses, roots, targets, world, context, contact, floor, hands).backward()
            poses.grad.mul_(self.free)
            optimiser.step()
        return poses.detach(), roots.detach()


def foot_contacts(feet: torch.Tensor, seen: torch.Tensor, height_px: float, fps: float,
                  options: MotionFitOptions) -> tuple[torch.Tensor, float]:
    """Which foot joints rest [T, 4] and the floor's height (metres), from the :data:`FEET` positions
    [T, 4, 3] of the first pass (world, Y up) and their keypoints ``seen`` [T, 23, 3] (pixels,
    confidence). The floor is the level the lowest foot joint reaches in most frames (its 10th
    percentile). A joint rests when it is within ``contact_height`` of its own resting level (the 10th
    percentile of its height: an ankle rests higher than a toe) and its keypoint moves
    slower than ``contact_speed`` person heights per second in the image (a planted foot stands still
    in the picture, while its fitted depth still jitters); where the keypoint is not seen, its fitted
    3D speed decides (metres per second, the same number)."""
    lowest = feet[..., 1].min(-1).values
    floor = float(torch.quantile(lowest, 0.1)) if len(lowest) > 1 else float(lowest[0])
    if len(feet) < 3:
        return torch.zeros(feet.shape[:2], dtype=torch.bool), floor

    def central(x: torch.Tensor) -> torch.Tensor:  # speed per second by central differences [T, 4]
        speed = torch.zeros(x.shape[:2])
        speed[1:-1] = (x[2:] - x[:-2]).norm(dim=-1) * fps / 2
        speed[0], speed[-1] = speed[1], speed[-2]
        return speed

    points = seen[:, _FOOT_KEYPOINTS]
    visible = (points[..., 2] > 0).float()
    tracked = torch.ones_like(visible)
    tracked[1:-1] = visible[2:] * visible[:-2]
    speed = torch.where(tracked > 0, central(points[..., :2]) / height_px, central(feet))
    low = torch.quantile(feet[..., 1], 0.1, dim=0)  # [4]
    return (feet[..., 1] < low + options.contact_height) & (speed < options.contact_speed), floor
