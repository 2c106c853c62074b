import numpy as np
import torch
from fit_helpers import exact_observation

from core.fit.result import BodyFit
from core.recon.avatar_builder import build_avatar
from core.recon.model import Prediction
from core.recon.refine import crop_intrinsics, refine_avatar
from core.render.rasterize import rasterize
from core.train.dataset import query_points
from core.train.synthetic import render_person


def _setup(anny_body):
    person = render_person(anny_body, np.random.default_rng(21), size=160, splats=20000)
    fit = BodyFit(body_model="anny", shape=person.shape, pose=person.pose, root=person.root, K=person.K,
                  image_size=(160, 160), viewmat=person.viewmat)
    observation = exact_observation(anny_body, person)
    query = query_points(anny_body, count=400, anchors=16)
    count = len(query.triangles)
    grey = Prediction(torch.full((1, count, 3), 0.5), torch.zeros(1, count), torch.zeros(1, count, 3),
                      torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    avatar = build_avatar(anny_body, query, person.shape, grey, count=6000)
    return person, fit, observation, avatar


def _front_error(anny_body, person, fit, candidate) -> float:
    posed = candidate.posed(anny_body, torch.tensor(fit.pose), torch.tensor(fit.root))
    K = crop_intrinsics(fit, (0, 0), 1.0)
    image, _, _ = rasterize(posed.means, posed.quats, posed.scales(), posed.opacities(), posed.base_colors(),
                            torch.tensor(fit.viewmat, dtype=torch.float32)[None], K[None], 160, 160,
                            backgrounds=torch.zeros(1, 3))
    target = torch.tensor(person.rgb, dtype=torch.float32) / 255
    mask = torch.tensor(person.mask > 0.5)
    return float((image[0] - target).abs()[mask].mean())


def test_colour_refinement_copies_the_photo_onto_the_seen_side_only(anny_body):
    person, fit, observation, avatar = _setup(anny_body)
    refined = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=12, size=96, geometry=False,
                            learning_rate=0.15)

    assert _front_error(anny_body, person, fit, refined) < 0.7 * _front_error(anny_body, person, fit, avatar)
    changed = (refined.cloud.base_colors() - avatar.cloud.base_colors()).abs().sum(1) > 0.05
    assert 0.2 < float(changed.float().mean()) < 0.8  # the seen side changed, the hidden side did not
    assert refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=0) is avatar
    assert torch.equal(refined.cloud.means, avatar.cloud.means)  # colours only


def test_geometry_refinement_moves_seen_gaussians_within_bounds(anny_body):
    person, fit, observation, avatar = _setup(anny_body)
    colour = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=12, size=96, geometry=False)
    refined = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=12, size=96, max_shift=0.04)
    assert _front_error(anny_body, person, fit, refined) < _front_error(anny_body, person, fit, colour)
    shift = (refined.cloud.means - avatar.cloud.means).abs()
    assert float(shift.norm(dim=1).max()) <= 0.04 * 2 ** 0.5 * 1.05  # two in-plane axes, skinning scale
    moved = shift.max(1).values > 1e-4
    assert 0.1 < float(moved.float().mean()) < 0.9  # what the photo shows moved; the hidden side stayed
    assert bool((refined.cloud.opacity_logits >= avatar.cloud.opacity_logits).all())  # never more transparent
