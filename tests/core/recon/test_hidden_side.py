import torch

from core.body.parts import PART_INDEX
from core.recon.hidden_side import (
    MATERIAL_FAR,
    MATERIAL_NEAR,
    SIDE_WEIGHT,
    carry_changes,
    invented_materials,
    outer_layer_colours,
    partner_positions,
    smoothed_hidden,
    unseen_materials,
)


def _torso(count: int = 3000):
    """Points on a 30 x 60 cm box-like torso (part 0) facing +Z, and a separate arm (part 1) never seen."""
    generator = torch.Generator().manual_seed(0)
    u = torch.rand(count, 2, generator=generator)
    front = torch.rand(count, generator=generator) < 0.5
    torso = torch.stack([0.3 * u[:, 0] - 0.15, 0.6 * u[:, 1], torch.where(front, 0.1, -0.1)], 1)
    arm = torso[:300] * torch.tensor([0.2, 1.0, 0.5]) + torch.tensor([0.4, 0.0, 0.0])
    positions = torch.cat([torso, arm])
    parts = torch.cat([torch.zeros(count, dtype=torch.long), torch.ones(300, dtype=torch.long)])
    seen = torch.cat([front, torch.zeros(300, dtype=torch.bool)])
    return positions, parts, seen


def test_partners_mirror_depth_through_each_parts_centre():
    positions = torch.tensor([[0.0, 0.0, 0.1], [0.0, 0.0, -0.1], [1.0, 0.0, 0.5], [1.0, 0.0, 0.3]])
    partners = partner_positions(positions, torch.tensor([0, 0, 1, 1]))
    torch.testing.assert_close(partners[:, 2], torch.tensor([-0.1, 0.1, 0.3, 0.5]))
    torch.testing.assert_close(partners[:, :2], positions[:, :2])


def test_the_back_takes_the_fronts_correction_and_not_its_print():
    positions, parts, seen = _torso()
    correction = torch.zeros(len(parts), 3)
    correction[seen] = torch.tensor([-0.5, -0.5, -0.45])  # the photo is navy where the network guessed grey
    logo = seen & ((positions[:, :2] - torch.tensor([0.0, 0.4])).norm(dim=1) < 0.03)
    correction[logo] = torch.tensor([0.4, 0.3, -0.6])  # with a small yellow print on the chest
    carried = carry_changes(positions, parts, correction, seen)
    back = ~seen & (parts == 0)
    torch.testing.assert_close(carried[seen], correction[seen])  # what the photo shows stays
    torch.testing.assert_close(carried[back], torch.tensor([-0.5, -0.5, -0.45]).expand(int(back.sum()), 3),
                               atol=1e-6, rtol=0)  # navy all over the back: no ghost of the print
    assert (carried[parts == 1] == 0).all()  # a part the photo never shows: as the network guessed


def test_any_smooth_change_is_carried_a_shift_as_well_as_a_colour():
    positions, parts, seen = _torso()
    shift = torch.zeros(len(parts), 4)
    shift[seen, 0] = 0.02 * torch.sign(positions[seen, 0])  # the front widened by 2 cm on each side
    carried = carry_changes(positions, parts, shift, seen)
    edge = ~seen & (parts == 0) & (positions[:, 0].abs() > 0.1)
    torch.testing.assert_close(carried[edge, 0], 0.02 * torch.sign(positions[edge, 0]))  # so is the back
    nothing_seen = carry_changes(positions, parts, shift, torch.zeros_like(seen))
    assert (nothing_seen == 0).all()


