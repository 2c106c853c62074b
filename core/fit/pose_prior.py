"""A learned prior over body poses: a Gaussian mixture over the 21 body joints' rotation vectors
(``left_hip`` … ``right_wrist``, 63 numbers, radians), as SMPLify's, trained on poses the project
generates (``python -m core.fit.pose_prior`` rebuilds ``resources/models/pose-prior/pose_prior.npz``).

Training poses: frames of every built-in clip, each body joint perturbed (σ 0.15 rad) and clamped to the
joint limits, their left-right mirror images, and the pose panel's presets with the same noise. No
photo, scan or motion-capture data. The fit uses the mixture's max-component negative log-likelihood
(the best component's Mahalanobis distance minus its log weight and log-determinant), which picks,
for a limb whose depth a photo does not show, the bend people make.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from core.body.joints import clamp_to_limits, mirror_pose
from core.body.motions import BUILTIN_MOTIONS, builtin_motion, pose_presets
from core.resources import resource_path

#: The joints the prior covers: the vocabulary's body joints (pelvis excluded: the root turns freely).
PRIOR_JOINTS = slice(1, 22)
DIMENSIONS = 63


@dataclass(frozen=True)
class PosePrior:
    """A Gaussian mixture of C components over body poses [63] (rotation vectors of joints 1–21)."""

    means: torch.Tensor  # [C, 63] radians
    precision_factors: torch.Tensor  # [C, 63, 63] L with L Lᵀ = Σ⁻¹ (lower triangular)
    log_weights: torch.Tensor  # [C] log mixture weights plus ½ log det Σ⁻¹

    def nll(self, pose: torch.Tensor) -> torch.Tensor:
        """Max-component negative log-likelihood [...] (up to a constant) of poses [..., 55, 3]."""
        x = pose[..., PRIOR_JOINTS, :].reshape(*pose.shape[:-2], 1, DIMENSIONS) - self.means.to(pose)
        whitened = (x[..., None, :] @ self.precision_factors.to(pose))[..., 0, :]  # [..., C, 63]
        energy = 0.5 * whitened.square().sum(-1) - self.log_weights.to(pose)
        return energy.min(-1).values

    def save(self, path: Path) -> Path:
        """Write the mixture as a NumPy archive (no pickles)."""
        np.savez_compressed(path, means=self.means.numpy(), precision_factors=self.precision_factors.numpy(),
                            log_weights=self.log_weights.numpy())
        return path


def load_pose_prior(path: Path) -> PosePrior:
    """The mixture written by :meth:`PosePrior.save`."""
    with np.load(path, allow_pickle=False) as data:
        return PosePrior(*(torch.from_numpy(data[k]).float() for k in ("means", "precision_factors", "log_weights")))


@lru_cache(maxsize=1)
def shipped_pose_prior() -> PosePrior:
    """The prior shipped in ``resources/models/pose-prior/pose_prior.npz``."""
    return load_pose_prior(resource_path("models", "pose-prior", "pose_prior.npz"))


def training_poses(rng: np.random.Generator, noise: float = 0.15, copies: int = 8) -> torch.Tensor:
    """Poses [N, 55, 3] to train the prior on (see the module docstring)."""
    frames = [builtin_motion(name, fps=15.0).poses for name in BUILTIN_MOTIONS]
    frames.append(torch.stack(list(pose_presets().values())))
    base = torch.cat(frames)
    base = torch.cat([base, mirror_pose(base)])
    poses = base.repeat(copies, 1, 1)
    poses[:, PRIOR_JOINTS] += torch.tensor(rng.normal(0.0, noise, poses[:, PRIOR_JOINTS].shape), dtype=torch.float32)
    return clamp_to_limits(poses)


def fit_mixture(samples: np.ndarray, components: int, rng: np.random.Generator, iterations: int = 60,
                regularisation: float = 1e-3) -> PosePrior:
    """Expectation-maximisation of a full-covariance Gaussian mixture on ``samples`` [N, D]
    (``regularisation`` rad² added to every covariance's diagonal)."""
    n, d = samples.shape
    means = samples[rng.choice(n, components, replace=False)]
    covariances = np.repeat(np.cov(samples.T)[None] + regularisation * np.eye(d), components, 0)
    weights = np.full(components, 1.0 / components)
    for _ in range(iterations):
        log_p = np.empty((n, components))
        for c in range(components):
            chol = np.linalg.cholesky(covariances[c])
            z = np.linalg.solve(chol, (samples - means[c]).T)
            log_p[:, c] = (math.log(weights[c]) - np.log(np.diag(chol)).sum() - 0.5 * (z * z).sum(0)
                           - 0.5 * d * math.log(2 * math.pi))
        log_p -= log_p.max(1, keepdims=True)
        resp = np.exp(log_p)
        resp /= resp.sum(1, keepdims=True)
        mass = resp.sum(0) + 1e-9
        weights = mass / n
        means = (resp.T @ samples) / mass[:, None]
        for c in range(components):
            centred = samples - means[c]
            covariances[c] = (resp[:, c, None] * centred).T @ centred / mass[c] + regularisation * np.eye(d)
    precision_factors = np.stack([np.linalg.cholesky(np.linalg.inv(cov)) for cov in covariances])
    log_weights = np.log(weights) + np.log(np.diagonal(precision_factors, axis1=1, axis2=2)).sum(1)
    return PosePrior(torch.from_numpy(means).float(), torch.from_numpy(precision_factors).float(),
                     torch.from_numpy(log_weights).float())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="train the fit's pose prior on generated poses")
    parser.add_argument("-o", "--output", default=str(Path(__file__).resolve().parents[2] / "resources" / "models"
                                                        / "pose-prior" / "pose_prior.npz"))
    parser.add_argument("--components", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    poses = training_poses(rng)
    samples = poses[:, PRIOR_JOINTS].reshape(len(poses), DIMENSIONS).double().numpy()
    prior = fit_mixture(samples, args.components, rng)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    prior.save(Path(args.output))
    print(f"trained on {len(samples)} poses, {args.components} components → {args.output}")


if __name__ == "__main__":
    main()
