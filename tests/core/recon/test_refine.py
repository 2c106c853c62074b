import numpy as np
import torch
from fit_helpers import exact_observation

from core.fit.result import BodyFit
from core.recon.avatar_builder import build_avatar
from core.recon.model import Prediction
from core.recon.query import query_points
from core.recon.refine import crop_intrinsics, refine_avatar
from core.render.rasterize import rasterize
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
                            learning_rate=0.15, carry=False)

    assert _front_error(anny_body, person, fit, refined) < 0.7 * _front_error(anny_body, person, fit, avatar)
    changed = (refined.cloud.base_colors() - avatar.cloud.base_colors()).abs().sum(1) > 0.05
    assert 0.2 < float(changed.float().mean()) < 0.8  # the seen side changed, the hidden side did not
    assert refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=0) is avatar
    assert torch.equal(refined.cloud.means, avatar.cloud.means)  # colours only


def test_the_hidden_side_takes_the_photos_corrections(anny_body):
    """With ``carry`` the Gaussians the photo does not show move from the network's grey towards the
    colours the photo gave the seen side of their body part; the seen ones are as without it."""
    from core.body.parts import PART_INDEX
    from core.body.surface import surface_parts

    person, fit, observation, avatar = _setup(anny_body)
    kept = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=8, size=96, geometry=False,
                         carry=False).cloud.base_colors()
    carried = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=8, size=96,
                            geometry=False).cloud.base_colors()
    grey = avatar.cloud.base_colors()
    seen = (kept - grey).abs().sum(1) > 1e-6
    assert torch.equal(carried[seen], kept[seen])
    parts = surface_parts(anny_body, avatar.binding.triangles, avatar.binding.barycentric)
    for part in ("chest", "hips", "left_thigh"):
        where = parts == PART_INDEX[part]
        photo = kept[seen & where].mean(0)
        assert (carried[~seen & where].mean(0) - photo).norm() < 0.5 * (grey[~seen & where].mean(0) - photo).norm()


def test_a_blotch_the_network_invented_on_the_hidden_side_takes_the_photos_colour(anny_body):
    """The network painted the back of a thigh pink, a colour it gave no Gaussian the photo shows:
    refinement gives that back the photo's colour of the thigh instead of carrying the pink."""
    from core.body.parts import PART_INDEX
    from core.body.surface import surface_parts
    from core.gaussians import GaussianCloud, rgb_to_sh0

    person, fit, observation, avatar = _setup(anny_body)
    grey = avatar.cloud.base_colors()
    kept = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=8, size=96, geometry=False,
                         carry=False).cloud.base_colors()
    seen = (kept - grey).abs().sum(1) > 1e-6
    thigh = surface_parts(anny_body, avatar.binding.triangles, avatar.binding.barycentric) == PART_INDEX["left_thigh"]
    blotch = ~seen & thigh
    pink = torch.tensor([1.0, 0.4, 0.7])
    cloud = avatar.cloud
    sh = cloud.sh.clone()
    sh[blotch, 0] = rgb_to_sh0(pink)
    painted = type(avatar)(GaussianCloud(cloud.means, cloud.quats, cloud.log_scales, cloud.opacity_logits, sh),
                           avatar.binding, avatar.body_model, avatar.shape)
    refined = refine_avatar(painted, anny_body, fit, person.rgb, observation, iterations=8, size=96,
                            geometry=False).cloud.base_colors()
    photo = kept[seen & thigh].median(0).values
    away = (refined[blotch] - photo).norm(dim=1)
    assert float(away.median()) < 0.25 * float((pink - grey[0]).norm())


def test_geometry_refinement_fits_the_outline_and_moves_within_bounds(anny_body):
    from core.recon.refine import CARVED_LOGIT, input_view_scores

    person, fit, observation, avatar = _setup(anny_body)
    colour = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=12, size=96, geometry=False)
    refined = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=12, size=96, max_shift=0.04)
    outline = input_view_scores(refined, anny_body, fit, person.rgb, observation, size=96)["iou"]
    assert outline > input_view_scores(colour, anny_body, fit, person.rgb, observation, size=96)["iou"] + 0.02
    assert _front_error(anny_body, person, fit, refined) < 1.05 * _front_error(anny_body, person, fit, colour)
    shift = (refined.cloud.means - avatar.cloud.means).abs()
    assert float(shift.norm(dim=1).max()) <= 0.04 * 2 ** 0.5 * 1.05  # two in-plane axes, skinning scale
    moved = shift.max(1).values > 1e-4
    assert 0.1 < float(moved.float().mean()) < 0.9  # the photo's side and outline moved; the hidden side stayed
    kept = refined.cloud.opacity_logits > CARVED_LOGIT + 1e-6
    assert bool((refined.cloud.opacity_logits[kept] >= avatar.cloud.opacity_logits[kept]).all())  # never fainter


