import dataclasses

import numpy as np
import torch

from core.evaluation.refinement import aligned_gaussians, evaluate_refinement
from core.fit.overlay import posed_body
from core.fit.result import BodyFit
from core.train.synthetic import render_person


def test_refinement_is_scored_from_the_input_and_novel_views(anny_body, tiny_model):
    report = evaluate_refinement(tiny_model[0], anny_body, "true", count=1, size=128, views=4, preset="balanced")
    scores = report["people"][0]
    assert set(scores) == {"person", "network", "refined"} and report["failed"] == []
    for method in ("network", "refined"):
        assert set(scores[method]) == {"psnr_input", "psnr_novel", "psnr_back", "ssim_novel", "iou_novel"}
        assert 0.5 < scores[method]["iou_novel"] <= 1.0 and 0 < scores[method]["ssim_novel"] <= 1.0
    # refinement copies the photo: the input view improves whatever the network (here barely trained)
    assert scores["refined"]["psnr_input"] > scores["network"]["psnr_input"] + 3.0
    assert report["summary"]["refined_beats_network_novel"] in (0, 1)


def test_alignment_undoes_what_one_photo_cannot_tell(anny_body, tiny_model):
    """An avatar fitted in the wrong place (farther away, off to the side) lands on the true body."""
    from core.recon.avatar_builder import build_avatar
    from core.recon.loading import load_network
    from core.recon.model import Prediction

    person = render_person(anny_body, np.random.default_rng(3), size=96, splats=5000)
    _, query, _ = load_network(tiny_model[0])
    count = len(query.triangles)
    flat = Prediction(torch.full((1, count, 3), 0.5), torch.zeros(1, count), torch.zeros(1, count, 3),
                      torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), torch.zeros(1, count))
    truth = BodyFit("anny", person.shape, person.pose, person.root, person.K, (96, 96))
    avatar = build_avatar(anny_body, query, person.shape, flat, 3000)
    farther = dataclasses.replace(truth, root=person.root + np.array([0.1, 0.0, -0.5], np.float32))
    aligned = aligned_gaussians(avatar, anny_body, farther, posed_body(anny_body, truth).vertices[0].numpy())
    exact = avatar.posed(anny_body, torch.tensor(truth.pose), torch.tensor(truth.root))
    torch.testing.assert_close(aligned.means, exact.means, atol=1e-4, rtol=0)
    torch.testing.assert_close(aligned.scales(), exact.scales(), atol=1e-6, rtol=1e-4)
