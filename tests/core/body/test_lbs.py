import torch

from core.body.lbs import blend_rows, strongest_influences
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


def test_blending_with_gradients_matches_the_gathered_sum_both_ways():
    """The differentiable path (a dense weight matrix) and the one without gradients (embedding_bag) against
    Σ_k w_k table[i_k], for one table and a batch of them, values and gradients."""
    torch.manual_seed(0)
    indices = torch.randint(0, 20, (50, 4))
    indices[:, 3] = indices[:, 0]  # padding repeats a bone with weight 0
    weights = torch.rand(50, 4)
    weights[:, 3] = 0.0
    for lead in ((), (3,)):
        table = torch.randn(*lead, 20, 12, requires_grad=True)
        reference = (table[..., indices, :] * weights[..., None]).sum(-2)
        blended = blend_rows(indices, weights, table)
        assert blended.shape == (*lead, 50, 12) and torch.allclose(blended, reference, atol=1e-5)
        assert torch.allclose(blend_rows(indices, weights, table.detach()), reference, atol=1e-5)
        upstream = torch.randn(*lead, 50, 12)
        grad, = torch.autograd.grad((blended * upstream).sum(), table)
        grad_reference, = torch.autograd.grad((reference * upstream).sum(), table)
        assert torch.allclose(grad, grad_reference, atol=1e-5)
