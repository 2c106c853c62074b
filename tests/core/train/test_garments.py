import numpy as np
import torch

from core.body.model import canonical_body
from core.body.parts import PART_INDEX, vertex_parts
from core.train.garments import BOTTOMS, HAIR_STYLES, PATTERNS, TOPS, Fabric, dress, random_outfit


def test_every_garment_type_appears():
    outfits = [random_outfit(np.random.default_rng(i)) for i in range(200)]
    assert {o.top for o in outfits} == set(TOPS) and {o.bottom for o in outfits} == set(BOTTOMS)
    assert {o.hair_style for o in outfits} == set(HAIR_STYLES)
    assert {o.top_fabric.pattern for o in outfits} == set(PATTERNS)
    front = np.mean([o.front_print is not None for o in outfits])
    back = np.mean([o.back_print is not None for o in outfits])
    assert 0.3 < front < 0.6 and 0.05 < back < 0.25


def test_patterns_vary_over_the_surface():
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (500, 3)).astype(np.float32)
    colours = np.array([[0.1, 0.2, 0.3], [0.8, 0.7, 0.6]], np.float32)
    for pattern in ("stripes", "checks", "noise"):
        fabric = Fabric(colours, pattern, 0.05, np.zeros(3))
        colour = fabric.colour(points)
        assert (colour.std(0) / colour.mean(0)).max() > 0.05, pattern
    assert Fabric(colours, "solid", 0.05, np.zeros(3)).colour(points).std(0).max() < 1e-5


def test_dress_covers_the_body_by_the_rules(anny_body):
    vertices, joints = canonical_body(anny_body, anny_body.default_shape()[0].numpy())
    parts = vertex_parts(anny_body).numpy()
    normals = torch.nn.functional.normalize(vertices - vertices.mean(0), dim=1).numpy()  # rough, outward
    rng = np.random.default_rng(5)
    outfit = random_outfit(rng)
    import dataclasses

    outfit = dataclasses.replace(outfit, top="longsleeve", bottom="trousers", hair_style="bald",
                                 front_print=(0.6, 0.08, np.array([1.0, 0.0, 0.0], np.float32)), back_print=None)
    albedo, offset = dress(outfit, vertices.numpy(), normals, parts, joints.numpy())
    skin = np.all(np.isclose(albedo, outfit.skin), axis=1)
    assert skin[parts == PART_INDEX["left_hand"]].mean() > 0.9  # hands stay bare
    assert skin[parts == PART_INDEX["left_forearm"]].mean() < 0.3  # long sleeves cover the forearms
    assert skin[parts == PART_INDEX["left_shin"]].mean() < 0.1  # trousers reach the ankles
    red = np.all(np.isclose(albedo, [1.0, 0.0, 0.0]), axis=1)
    assert red.any() and (normals[red, 2] > 0).all()  # the print is on the front only
    assert (offset >= 0).all() and offset.max() < 0.05
