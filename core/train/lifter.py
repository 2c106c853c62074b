"""Training of the limb-depth lifter (:mod:`core.fit.lifter`) on generated views: see that module's docstring.
``python -m core.train.lifter`` rebuilds ``resources/models/pose-prior/lifter.npz``."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch

from core.fit.lifter import HIDDEN, HIPS, INPUTS, SHOULDERS, DepthLifter, normalised_inputs


def training_views(rng: np.random.Generator, copies: int = 12, batch: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """COCO-23 keypoints [N, 23, 3] in camera axes (x right, y down, z away; metres) of the training poses
    (see the module docstring) and their segments' depth shares [N, 8]."""
    from core.body.anny_body import AnnyBody
    from core.fit.landmarks3d import SEGMENTS
    from core.fit.pose_prior import training_poses
    from core.rotations import axis_angle_to_rotmat
    from core.train.synthetic import HARD_POSES, hard_pose, random_shape

    body = AnnyBody()
    poses = training_poses(rng, copies=copies)
    hard = [torch.tensor(hard_pose(rng, HARD_POSES[i % len(HARD_POSES)])) for i in range(len(poses) // 3)]
    poses = torch.cat([poses, torch.stack(hard).float()])
    views = []
    for start in range(0, len(poses), batch):
        pose = poses[start:start + batch].clone()
        pose[:, 0] = 0.0
        pose[:, 0, 1] = torch.tensor(rng.uniform(-math.pi / 3, math.pi / 3, len(pose)), dtype=torch.float32)
        with torch.no_grad():
            keypoints = body.keypoints(body.forward(torch.tensor(random_shape(rng, body))[None], pose).vertices)
        pitch = torch.tensor(rng.uniform(-0.2, 0.2, len(pose)), dtype=torch.float32)
        turn = axis_angle_to_rotmat(torch.stack([pitch, torch.zeros_like(pitch), torch.zeros_like(pitch)], -1))
        world = keypoints @ turn.transpose(-1, -2)
        views.append(world * torch.tensor([1.0, -1.0, -1.0]))  # y up, facing the camera → camera axes
    camera = torch.cat(views)
    a, b = SEGMENTS
    steps = camera[:, b] - camera[:, a]
    return camera, steps[..., 2] / steps.norm(dim=-1).clamp_min(1e-9)


def train_lifter(camera: torch.Tensor, shares: torch.Tensor, steps: int = 6000, jitter: float = 0.025,
                 seed: int = 0) -> DepthLifter:
    """Fit the MLP to keypoints ``camera`` [N, 23, 3] (camera axes) and their depth ``shares`` [N, 8] by
    Adam on the squared error, the 2D keypoints jittered by ``jitter`` torso lengths."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(2 * len(INPUTS), HIDDEN), torch.nn.ReLU(),
                              torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
                              torch.nn.Linear(HIDDEN, shares.shape[1]), torch.nn.Tanh())
    optimiser = torch.optim.Adam(net.parameters(), 1e-3)
    hips = camera[:, HIPS, :2].mean(1)
    torso = (camera[:, SHOULDERS, :2].mean(1) - hips).norm(dim=-1)
    for _ in range(steps):
        pick = torch.randint(0, len(camera), (512,), generator=generator)
        noise = torch.randn(512, camera.shape[1], 2, generator=generator) * jitter * torso[pick, None, None]
        loss = (net(normalised_inputs(camera[pick, :, :2] + noise)) - shares[pick]).square().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    layers = [m for m in net if isinstance(m, torch.nn.Linear)]
    return DepthLifter(tuple(m.weight.detach().T.contiguous() for m in layers), tuple(m.bias.detach() for m in layers))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="train the fit's limb-depth lifter on generated poses")
    parser.add_argument("-o", "--output", default=str(Path(__file__).resolve().parents[2] / "resources" / "models"
                                                        / "pose-prior" / "lifter.npz"))
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    camera, shares = training_views(np.random.default_rng(args.seed))
    lifter = train_lifter(camera, shares, seed=args.seed)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    lifter.save(Path(args.output))
    print(f"trained on {len(camera)} views → {args.output}")


if __name__ == "__main__":
    main()
