import torch

from core.evaluation.heldout import evaluate_synthetic, network_inputs


def test_a_dataset_of_another_photo_size_is_resampled_to_the_networks():
    batch = {"image": torch.rand(2, 3, 64, 64), "mask": torch.rand(2, 1, 64, 64), "canonical": torch.rand(2, 5, 3),
             "uv": torch.tensor([[[32.0, 16.0]] * 5] * 2), "visible": torch.ones(2, 5), "facing": torch.ones(2, 5)}
    same = network_inputs(batch, 64)
    assert same["image"] is batch["image"] and same["uv"] is batch["uv"]
    small = network_inputs(batch, 48)
    assert small["image"].shape == (2, 3, 48, 48) and small["mask"].shape == (2, 1, 48, 48)
    torch.testing.assert_close(small["uv"][0, 0], torch.tensor([24.0, 12.0]))  # the same point of the photo
    torch.testing.assert_close(small["image"].mean(), batch["image"].mean(), atol=0.01, rtol=0)


def test_a_network_is_scored_on_a_dataset_made_at_another_size(anny_body, tiny_model, tmp_path):
    """The tiny network reads 48² photos; its layout's people rendered at 64² are scored all the same."""
    from core.recon.query import load_layout
    from core.train.dataset import generate

    model, _ = tiny_model
    data = generate(tmp_path / "data", anny_body, train=0, heldout=1, size=64, query=load_layout(model))
    report = evaluate_synthetic(model, data, anny_body, views=2)
    assert set(report["summary"]) >= {"network", "baseline", "untrained"}
    assert 0 < report["summary"]["network"]["psnr_novel"] < 60
