import numpy as np
import torch

from core.fit.lifter import load_lifter
from core.train.lifter import train_lifter, training_views


def test_training_learns_from_generated_views(tmp_path):
    camera, shares = training_views(np.random.default_rng(1), copies=1)
    lifter = train_lifter(camera[::2], shares[::2], steps=300)  # a few seconds: half the views, the others to test
    error = (lifter.depth_shares(camera[1::2, :, :2]) - shares[1::2]).abs().mean()
    assert error < 0.85 * shares[1::2].abs().mean()  # (0.77 of it; an untrained one does no better than "flat")
    again = load_lifter(lifter.save(tmp_path / "lifter.npz"))  # float16 on disk
    torch.testing.assert_close(again.depth_shares(camera[:5, :, :2]), lifter.depth_shares(camera[:5, :, :2]),
                               atol=5e-3, rtol=0)
