"""A learned lifter from a photo's 2D body keypoints to how steeply each limb points into the picture.

One photo does not show a limb's depth; mediapipe's 3D landmarks guess it from the image
(:mod:`core.fit.landmarks3d`), and the pose itself says much too: an elbow drawn short of its full
length beside a hip is bent forwards far more often than backwards. The lifter is a small MLP that
reads the 12 body keypoints (shoulders, elbows, wrists, hips, knees, ankles; crop pixels, y down),
centred on the hips and scaled by the torso's length, and returns each limb segment's **depth share**:
the z component (camera axes: x right, y down, z away from the camera) of its unit direction, in
[-1, 1], for the segments of :data:`core.fit.landmarks3d.SEGMENTS` (left upper arm, forearm, thigh,
shin, then the right ones).

Training (:mod:`core.train.lifter`; ``python -m core.train.lifter`` rebuilds
``resources/models/pose-prior/lifter.npz``): the
poses the learned pose prior is trained on (:func:`core.fit.pose_prior.training_poses`: built-in clip
frames with joint noise, their mirror images, the pose presets) and, a third as many again, the hard
poses :func:`core.train.synthetic.hard_pose` draws (deep crouches, tuck jumps, crossed legs, arms over the
head: trained on the clips alone, the lifter made the fits of such poses much worse), on random body
shapes, turned up to 60° about the vertical and 11° in pitch, seen by an orthographic camera (the fit's
long lens), their 2D keypoints jittered by 2.5 % of the torso's length. No photo, scan or motion-capture
data. Measured, and why the fit leaves it off by default: ``FitOptions.lifted_depth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from core.body.joints import KEYPOINT_NAMES
from core.resources import resource_path

_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
#: The keypoints the lifter reads (COCO-23 rows), in this order.
INPUTS = tuple(_K[f"{side}_{part}"] for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
               for side in ("left", "right"))
HIPS = [_K["left_hip"], _K["right_hip"]]
SHOULDERS = [_K["left_shoulder"], _K["right_shoulder"]]
HIDDEN = 256


def normalised_inputs(keypoints: torch.Tensor) -> torch.Tensor:
    """The lifter's input [..., 24] of COCO-23 keypoints [..., 23, 2] (any pixels, y down): the
    :data:`INPUTS` minus the hips' midpoint, over the distance from it to the shoulders' midpoint."""
    hips = keypoints[..., HIPS, :].mean(-2, keepdim=True)
    torso = (keypoints[..., SHOULDERS, :].mean(-2, keepdim=True) - hips).norm(dim=-1, keepdim=True)
    return ((keypoints[..., INPUTS, :] - hips) / torso.clamp_min(1e-6)).flatten(-2)


@dataclass(frozen=True)
class DepthLifter:
    """The MLP: 24 → :data:`HIDDEN` → :data:`HIDDEN` → 8 (ReLU, then tanh)."""

    weights: tuple[torch.Tensor, ...]  # [in, out] per layer
    biases: tuple[torch.Tensor, ...]  # [out] per layer

    def depth_shares(self, keypoints: torch.Tensor) -> torch.Tensor:
        """Depth shares [..., 8] (see the module docstring) of COCO-23 keypoints [..., 23, 2]."""
        x = normalised_inputs(keypoints)
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ weight.to(x) + bias.to(x)
            x = torch.relu(x) if i < len(self.weights) - 1 else torch.tanh(x)
        return x

    def save(self, path: Path) -> Path:
        """Write the layers as a NumPy archive (no pickles; float16)."""
        arrays = {f"w{i}": w.numpy().astype(np.float16) for i, w in enumerate(self.weights)}
        arrays |= {f"b{i}": b.numpy().astype(np.float16) for i, b in enumerate(self.biases)}
        np.savez_compressed(path, **arrays)
        return path


def load_lifter(path: Path) -> DepthLifter:
    """The lifter written by :meth:`DepthLifter.save`."""
    with np.load(path, allow_pickle=False) as data:
        layers = len([k for k in data.files if k.startswith("w")])
        return DepthLifter(tuple(torch.from_numpy(data[f"w{i}"].astype(np.float32)) for i in range(layers)),
                           tuple(torch.from_numpy(data[f"b{i}"].astype(np.float32)) for i in range(layers)))


@lru_cache(maxsize=1)
def shipped_lifter() -> DepthLifter:
    """The lifter shipped in ``resources/models/pose-prior/lifter.npz``."""
    return load_lifter(resource_path("models", "pose-prior", "lifter.npz"))


def lifted_landmarks(landmarks: torch.Tensor, shares: torch.Tensor, weight: float) -> torch.Tensor:
    """3D ``landmarks`` [23, 4] (:mod:`core.fit.landmarks3d`) with each limb segment's depth share moved
    ``weight`` (0–1) of the way to the lifter's ``shares`` [8], unless the two disagree on which side of the
    picture the segment points to (the detector sees the image; the lifter knows only the poses it was
    trained on: a real man's hands in his pockets it put in front of him): each limb is rebuilt from its
    shoulder or hip outwards, every segment keeping its length and its direction across the picture."""
    from core.fit.landmarks3d import SEGMENTS

    out = landmarks.clone()
    for row, (a, b) in enumerate(zip(*(s.tolist() for s in SEGMENTS), strict=True)):
        step = landmarks[b, :3] - landmarks[a, :3]
        length = step.norm().clamp_min(1e-9)
        seen = step[2] / length
        share = torch.where(seen * shares[row] < 0, seen, (1 - weight) * seen + weight * shares[row]).clamp(-1.0, 1.0)
        across = torch.nn.functional.normalize(step[:2], dim=0) * torch.sqrt(1 - share.square())
        out[b, :3] = out[a, :3] + length * torch.cat([across, share[None]])
    return out
