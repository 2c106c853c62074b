"""Pieces of the fit refinement loop of "Generalizable Human Gaussians" (the loop itself is
:meth:`core.pipeline.Pipeline.refine`): body updates from the avatar's silhouettes seen from the
side, alternating with Gaussian updates against the photo.

Round after round: (1) the avatar's Gaussians are refined against the photo
(:func:`core.recon.refine.refine_avatar`, a share of the preset's steps); (2) the refined avatar,
posed by the current fit, is rendered from cameras beside the person (``azimuths`` around the body's
centre, same distance as the photo's camera) and its silhouettes join the photo's keypoints and
mask in a refit of the body from the current fit (:class:`core.fit.fit_body.SideView`); (3) the
network predicts the Gaussians on the new body and what refinement learnt is carried over (the
Gaussians are the same surface samples on either body, so each keeps its refinement's change of
position, size, opacity and colour). The last round refines only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.camera import intrinsics_from_fov, look_at
from core.fit.fit_body import SideView
from core.fit.result import BodyFit
from core.fit.silhouette import SilhouetteTarget
from core.gaussians import GaussianCloud
from core.render.rasterize import rasterize


def side_views(avatar: Avatar, body: BodyModel, fit: BodyFit, azimuths_deg: tuple[float, ...] = (90.0, -90.0),
               size: int = 256, fov_deg: float = 40.0) -> list[SideView]:
    """The silhouettes (alpha > 0.5) of ``avatar`` posed by ``fit`` from cameras turned ``azimuths_deg``
    (about world Y, positive to the person's left) around its centre, ``size``² pixels, framing it whole."""
    posed = avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root))
    centre = posed.means.mean(0).numpy().astype(np.float64)
    eye0 = -fit.viewmat[:3, :3].T @ fit.viewmat[:3, 3]  # the photo's camera centre
    radius = float(np.linalg.norm(posed.means.numpy() - centre, axis=1).max())
    distance = max(float(np.linalg.norm(eye0 - centre)), 1.1 * radius / math.sin(math.radians(fov_deg / 2)))
    K = intrinsics_from_fov(fov_deg, size, size)
    direction = (eye0 - centre) / max(float(np.linalg.norm(eye0 - centre)), 1e-6)
    viewmats = []
    for azimuth in azimuths_deg:
        a = math.radians(azimuth)
        turned = np.array([math.cos(a) * direction[0] + math.sin(a) * direction[2], direction[1],
                           -math.sin(a) * direction[0] + math.cos(a) * direction[2]])
        viewmats.append(look_at(centre + distance * turned, centre))
    with torch.no_grad():  # all views in one call
        _, alpha, _ = rasterize(posed.means, posed.quats, posed.scales(), posed.opacities(), posed.base_colors(),
                                torch.tensor(np.stack(viewmats), dtype=torch.float32),
                                torch.tensor(K, dtype=torch.float32).expand(len(viewmats), 3, 3).contiguous(),
                                size, size, near_plane=0.05)
    return [SideView(viewmat, K, SilhouetteTarget(alpha[i, ..., 0].numpy())) for i, viewmat in enumerate(viewmats)]


def carry_refinement(refined: Avatar, before: Avatar, rebuilt: Avatar) -> Avatar:
    """``rebuilt`` (the network's avatar on a new body) with the change refinement made from ``before``
    to ``refined`` (same Gaussian layout): positions, log-sizes and colours shifted alike, opacity kept."""
    old, new, base = refined.cloud, rebuilt.cloud, before.cloud
    if len(old) != len(new) or len(base) != len(new):
        raise ValueError("the avatars have different Gaussian layouts")
    cloud = GaussianCloud(new.means + (old.means - base.means), new.quats,
                          new.log_scales + (old.log_scales - base.log_scales), old.opacity_logits,
                          new.sh + (old.sh - base.sh))
    return Avatar(cloud, rebuilt.binding, rebuilt.body_model, rebuilt.shape)
