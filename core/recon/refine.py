"""Test-time refinement: the avatar's colours optimised against the photo it came from.

The avatar is posed as fitted and rendered (``core.render.rasterize``, differentiable) through the
fit's camera into the person crop; its Gaussians' colours are optimised (Adam) so the render
matches the photo inside the person mask, while a pull towards the network's colours keeps the
parts the photo does not show (the back) as the network predicted them. Geometry stays as built.
"""

from __future__ import annotations

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.camera import frame_person
from core.detect.person import PersonObservation
from core.fit.result import BodyFit
from core.gaussians import SH_C0, GaussianCloud
from core.progress import CancelToken, Progress, report
from core.render.rasterize import rasterize


def crop_intrinsics(fit: BodyFit, offset: tuple[int, int], scale: float) -> torch.Tensor:
    """The fit's camera [3, 3] in the pixels of a crop ``crop = (photo − offset) · scale``."""
    K = fit.K.copy()
    K[0, 2] -= offset[0]
    K[1, 2] -= offset[1]
    K[:2] *= scale
    return torch.tensor(K, dtype=torch.float32)


def refine_colours(avatar: Avatar, body: BodyModel, fit: BodyFit, rgb: np.ndarray, observation: PersonObservation,
                   iterations: int = 10, size: int = 256, learning_rate: float = 0.15, prior: float = 0.02,
                   progress: Progress | None = None, cancel: CancelToken | None = None) -> Avatar:
    """A copy of ``avatar`` whose colours reproduce the photo ``rgb`` [H, W, 3] where it shows the
    person (``observation``'s mask), after ``iterations`` Adam steps at ``size``² pixels."""
    if iterations <= 0:
        return avatar
    frame = frame_person(rgb, observation.mask, observation.box, size=size)
    K = crop_intrinsics(fit, frame.offset, frame.scale)
    target = torch.tensor(frame.image, dtype=torch.float32) / 255
    mask = torch.tensor(frame.mask > 0.5, dtype=torch.float32)[..., None]
    posed = avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root))
    viewmat = torch.tensor(fit.viewmat, dtype=torch.float32)[None]
    initial = avatar.cloud.sh[:, 0].clone()
    sh0 = initial.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([sh0], lr=learning_rate)
    scales, opacities = posed.scales(), posed.opacities()
    for step in range(iterations):
        report(progress, step / iterations, "Refining the colours against the photo", cancel)
        colours = (0.5 + SH_C0 * sh0).clamp(0, 1)
        image, alpha, _ = rasterize(posed.means, posed.quats, scales, opacities, colours, viewmat, K[None], size, size,
                                    near_plane=0.05, backgrounds=torch.zeros(1, 3))
        photometric = ((image[0] - target * alpha[0]).abs() * mask).sum() / mask.sum().clamp_min(1) / 3
        loss = photometric + prior * (sh0 - initial).square().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    report(progress, 1.0, "Colours refined", cancel)
    cloud = avatar.cloud
    refined = GaussianCloud(cloud.means, cloud.quats, cloud.log_scales, cloud.opacity_logits,
                            torch.cat([sh0.detach()[:, None], cloud.sh[:, 1:]], 1))
    return Avatar(refined, avatar.binding, avatar.body_model, avatar.shape)