def test_hands_outside_the_photos_silhouette_are_carved_and_nothing_else(anny_body):
    """Where the photo's mask shows no hand (and no foot), the hand's Gaussians turn transparent; the
    foot's stay (a body part outside the mask means a misfit, and carving it would open a hole)."""
    import dataclasses

    from core.body.parts import PART_INDEX
    from core.body.surface import surface_parts
    from core.fit.overlay import project_points
    from core.recon.refine import CARVED_LOGIT

    person, fit, observation, avatar = _setup(anny_body)
    posed = avatar.posed(anny_body, torch.tensor(fit.pose), torch.tensor(fit.root))
    parts = surface_parts(anny_body, avatar.binding.triangles, avatar.binding.barycentric)
    mask = observation.mask.copy()
    for part in ("left_hand", "left_foot"):  # wipe them off the mask
        pixels = project_points(fit, posed.means[parts == PART_INDEX[part]].numpy())
        x0, y0 = np.floor(pixels.min(0)).astype(int) - 2
        x1, y1 = np.ceil(pixels.max(0)).astype(int) + 3
        mask[max(y0, 0):y1, max(x0, 0):x1] = 0.0
    wiped = dataclasses.replace(observation, mask=mask)
    refined = refine_avatar(avatar, anny_body, fit, person.rgb, wiped, iterations=2, size=96)
    carved = refined.cloud.opacity_logits <= CARVED_LOGIT + 1e-6
    hand, foot = parts == PART_INDEX["left_hand"], parts == PART_INDEX["left_foot"]
    assert carved[hand].float().mean() > 0.5 and not carved[foot].any() and not carved[~hand].any()
    kept = refine_avatar(avatar, anny_body, fit, person.rgb, wiped, iterations=2, size=96, carve=None)
    assert not (kept.cloud.opacity_logits <= CARVED_LOGIT + 1e-6).any()


def test_what_lies_beyond_the_photos_edge_is_left_alone(anny_body):
    """A half-body photo says nothing about the legs below its edge: refinement neither pulls them
    into the photo's outline nor shrinks or carves them, as it would if the crop's padding were background."""
    import dataclasses

    from core.fit.overlay import project_points

    person, fit, observation, avatar = _setup(anny_body)
    half = 90  # rows kept: the photo ends at the hips
    box = observation.box
    cut = dataclasses.replace(observation, mask=observation.mask[:half], box=(box[0], box[1], box[2], half))
    fit = dataclasses.replace(fit, image_size=(160, half))
    refined = refine_avatar(avatar, anny_body, fit, np.ascontiguousarray(person.rgb[:half]), cut, iterations=6, size=96)
    posed = avatar.posed(anny_body, torch.tensor(fit.pose), torch.tensor(fit.root))
    below = torch.tensor(project_points(fit, posed.means.numpy())[:, 1] > half + 3)  # beyond the photo's edge
    assert below.float().mean() > 0.2
    torch.testing.assert_close(refined.cloud.means[below], avatar.cloud.means[below])
    torch.testing.assert_close(refined.cloud.log_scales[below], avatar.cloud.log_scales[below])
    torch.testing.assert_close(refined.cloud.opacity_logits[below], avatar.cloud.opacity_logits[below])


