import torch

from core.body.parts import PART_INDEX, on_parts


def test_on_parts_marks_the_named_parts_over_any_batch():
    parts = torch.tensor([[PART_INDEX["chest"], PART_INDEX["head"]], [PART_INDEX["hips"], PART_INDEX["left_hand"]]])
    assert on_parts(parts, ("chest", "hips")).tolist() == [[True, False], [True, False]]
    assert not on_parts(parts, ()).any()
