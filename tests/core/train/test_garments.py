import dataclasses

import numpy as np

from core.body.model import canonical_body
from core.body.parts import PART_INDEX, vertex_parts
from core.train.garments import (
    BOTTOMS,
    GARMENT_COLOURS,
    HAIR_STYLES,
    OUTERS,
    PATTERNS,
    TOPS,
    Fabric,
    dress,
    garment_colour,
    random_outfit,
)


def test_every_garment_type_appears_with_real_world_frequencies():
    outfits = [random_outfit(np.random.default_rng(i)) for i in range(400)]
    assert {o.top for o in outfits} == set(TOPS) and {o.bottom for o in outfits} == set(BOTTOMS)
    assert {o.hair_style for o in outfits} == set(HAIR_STYLES)
    assert {o.outer for o in outfits} == {None, *OUTERS}
    assert {o.top_fabric.pattern for o in outfits} == set(PATTERNS)
    assert 0.25 < np.mean([o.outer is not None for o in outfits]) < 0.45  # jackets and coats are common
    front = np.mean([o.front_print is not None for o in outfits])
    back = np.mean([o.back_print is not None for o in outfits])
    assert 0.15 < front < 0.35 and 0.03 < back < 0.15
    # dark and neutral clothes dominate; strong colours are rare
    colours = np.array([garment_colour(np.random.default_rng(i)) for i in range(2000)])
    spread = colours.max(1) - colours.min(1)
    assert np.mean(colours.mean(1) < 0.25) > 0.3 and np.mean(spread > 0.4) < 0.2
    assert abs(sum(w for *_, w in GARMENT_COLOURS) - 1.0) < 1e-9


def test_patterns_vary_over_the_surface():
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (2000, 3)).astype(np.float32)
    colours = np.array([[0.1, 0.2, 0.3], [0.8, 0.7, 0.6]], np.float32)
    for pattern in ("stripes", "checks", "print", "denim", "knit"):
        colour = Fabric(colours, pattern, 0.05, np.zeros(3)).colour(points)
        assert (colour.std(0) / colour.mean(0)).max() > 0.03, pattern
    solid = Fabric(colours, "solid", 0.05, np.zeros(3)).colour(points)
    assert (solid.std(0) / solid.mean(0)).max() < 0.015  # plain cloth: a faint weave only


def _body(anny_body):
    from core.body.surface import vertex_normals

    vertices, joints = canonical_body(anny_body, anny_body.default_shape()[0].numpy())
    normals = vertex_normals(vertices.numpy(), anny_body.faces.numpy())
    return vertices.numpy(), normals, vertex_parts(anny_body).numpy(), joints.numpy()


def test_dress_covers_the_body_by_the_rules(anny_body):
    vertices, normals, parts, joints = _body(anny_body)
    outfit = dataclasses.replace(random_outfit(np.random.default_rng(5)), top="longsleeve", bottom="trousers",
                                 hair_style="bald", hat=None, outer=None,
                                 front_print=(0.6, 0.08, np.array([1.0, 0.0, 0.0], np.float32)), back_print=None)
    albedo, offset = dress(outfit, vertices, normals, parts, joints)
    skin = np.all(np.isclose(albedo, outfit.skin), axis=1)
    assert skin[parts == PART_INDEX["left_hand"]].mean() > 0.9  # hands stay bare
    assert skin[parts == PART_INDEX["left_forearm"]].mean() < 0.3  # long sleeves cover the forearms
    assert skin[parts == PART_INDEX["left_shin"]].mean() < 0.1  # trousers reach the ankles
    red = np.all(np.isclose(albedo, [1.0, 0.0, 0.0]), axis=1)
    assert red.any() and (normals[red, 2] > 0).all()  # the print is on the front only
    assert (offset >= 0).all() and offset.max() < 0.08


def test_an_open_coat_and_long_hair_cover_the_back(anny_body):
    vertices, normals, parts, joints = _body(anny_body)
    outfit = dataclasses.replace(random_outfit(np.random.default_rng(9)), outer="coat", opening=0.08,
                                 hair_style="long", hair_length=0.2, hat=None, front_print=None, back_print=None)
    albedo, offset = dress(outfit, vertices, normals, parts, joints)
    chest = parts == PART_INDEX["chest"]
    torso = chest | (parts == PART_INDEX["hips"])
    back = torso & (normals[:, 2] < -0.5) & (vertices[:, 1] < joints[16, 1] - 0.3) & (vertices[:, 1] > joints[1, 1])
    front_band = chest & (normals[:, 2] > 0.5) & (np.abs(vertices[:, 0]) < 0.04)
    coat = outfit.outer_fabric.colour(vertices)
    assert np.isclose(albedo[back], coat[back], atol=1e-6).all(axis=1).mean() > 0.9  # the coat's back
    assert not np.isclose(albedo[front_band], coat[front_band], atol=1e-6).all(axis=1).any()  # open in front
    thighs = parts == PART_INDEX["left_thigh"]
    assert offset[thighs].max() > offset[back].min()  # the coat flares over the thighs
    hair_on_back = chest & (normals[:, 2] < -0.3) & (vertices[:, 1] > joints[16, 1] - 0.1)
    hair = outfit.hair
    assert (np.abs(albedo[hair_on_back] - hair).max(1) < 0.25).mean() > 0.8  # long hair over the upper back
    assert offset[hair_on_back].mean() > 0.015


def test_a_vest_leaves_the_arms_and_long_hair_shows_from_the_front(anny_body):
    vertices, normals, parts, joints = _body(anny_body)
    red = Fabric(np.array([[0.9, 0.1, 0.1]] * 2, np.float32), "solid", 0.1, np.zeros(3))
    outfit = dataclasses.replace(random_outfit(np.random.default_rng(4)), outer="vest", opening=0.0, top="longsleeve",
                                 outer_fabric=red, hair=np.array([0.3, 0.2, 0.1], np.float32), hair_style="long",
                                 hair_length=0.1, hair_front=False, hat=None, front_print=None, back_print=None)
    albedo, offset = dress(outfit, vertices, normals, parts, joints)
    vest = np.isclose(albedo, outfit.outer_fabric.colour(vertices), atol=1e-6).all(axis=1)
    forearm = parts == PART_INDEX["left_forearm"]
    assert vest[parts == PART_INDEX["chest"]].mean() > 0.5 and not vest[forearm].any()
    neck_front = (parts == PART_INDEX["neck"]) & (np.abs(vertices[:, 0]) > 0.03) & (normals[:, 2] > 0.0)
    hair = (np.abs(albedo - outfit.hair).max(1) < 0.1)
    assert neck_front.any() and hair[neck_front].mean() > 0.3  # beside the neck: the front view shows long hair is long
    front_chest = (parts == PART_INDEX["chest"]) & (normals[:, 2] > 0.5) & (np.abs(vertices[:, 0]) > 0.07) & (
        vertices[:, 1] < joints[16, 1] - 0.06)  # below the shoulders
    assert not hair[front_chest].any()
    strands = dataclasses.replace(outfit, hair_front=True)
    assert (np.abs(dress(strands, vertices, normals, parts, joints)[0] - outfit.hair).max(1) < 0.1)[front_chest].any()