def test_with_the_networks_colours_the_back_takes_the_correction_of_the_same_material():
    """A head: the network painted the seen top and the whole back brown (hair) and the seen face skin;
    the photo shows the hair black. The back's partner is the face, but its material is the hair's."""
    positions, parts, seen = _torso()
    positions = positions * 0.35  # head-sized: 10 x 21 cm, 7 cm deep
    brown, skin = torch.tensor([0.35, 0.25, 0.2]), torch.tensor([0.85, 0.65, 0.55])
    hair_seen = seen & (positions[:, 1] > 0.16)
    colours = torch.where((seen & ~hair_seen)[:, None], skin, brown)
    correction = torch.zeros(len(parts), 3)
    correction[hair_seen] = torch.tensor([0.05, 0.05, 0.05]) - brown  # black in the photo
    back = ~seen & (parts == 0) & (positions[:, 1] < 0.1)  # behind the face
    without = carry_changes(positions, parts, correction, seen)
    with_colours = carry_changes(positions, parts, correction, seen, colours)
    assert without[back].abs().max() < 1e-6  # the face's correction: none, the back stays brown
    torch.testing.assert_close(with_colours[back], (torch.tensor([0.05, 0.05, 0.05]) - brown).expand(
        int(back.sum()), 3), atol=1e-6, rtol=0)  # the hair's: black
    torch.testing.assert_close(with_colours[seen], correction[seen])


def test_the_torsos_back_leans_towards_the_colour_of_its_sides():
    """An open grey coat over a blue shirt: the photo shows blue between the coat's edges and grey at
    the sides. The network painted the back blue; it turns half-way to the coat's grey, whatever its
    height (no seam), while a back arm and a head above the torso keep their colour."""
    positions, parts, seen = _torso()
    chest, arm = PART_INDEX["chest"], PART_INDEX["left_upper_arm"]
    parts = torch.where(parts == 0, chest, arm)
    blue, grey, brown = torch.tensor([0.1, 0.2, 0.7]), torch.tensor([0.5, 0.5, 0.5]), torch.tensor([0.4, 0.3, 0.2])
    shirt = positions[:, 0].abs() < 0.08
    colours = torch.where((seen & ~shirt)[:, None], grey, blue).clone()
    colours[parts == arm] = brown
    out = outer_layer_colours(positions, parts, colours, seen)
    back = ~seen & (parts == chest)
    torch.testing.assert_close(out[seen], colours[seen])  # what the photo shows stays
    torch.testing.assert_close(out[back], ((1 - SIDE_WEIGHT) * blue + SIDE_WEIGHT * grey).expand(int(back.sum()), 3))
    torch.testing.assert_close(out[parts == arm], colours[parts == arm])  # not the torso
    above = positions + torch.tensor([0.0, 0.1, 0.0])  # a torso whose seen sides end 4 cm below the back's top
    above_seen = seen & (positions[:, 1] < 0.5)
    top = ~above_seen & (parts == chest) & (positions[:, 1] > 0.55)
    lifted = outer_layer_colours(above, parts, colours, above_seen)
    torch.testing.assert_close(lifted[top], colours[top])  # no side within reach: the carried guess


def test_a_material_the_network_invented_on_the_back_takes_the_photos_colour_around_it():
    """Black trousers: the network painted a thigh's back black with a pink blotch and a grey stripe the
    photo shows on the front too; the photo's black is a little lighter. The blotch turns the photo's
    black; the stripe (a material the photo shows), and the same pink on a head, stay as carried."""
    positions, parts, seen = _torso()
    thigh, head = PART_INDEX["left_thigh"], PART_INDEX["head"]
    parts = torch.where(parts == 0, thigh, head)
    black, pink, grey = torch.tensor([0.05, 0.05, 0.05]), torch.tensor([0.9, 0.6, 0.6]), torch.tensor([0.5, 0.5, 0.5])
    stripe = (positions[:, 0] - 0.1).abs() < 0.02
    blotch = ~seen & ((positions[:, :2] - torch.tensor([-0.05, 0.3])).norm(dim=1) < 0.06)
    network = torch.where(stripe[:, None], grey, black).clone()
    network[blotch | (parts == head)] = pink
    photo = torch.where(stripe[:, None], grey, torch.tensor([0.1, 0.1, 0.1]))
    colours = torch.where(seen[:, None], photo, network)  # as carried: the hidden keep the network's here
    invented = invented_materials(parts, network, seen)
    assert (invented[blotch & (parts == thigh)] == 1).all()
    assert (invented[~blotch] == 0).all()  # seen, black, the stripe, and the head whatever its colour
    out = unseen_materials(positions, parts, colours, seen, invented)
    torch.testing.assert_close(out[blotch & (parts == thigh)],
                               torch.tensor([0.1, 0.1, 0.1]).expand(int((blotch & (parts == thigh)).sum()), 3))
    torch.testing.assert_close(out[~blotch], colours[~blotch])
    between = network.clone()
    between[blotch] = black + (MATERIAL_NEAR + MATERIAL_FAR) / 2 / 3 ** 0.5  # half-way to another material
    torch.testing.assert_close(invented_materials(parts, between, seen)[blotch & (parts == thigh)],
                               torch.full((int((blotch & (parts == thigh)).sum()),), 0.5, dtype=torch.float64))


