import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.evaluation.real import (
    box_similarity,
    mask_box,
    mirror_baseline,
    place_in_subject,
    render_box_aligned,
    render_view,
    summarise,
    turned_camera,
    view_scores,
)
from core.evaluation.real_data import find_subjects
from core.fit.result import CAMERA_VIEWMAT, BodyFit
from core.metrics import mask_iou

SHARED = Path(__file__).resolve().parents[4] / "shared" / "realback"


def test_box_similarity_and_the_turned_camera():
    similarity = box_similarity((10, 20, 30, 60), (100, 0, 140, 80))
    corners = similarity @ np.array([[10, 30], [20, 60], [1, 1]], float)
    np.testing.assert_allclose(corners[:2].T, [[100, 0], [140, 80]])  # height matched, centre on centre
    viewmat = turned_camera(CAMERA_VIEWMAT, np.array([0.0, 0.0, -3.0]))
    left = np.array([0.3, 0.0, -3.0, 1.0])  # the person's left (+x), 3 m in front of the camera
    x_front, x_back = (CAMERA_VIEWMAT @ left)[0], (viewmat @ left)[0]
    assert x_front > 0 > x_back  # seen from behind, the left is on the image's left
    np.testing.assert_allclose(np.linalg.inv(viewmat)[:3, 3], [0.0, 0.0, -6.0], atol=1e-12)


def _fit_world(figure, distance: float = 4.0) -> tuple[object, BodyFit]:
    """The figure as a fit would have it: in front of the fit camera, with a 40° lens on a 256² photo."""
    cloud = figure.transformed(1.0, torch.eye(3), torch.tensor([0.1, 0.05, -distance]))
    focal = 128 / np.tan(np.radians(20))
    fit = BodyFit("anny", np.zeros(6), np.zeros((55, 3)), np.zeros(3), [[focal, 0, 128], [0, focal, 128], [0, 0, 1]],
                  (256, 256))
    return cloud, fit


def test_an_avatar_true_to_the_person_scores_like_the_truth(benchmark, figure):
    """The drawn figure itself, reconstructed 'perfectly' but placed where a fit would put it, is aligned
    onto the truth's back view and onto the calibrated side views: near-perfect silhouettes."""
    pair, table = find_subjects(benchmark["root"])
    cloud, fit = _fit_world(figure)
    lo, hi = cloud.bounds()
    back = render_box_aligned(cloud, turned_camera(fit.viewmat, ((lo + hi) / 2).double().numpy()), pair.hidden[0],
                              pair.background)
    assert mask_iou(back.alpha, pair.hidden[0].mask) > 0.93
    scores = view_scores(back, pair.hidden[0])
    assert scores["psnr"] > 18 and scores["iou"] > 0.93 and scores["parts"]["upper"] < 15
    placed = place_in_subject(cloud, fit, table.front, table.background)
    for view in table.hidden:
        seen = render_view(placed, view.viewmat, view.K, 512, 512, table.background)
        assert mask_iou(seen.alpha, view.mask) > 0.9, view.name
    mirror = mirror_baseline(pair.front, pair.hidden[0], pair.background)
    assert mask_iou(mirror.alpha, pair.hidden[0].mask) > 0.9  # the figure is nearly symmetric
    assert abs(np.subtract(mask_box(mirror.alpha), mask_box(pair.hidden[0].mask))).max() <= 2


def test_a_wrong_avatar_scores_worse(benchmark, figure):
    pair, _ = find_subjects(benchmark["root"])
    cloud, fit = _fit_world(figure)
    lo, hi = cloud.bounds()
    centre = ((lo + hi) / 2).double().numpy()
    fat = cloud.transformed(1.0, torch.diag(torch.tensor([1.6, 1.0, 1.6])), torch.tensor(centre * [-0.6, 0, -0.6],
                                                                                          dtype=torch.float32))
    bloated = render_box_aligned(fat, turned_camera(fit.viewmat, centre), pair.hidden[0], pair.background)
    good = render_box_aligned(cloud, turned_camera(fit.viewmat, centre), pair.hidden[0], pair.background)
    assert view_scores(bloated, pair.hidden[0])["iou"] < view_scores(good, pair.hidden[0])["iou"] - 0.1
    grey = cloud.__class__(cloud.means, cloud.quats, cloud.log_scales, cloud.opacity_logits, cloud.sh * 0)
    painted = render_box_aligned(grey, turned_camera(fit.viewmat, centre), pair.hidden[0], pair.background)
    assert view_scores(painted, pair.hidden[0])["parts"]["upper"] > 10  # a grey shirt is not a blue one


@pytest.mark.slow
def test_eval_real_on_the_shared_people(tmp_path):
    """The command end to end on one real person: avatar, network and mirror baseline scored side by side."""
    if not SHARED.is_dir():
        pytest.skip("the shared real-people views (../shared/realback) are absent")
    from cli import main

    report, sheet = tmp_path / "eval-real.json", tmp_path / "sheet.png"
    assert main(["eval", "real", str(SHARED), "--limit", "1", "--preset", "fast", "--sheet", str(sheet),
                 "-o", str(report)]) == 0
    results = json.loads(report.read_text())
    assert results["benchmark"] == "eval-real" and results["failed"] == []
    row = results["subjects"][0]
    assert set(row["views"]["back"]) == {"refined", "network", "mirror"}
    for method in ("refined", "network"):
        back = row["views"]["back"][method]
        assert 5 < back["psnr"] < 40 and 0.5 < back["iou"] <= 1 and 0 <= back["iou_mirror_front"] <= 1
        assert set(back["parts"]) >= {"upper", "lower", "skin"}
    assert row["views"]["back"]["mirror"]["iou"] > 0.95
    summary = results["summary"]
    assert summary["back_views"] == 1 and summary["refined"]["back_psnr"] == pytest.approx(
        row["views"]["back"]["refined"]["psnr"])
    from PIL import Image

    assert Image.open(sheet).size[0] > 4 * 200  # front | truth | refined | network | mirror


def test_summary_averages_views_by_kind():
    def scores(psnr):
        return {"psnr": psnr, "ssim": 0.5, "iou": 0.9, "parts": {"upper": psnr / 10}}

    rows = [{"input": {"refined": {"psnr_db": 30.0, "iou": 0.95}, "network": {"psnr_db": 20.0, "iou": 0.9}},
             "views": {"back": {"refined": scores(14.0), "network": scores(12.0), "mirror": scores(13.0)}}},
            {"input": {"refined": {"psnr_db": 32.0, "iou": 0.97}, "network": {"psnr_db": 22.0, "iou": 0.9}},
             "views": {"view180": {"refined": scores(10.0), "network": scores(9.0), "mirror": scores(12.0)},
                       "view090": {"refined": scores(8.0), "network": scores(7.0)}}}]
    summary = summarise(rows)
    assert summary["refined"]["back_psnr"] == 12.0 and summary["refined"]["side_psnr"] == 8.0
    assert summary["mirror"]["back_parts"]["upper"] == pytest.approx(1.25)
    assert summary["refined"]["input_psnr"] == 31.0 and "side_psnr" not in summary["mirror"]
    assert summary["refined_beats_mirror_back"] == 1 and summary["back_views"] == 2
    methods = ("refined", "network", "mirror")
    outlier = {"input": rows[0]["input"], "views": {"back": {m: scores(90.0) for m in methods}}}
    parts = summarise([*rows, outlier])["refined"]
    assert parts["back_parts"]["upper"] == pytest.approx(3.8)  # (1.4 + 1.0 + 9.0) / 3
    assert parts["back_parts_median"]["upper"] == pytest.approx(1.4)
