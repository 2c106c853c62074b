import torch

from core.body.lbs import strongest_influences
from core.body.motions import builtin_motion


def test_strongest_influences_keep_the_strongest_and_pad_to_the_count():
    indices = torch.tensor([[3, 7, 1], [5, 2, 9]])
    weights = torch.tensor([[0.2, 0.6, 0.2], [0.5, 0.25, 0.25]])
    top, w = strongest_influences(indices, weights, 2)
    assert top[:, 0].tolist() == [7, 5] and torch.allclose(w.sum(1), torch.ones(2))
    padded, pw = strongest_influences(indices, weights, 4)
    assert padded.shape == (2, 4) and pw[:, 3].tolist() == [0.0, 0.0] and torch.allclose(pw.sum(1), torch.ones(2))


def test_bone_transforms_of_a_motion_equal_the_full_forward(anny_body):
    motion = builtin_motion("walk", 10.0)
    shape = anny_body.default_shape()
    batched = anny_body.bone_transforms(shape, motion.poses, motion.trans, batch=7)
    with torch.no_grad():
        full = anny_body.forward(shape, motion.poses, motion.trans).transforms
    assert batched.shape == full.shape and torch.allclose(batched, full, atol=1e-5)
