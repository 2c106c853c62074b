import torch

from core.fit.adam import AdamMoments, adam_step


def test_adam_step_is_torchs_adam_to_the_last_bit_and_rows_carry_their_moments():
    generator = torch.Generator().manual_seed(0)
    target = torch.randn(6, 5, 3, generator=generator)
    ours = torch.randn(6, 5, 3, generator=generator)
    theirs = ours.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([theirs], lr=0.05)
    moments = AdamMoments.like(ours)
    for _ in range(7):
        ours.requires_grad_(True)
        grad, = torch.autograd.grad((ours - target).pow(4).sum(), ours)
        ours = ours.detach()
        adam_step(ours, grad, moments, 0.05)
        optimiser.zero_grad()
        (theirs - target).pow(4).sum().backward()
        optimiser.step()
    assert torch.equal(ours, theirs.detach()) and moments.step == 7
    kept = moments.rows(torch.tensor([0, 4]))
    state = optimiser.state[theirs]
    assert torch.equal(kept.exp_avg, state["exp_avg"][[0, 4]])
    assert torch.equal(kept.exp_avg_sq, state["exp_avg_sq"][[0, 4]])
    assert kept.step == 7 and not torch.equal(kept.exp_avg, moments.exp_avg[[0, 1]])
