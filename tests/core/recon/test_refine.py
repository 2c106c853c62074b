import numpy as np
import torch
from fit_helpers import exact_observation

from core.fit.result import BodyFit
from core.recon.avatar_builder import build_avatar
from core.recon.model import Prediction
from core.recon.refine import crop_intrinsics, refine_colours
from core.render.rasterize import rasterize
from core.train.dataset import query_points
from core.train.synthetic import render_person


def test_refinement_copies_the_photo_onto_the_seen_side_only(anny_body):
    person = render_person(anny_body, np.random.default_rng(21), size=160, splats=20000)
    fit = BodyFit(body_model="anny", shape=person.shape, pose=person.pose, root=person.root, K=person.K,
                  image_size=(160, 160), viewmat=person.viewmat)
    observation = exact_observation(anny_body, person)
    query = query_points(anny_body, count=400, anchors=16)
    count = len(query.triangles)
    grey = Prediction(torch.full((1, count, 3), 0.5), torch.zeros(1, count), torch.zeros(1, count, 3),
                      torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    avatar = build_avatar(anny_body, query, person.shape, grey, count=6000)
    refined = refine_colours(avatar, anny_body, fit, person.rgb, observation, iterations=12, size=96)

    def front_error(candidate):
        posed = candidate.posed(anny_body, torch.tensor(fit.pose), torch.tensor(fit.root))
        K = crop_intrinsics(fit, (0, 0), 1.0)
        image, _, _ = rasterize(posed.means, posed.quats, posed.scales(), posed.opacities(), posed.base_colors(),
                                torch.tensor(fit.viewmat, dtype=torch.float32)[None], K[None], 160, 160,
                                backgrounds=torch.zeros(1, 3))
        target = torch.tensor(person.rgb, dtype=torch.float32) / 255
        mask = torch.tensor(person.mask > 0.5)
        return float((image[0] - target).abs()[mask].mean())

    assert front_error(refined) < 0.7 * front_error(avatar)
    changed = (refined.cloud.base_colors() - avatar.cloud.base_colors()).abs().sum(1) > 0.05
    assert 0.2 < float(changed.float().mean()) < 0.8  # the seen side changed, the hidden side did not
    assert refine_colours(avatar, anny_body, fit, person.rgb, observation, iterations=0) is avatar
