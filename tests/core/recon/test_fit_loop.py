import numpy as np
import pytest
import torch
from fit_helpers import exact_observation

from core.avatar.avatar import Avatar
from core.fit.fit_body import FitOptions
from core.fit.result import BodyFit
from core.io.images import Photo
from core.metrics import mask_iou
from core.pipeline import Pipeline, Preset
from core.progress import Cancelled, CancelToken
from core.recon.avatar_builder import build_avatar
from core.recon.fit_loop import carry_refinement, side_views
from core.recon.refine import refine_avatar
from core.train.synthetic import render_person

QUICK = Preset(FitOptions(iterations=(10, 10, 10, 0), refit_iterations=8), gaussians=6000, refine_iterations=4,
               refine_size=96)


@pytest.fixture(scope="module")
def loop_setup(anny_body, tiny_model):
    person = render_person(anny_body, np.random.default_rng(5), size=192, splats=20000)
    fit = BodyFit("anny", person.shape, person.pose, person.root, person.K, (192, 192), pins={"left_wrist": (60, 90)})
    photo = Photo(person.rgb, None, person.rgb, None, 1.0)
    pipeline = Pipeline(anny_body, tiny_model[0], preset=QUICK)
    yield pipeline, person, photo, exact_observation(anny_body, person), fit
    pipeline.close()


def test_side_views_are_the_avatars_silhouettes_from_the_side(anny_body, loop_setup):
    pipeline, person, photo, observation, fit = loop_setup
    avatar, _ = pipeline.avatar(photo, observation, fit, update_body=False)
    views = side_views(avatar, anny_body, fit, size=128)
    assert len(views) == 2
    for view in views:  # the true person seen from the same camera has the same outline
        _, alpha = person.splats.render(torch.tensor(view.viewmat)[None], torch.tensor(view.K), 128, 128,
                                        torch.zeros(1, 3))
        assert mask_iou(view.silhouette.mask.numpy() > 0.5, alpha[0, ..., 0].numpy() > 0.5) > 0.75


def test_loop_updates_the_body_and_keeps_the_refinement(anny_body, loop_setup):
    pipeline, _, photo, observation, fit = loop_setup
    seen = []
    avatar, updated = pipeline.refine(photo, observation, fit, pipeline.avatar(
        photo, observation, fit, update_body=False)[0], rounds=2, progress=lambda f, m: seen.append((f, m)))
    assert len(avatar.cloud) == QUICK.gaussians and not np.array_equal(updated.pose, fit.pose)
    assert updated.pins == fit.pins  # the user's pins hold through the body update
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("side views" in m for _, m in seen)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        pipeline.refine(photo, observation, fit, avatar, rounds=2, cancel=token)


def test_carry_refinement_moves_what_refinement_changed(anny_body, loop_setup):
    pipeline, _, photo, observation, fit = loop_setup
    _, prediction = pipeline.reconstructor(photo.rgb, observation, fit)
    network = build_avatar(anny_body, pipeline.reconstructor.query, fit.shape, prediction, QUICK.gaussians)
    refined = refine_avatar(network, anny_body, fit, photo.rgb, observation, 4, 96)
    assert not torch.equal(refined.cloud.means, network.cloud.means)
    assert torch.equal(carry_refinement(network, network, refined).cloud.means, refined.cloud.means)  # no change
    carried = carry_refinement(refined, network, network)  # the same body: the refined avatar back
    for name in ("means", "log_scales", "opacity_logits", "sh"):
        torch.testing.assert_close(getattr(carried.cloud, name), getattr(refined.cloud, name))
    fewer = Avatar(network.cloud.subset(torch.arange(10)), network.binding, network.body_model, network.shape)
    with pytest.raises(ValueError, match="layouts"):
        carry_refinement(refined, fewer, network)
