import math

import numpy as np
import pytest
import torch

from core.body.parts import PART_INDEX
from core.recon.model import Prediction
from core.train.dataset import generate, load_split
from core.train.render_loss import TRUE_OPACITY, RenderLossConfig, disc_spacing, render_terms, true_log_scale
from core.train.train import batch_tensors


@pytest.fixture(scope="module")
def people(tmp_path_factory, anny_body):
    folder = generate(tmp_path_factory.mktemp("render-data"), anny_body, train=2, heldout=0, size=48, points=400)
    _, query, arrays = load_split(folder, "train")
    return query, batch_tensors(arrays, np.arange(2))


def _truth(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Prediction fields equal to the ground truth (disc shape kept, surface-frame identity rotation)."""
    b, p = batch["offset"].shape
    lifted = batch["canonical"] + batch["offset"][..., None] * batch["frame"][..., 2].float()
    return {"colour": batch["albedo"].clone(), "offset": batch["offset"].clone(),
            "log_scale": true_log_scale(batch["canonical"], lifted)[..., None].expand(b, p, 3).clone(),
            "rotation": torch.tensor([1.0, 0, 0, 0]).expand(b, p, 4).clone(),
            "opacity_logit": torch.full((b, p), math.log(TRUE_OPACITY / (1 - TRUE_OPACITY)))}


def _terms(fields: dict[str, torch.Tensor], people, **options) -> dict[str, torch.Tensor]:
    query, batch = people
    config = RenderLossConfig(size=48, **options)
    return render_terms(Prediction(**fields), batch, query.parts, config, np.random.default_rng(0))


def test_the_truth_has_no_render_loss_and_errors_do(people):
    perfect = _terms(_truth(people[1]), people)
    assert float(perfect["render"]) < 1e-10 and float(perfect["mask"]) < 1e-10 and float(perfect["ssim"]) < 1e-5
    assert float(perfect["asap"]) < 1e-12 and float(perfect["acap"]) == 0
    wrong = _truth(people[1])
    wrong["colour"] = 1 - wrong["colour"]
    assert float(_terms(wrong, people)["render"]) > 0.01


def test_head_and_hand_pixels_count_double(people):
    query, batch = people
    fields = _truth(batch)
    detail = torch.isin(query.parts, torch.tensor([PART_INDEX["head"], PART_INDEX["left_hand"]]))
    assert detail.any()
    fields["colour"][:, detail] = 1 - fields["colour"][:, detail]  # wrong only on the head and a hand
    once, twice = (float(_terms(fields, people, detail_weight=w)["render"]) for w in (1.0, 2.0))
    assert twice > 1.3 * once


def test_render_loss_teaches_scale_rotation_and_opacity(people):
    """Gradients reach the shape heads, and following them recovers the true disc size."""
    fields = _truth(people[1])
    fields["log_scale"] = torch.full_like(fields["log_scale"], 0.8)  # discs 2.2x too large
    fields["opacity_logit"] = torch.zeros_like(fields["opacity_logit"])  # half transparent
    shape = {k: fields[k].requires_grad_() for k in ("log_scale", "rotation", "opacity_logit")}
    first = _terms(fields, people, ssim_weight=0.0)
    sum(first.values()).backward()
    assert all(float(v.grad.abs().sum()) > 0 for v in shape.values())
    optimiser = torch.optim.Adam([shape["log_scale"], shape["opacity_logit"]], lr=0.05)
    for _ in range(40):
        optimiser.zero_grad()
        last = sum(_terms(fields, people, ssim_weight=0.0).values())
        last.backward()
        optimiser.step()
    assert float(last.detach()) < 0.5 * float(sum(first.values()).detach())
    with torch.no_grad():  # the in-surface axes (seen from every camera) shrink towards the true disc
        assert float(shape["log_scale"][..., :2].mean()) < 0.45
        # overlapping discs make opacity weakly determined, but it must rise from 0.5 towards the truth
        assert float(torch.sigmoid(shape["opacity_logit"]).mean()) > 0.51


def test_offsets_beyond_the_margin_are_penalised(people):
    fields = _truth(people[1])
    fields["offset"] = torch.full_like(fields["offset"], 0.05)
    assert float(_terms(fields, people, margin=0.03)["acap"]) == pytest.approx(10.0 * 0.02 ** 2, rel=1e-3)
    assert float(_terms(fields, people, margin=0.06)["acap"]) == 0


def test_disc_spacing_matches_a_regular_grid():
    grid = torch.stack(torch.meshgrid(torch.arange(20.0), torch.arange(20.0), indexing="ij"), -1).reshape(-1, 2)
    points = torch.cat([grid * 0.01, torch.zeros(400, 1)], -1)[None]
    assert float(disc_spacing(points)[0]) == pytest.approx(0.0125)


def test_true_discs_widen_where_garments_stand_off(people):
    """Points lifted off the body lie farther apart, most around thin limbs; the true discs widen by as
    much (never more than MAX_SPREAD), and not at all on the skin."""
    from core.body.parts import PART_INDEX
    from core.body.surface import MAX_SPREAD

    query, batch = people
    canonical, normals = batch["canonical"], batch["frame"][..., 2].float()
    assert float(true_log_scale(canonical, canonical).abs().max()) < 1e-6
    widened = true_log_scale(canonical, canonical + 0.05 * normals)
    assert float(widened.max()) <= math.log(MAX_SPREAD) + 1e-6
    arms = torch.isin(query.parts, torch.tensor([PART_INDEX[p] for p in PART_INDEX if "arm" in p]))
    assert float(widened[:, arms].median()) > math.log(1.5) > float(widened[:, ~arms].median())
