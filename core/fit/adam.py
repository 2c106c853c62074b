"""Adam whose running moments are ours: rows of a batched parameter can be dropped mid-run.

``torch.optim.Adam`` keeps its moments in private per-parameter state, so a batch of candidates
that is pruned part-way (``core.fit.fit_body._Problem._optimise_flips``) would have to write
into that state. :class:`AdamMoments` holds them; :func:`adam_step` is the same update as
``torch.optim.Adam`` (no weight decay, no amsgrad, its default betas and eps) to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class AdamMoments:
    """Adam's state for one parameter: first and second moments (its shape) and the steps taken."""

    exp_avg: torch.Tensor
    exp_avg_sq: torch.Tensor
    step: int = 0

    @classmethod
    def like(cls, param: torch.Tensor) -> AdamMoments:
        """Zero moments for ``param``."""
        return cls(torch.zeros_like(param), torch.zeros_like(param))

    def rows(self, index: torch.Tensor) -> AdamMoments:
        """The moments of the rows ``index`` [K] (along the first dimension), step count kept."""
        return AdamMoments(self.exp_avg[index], self.exp_avg_sq[index], self.step)


def adam_step(param: torch.Tensor, grad: torch.Tensor, moments: AdamMoments, lr: float,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
    """One Adam update of ``param`` in place (under no_grad) from ``grad`` (its shape), advancing ``moments``."""
    beta1, beta2 = betas
    moments.step += 1
    moments.exp_avg.lerp_(grad, 1 - beta1)
    moments.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step_size = lr / (1 - beta1 ** moments.step)
    denom = (moments.exp_avg_sq.sqrt() / (1 - beta2 ** moments.step) ** 0.5).add_(eps)
    with torch.no_grad():
        param.addcdiv_(moments.exp_avg, denom, value=-step_size)
