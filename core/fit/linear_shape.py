"""A body's shape state linearised around a shape, so fitting iterations need not rebuild the rest body.

``state(s) ≈ state(s₀) + Σ_k ∂state/∂s_k · (s_k − s₀_k)`` with the derivatives taken by forward
differences (one :meth:`core.body.model.BodyModel.shape_state` per shape parameter, no autograd).
For SMPL-X the state is linear in the shape and this is exact; for anny (rest bones from Horn's
method, ~30 ms per differentiable rebuild) it is re-linearised every few iterations by the fit.
"""

from __future__ import annotations

import torch

from core.body.model import BodyModel


class LinearShape:
    """``shape_state`` of ``body`` around ``shape0`` [1, S]; :meth:`state` is differentiable in the shape."""

    def __init__(self, body: BodyModel, shape0: torch.Tensor, relative_step: float = 1e-3) -> None:
        lo = torch.tensor([p.minimum for p in body.shape_parameters])
        hi = torch.tensor([p.maximum for p in body.shape_parameters])
        self.shape0 = body.check_shape(shape0).detach().clone()
        steps = relative_step * (hi - lo)
        steps = torch.where(self.shape0[0] + steps > hi, -steps, steps)  # stay inside the range
        shifted = self.shape0 + torch.diag(steps)  # [S, S]: one parameter moved per row
        with torch.no_grad():  # the shape and its S neighbours as one batch
            states = body.shape_state(torch.cat([self.shape0, shifted]))
        self.base = {name: value[:1] for name, value in states.items()}
        self.jacobian: dict[str, torch.Tensor] = {
            name: (value[1:] - value[:1]) / steps.reshape(-1, *[1] * (value.dim() - 1))
            for name, value in states.items()}

    def state(self, shape: torch.Tensor) -> dict[str, torch.Tensor]:
        """The linearised shape state at ``shape`` [1, S]."""
        delta = (shape - self.shape0)[0]
        return {name: base + torch.tensordot(delta, self.jacobian[name], dims=1) for name, base in self.base.items()}
