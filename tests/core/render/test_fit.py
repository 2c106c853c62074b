"""The rasterizer's gradients are good enough to fit an image: 100 Adam steps, 20k Gaussians, 256²."""

import math

import torch

from core.render.rasterize import rasterize

SIZE = 256


def target_image() -> torch.Tensor:
    """A smooth procedural RGB image [256, 256, 3] with some curved structure."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, SIZE), torch.linspace(0, 1, SIZE), indexing="ij")
    return torch.stack([0.5 + 0.4 * torch.sin(6 * xs + 2 * ys),
                        0.5 + 0.4 * torch.cos(5 * ys - 3 * xs * ys),
                        0.3 + 0.6 * torch.exp(-((xs - 0.6) ** 2 + (ys - 0.4) ** 2) / 0.05)], -1).clamp(0, 1)


def test_adam_fit_reaches_35_db():
    target = target_image()
    focal = float(SIZE)
    K = torch.tensor([[[focal, 0, SIZE / 2], [0, focal, SIZE / 2], [0, 0, 1.0]]])
    view = torch.eye(4)[None]
    count = 20000
    side = math.ceil(math.sqrt(count))
    g = torch.Generator().manual_seed(0)
    u = (torch.arange(count) % side + 0.5 + 0.3 * torch.randn(count, generator=g)) / side
    v = (torch.arange(count) // side + 0.5 + 0.3 * torch.randn(count, generator=g)) / side
    means = torch.stack([(u - 0.5) * SIZE / focal, (v - 0.5) * SIZE / focal, torch.ones(count)], 1)
    log_scales = torch.full((count, 3), math.log(0.5 / side))  # half the grid spacing, at depth 1
    logit_opacity = torch.full((count,), 2.0)
    colors = torch.full((count, 3), 0.5)  # grey: everything the image holds must be learnt
    quats = torch.zeros(count, 4)
    quats[:, 0] = 1.0
    params = [p.requires_grad_(True) for p in (means, log_scales, logit_opacity, colors, quats)]
    optimizer = torch.optim.Adam([{"params": [params[0]], "lr": 2e-4}, {"params": [params[1]], "lr": 0.01},
                                  {"params": [params[2]], "lr": 0.05}, {"params": [params[3]], "lr": 0.05},
                                  {"params": [params[4]], "lr": 1e-3}])

    def loss() -> torch.Tensor:
        image, _, _ = rasterize(params[0], params[4], params[1].exp(), torch.sigmoid(params[2]), params[3],
                                view, K, SIZE, SIZE)
        return ((image[0] - target) ** 2).mean()

    start = -10 * math.log10(loss().item())
    for _ in range(100):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    psnr = -10 * math.log10(loss().item())
    assert start < 15 and psnr >= 35.0, (start, psnr)