def test_refinement_keeps_a_standing_off_surface_closed(anny_body):
    """A coat 5 cm off the body: its Gaussians lie farther apart than the body's samples, so the ones
    the photo does not show keep the wider floor (no pinholes from behind) however hard the outline
    term shrinks them; the ones it shows may shrink to the body's spacing."""
    import math

    from core.recon.avatar_builder import SOLID_DISC, avatar_spacing, sample_spacing

    person, fit, observation, _ = _setup(anny_body)
    query = query_points(anny_body, count=400, anchors=16)
    count = len(query.triangles)
    loose = torch.tensor([1.5, 1.5, 0.0]).expand(1, count, 3)  # discs of 2.7 spacings: room to shrink to the floor
    coat = Prediction(torch.full((1, count, 3), 0.5), torch.full((1, count), 0.05), loose,
                      torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    avatar = build_avatar(anny_body, query, person.shape, coat, count=6000)
    wide = torch.log(SOLID_DISC * avatar_spacing(anny_body, avatar))
    base = math.log(SOLID_DISC * sample_spacing(anny_body, avatar.shape, 6000))
    assert float((wide - base).max()) > 0.3  # standing off spreads the Gaussians on thin parts
    assert (avatar.cloud.log_scales[:, :2] >= wide[:, None] - 1e-5).all()
    refined = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=10, size=96,
                            mask_weight=30.0, carry=False).cloud  # the bloated coat pulled hard into the outline
    in_plane = refined.log_scales[:, :2].min(1).values
    assert (in_plane >= base - 1e-5).all()
    unchanged = (refined.log_scales - avatar.cloud.log_scales).abs().amax(1) < 1e-6
    shrunk = ~unchanged
    assert shrunk.any() and (in_plane[shrunk] < wide[shrunk] - 1e-3).any()  # seen ones went below the wide floor
    hidden = (refined.base_colors() - avatar.cloud.base_colors()).abs().sum(1) == 0  # colour untouched: unseen
    assert (hidden & shrunk).any()  # the outline seen edge-on shrank
    assert (in_plane[hidden & shrunk] >= wide[hidden & shrunk] - 1e-5).all()


def test_the_refined_outline_matches_the_photo_at_the_photos_own_size(anny_body):
    """Refinement fits the outline in a coarse crop (96² of a 160² photo here); seen at the photo's own
    size the avatar still covers the person. With the rasteriser's full 0.3 px² blur in the crop the
    thin outline Gaussians looked wider there than at the photo's size: 92.7 % covered."""
    from core.metrics import mask_iou

    person, fit, observation, avatar = _setup(anny_body)
    refined = refine_avatar(avatar, anny_body, fit, person.rgb, observation, iterations=10, size=96)
    posed = refined.posed(anny_body, torch.tensor(fit.pose), torch.tensor(fit.root))
    with torch.no_grad():
        _, alpha, _ = rasterize(posed.means, posed.quats, posed.scales(), posed.opacities(), posed.base_colors(),
                                torch.tensor(fit.viewmat, dtype=torch.float32)[None],
                                crop_intrinsics(fit, (0, 0), 1.0)[None], 160, 160)
    covered, mask = alpha[0, ..., 0].numpy() > 0.5, person.mask > 0.5
    assert (covered & mask).sum() / mask.sum() > 0.97 and mask_iou(covered.astype(float), mask) > 0.95


def test_photo_layers_split_the_outlines_blend():
    """A grey disc blended into a white background along its outline: the background layer is white
    everywhere, the person layer the disc's grey everywhere inside the mask (its blended rim included)."""
    from core.recon.refine import photo_layers

    ys, xs = np.mgrid[:64, :64]
    coverage = np.clip(20.5 - np.hypot(ys - 32, xs - 32), 0, 1)[..., None]  # a one-pixel soft edge
    image = np.round(255 * (0.2 * coverage + (1 - coverage))).astype(np.uint8).repeat(3, -1)
    mask = coverage[..., 0] > 0.01
    background, person = photo_layers(image, mask)
    assert float((background - 1.0).abs().max()) == 0.0
    assert float((person[torch.from_numpy(mask)] - 51 / 255).abs().max()) == 0.0
    torch.testing.assert_close(person[torch.from_numpy(~mask)], torch.ones(int((~mask).sum()), 3))


def test_no_pale_seams_from_the_photos_outline(anny_body):
    """A dark person on a white photo, blended along the outline: the Gaussians keep the person's
    colour, not the blend's (copying the rim's pixels made 4.6 % of them brighter than 0.3)."""
    person, fit, observation, avatar = _setup(anny_body)
    alpha = person.mask[..., None].astype(np.float32)
    rgb = np.round(255 * (0.15 * alpha + (1 - alpha))).astype(np.uint8).repeat(3, -1)
    refined = refine_avatar(avatar, anny_body, fit, rgb, observation, iterations=8, size=96)
    assert float((refined.cloud.base_colors().max(1).values > 0.3).float().mean()) < 0.02