def test_an_invented_material_on_the_torsos_back_takes_its_sides_colour_whole():
    positions, parts, seen = _torso()
    chest = PART_INDEX["chest"]
    parts = torch.where(parts == 0, chest, PART_INDEX["left_upper_arm"])
    blue, grey = torch.tensor([0.1, 0.2, 0.7]), torch.tensor([0.5, 0.5, 0.5])
    colours = torch.where(seen[:, None], grey, blue)
    back = ~seen & (parts == chest)
    invented = back.double()
    out = outer_layer_colours(positions, parts, colours, seen, invented)
    torch.testing.assert_close(out[back], grey.expand(int(back.sum()), 3))
    assert unseen_materials(positions, parts, colours, seen, invented).equal(colours)  # left to the sides
    arm = parts == PART_INDEX["left_upper_arm"]  # never seen
    assert unseen_materials(positions, parts, colours, seen, arm.double()).equal(colours)  # nothing to take


def test_a_shoes_back_takes_the_photos_colour_even_where_the_network_painted_a_shown_material():
    """A foot the network painted grey all round and the photo shows white: its back is white, not grey
    moved by some carried correction, although grey is what the network painted the seen front too."""
    positions, parts, seen = _torso()
    foot = PART_INDEX["left_foot"]
    parts = torch.where(parts == 0, foot, PART_INDEX["left_shin"])
    network = torch.full((len(parts), 3), 0.5)
    white = torch.tensor([0.95, 0.95, 0.95])
    colours = torch.where(seen[:, None], white, network)
    invented = invented_materials(parts, network, seen)
    assert (invented[~seen & (parts == foot)] == 1).all() and (invented[seen | (parts != foot)] == 0).all()
    out = unseen_materials(positions, parts, colours, seen, invented)
    torch.testing.assert_close(out[parts == foot], white.expand(int((parts == foot).sum()), 3))
    torch.testing.assert_close(out[parts != foot], colours[parts != foot])  # the unseen shin: as carried


def test_the_hidden_sides_flecks_go_and_its_broad_colours_stay():
    """A navy back with light flecks the network invented, and a lower half of another colour: the flecks take
    the navy around them, the halves keep their colours, the seen front is untouched."""
    positions, parts, seen = _torso()
    navy, khaki, light = torch.tensor([0.1, 0.1, 0.3]), torch.tensor([0.6, 0.5, 0.3]), torch.tensor([0.9, 0.9, 0.8])
    lower = positions[:, 1] < 0.3
    colours = torch.where(lower[:, None], khaki, navy).clone()
    generator = torch.Generator().manual_seed(1)
    fleck = ~seen & (parts == 0) & (torch.rand(len(parts), generator=generator) < 0.05)
    colours[fleck] = light
    colours[seen] = torch.tensor([0.8, 0.2, 0.2])  # the photo's print on the front
    out = smoothed_hidden(positions, parts, colours, seen)
    torch.testing.assert_close(out[seen], colours[seen])
    back = ~seen & (parts == 0) & ((positions[:, 1] - 0.3).abs() > 0.08)  # away from the halves' seam
    expected = torch.where(lower[:, None], khaki, navy)
    torch.testing.assert_close(out[back], expected[back])
    assert bool(fleck[back].any())
