import numpy as np
import torch

from core.fit.silhouette import SilhouetteTarget


def _disc(size=64, radius=20.0, centre=(32.0, 32.0)) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    return ((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= radius ** 2).astype(np.float32)


def _points_in(mask: np.ndarray) -> torch.Tensor:
    ys, xs = np.nonzero(mask > 0.5)
    return torch.tensor(np.stack([xs, ys], 1) + 0.5, dtype=torch.float32)


def test_points_filling_the_mask_cost_nothing():
    target = SilhouetteTarget(_disc())
    outside, cover = target.loss(_points_in(_disc()))
    assert float(outside) == 0.0 and float(cover) < 1e-3


def test_each_term_sees_its_own_mistake():
    target = SilhouetteTarget(_disc())
    spill = target.loss(_points_in(_disc(radius=26.0)))  # a body larger than the mask
    short = target.loss(_points_in(_disc(radius=12.0)))  # a body smaller than the mask
    assert float(spill[0]) > 0.005 and float(spill[1]) < 1e-3
    assert float(short[0]) == 0.0 and float(short[1]) > 0.05


def test_gradients_pull_a_shifted_body_back():
    target = SilhouetteTarget(_disc())
    points = (_points_in(_disc()) + torch.tensor([6.0, 0.0])).requires_grad_(True)  # 6 px to the right
    sum(target.loss(points)).backward()
    assert float(points.grad[:, 0].sum()) > 0  # descent moves the points left, back onto the mask


def test_empty_mask_has_no_contour():
    target = SilhouetteTarget(np.zeros((16, 16), np.float32))
    outside, cover = target.loss(torch.tensor([[8.0, 8.0]]))
    assert float(cover) == 0.0 and float(outside) >= 0.0
