"""Query-point layouts are data: datasets are made for a model's layout, never recomputed to match it."""

import json

import numpy as np
import pytest
import torch

from core.recon.query import LayoutError, load_layout, same_layout
from core.resources import resource_path
from core.train.dataset import DatasetError, load_split

SHIPPED = resource_path("models", "avatarium-small")


@pytest.fixture(scope="module")
def shipped_size() -> int:
    return json.loads((SHIPPED / "checkpoint.json").read_text())["model"]["image_size"]


@pytest.fixture(scope="module")
def default_data(tmp_path_factory, shipped_size):
    """`avatarium synth` with default options (and the shipped network's photo size)."""
    from cli import main

    folder = tmp_path_factory.mktemp("synth") / "data"
    assert main(["synth", str(folder), "--train", "2", "--heldout", "2", "--size", str(shipped_size)]) == 0
    return folder


def test_synth_uses_the_shipped_networks_layout_by_default(default_data):
    _, query, _ = load_split(default_data, "heldout")
    assert same_layout(query, load_layout(SHIPPED))


def test_the_shipped_network_is_scored_on_new_people(default_data, tmp_path):
    from cli import main

    report = tmp_path / "eval.json"
    assert main(["eval", "synthetic", "--model", str(SHIPPED), "--data", str(default_data), "--views", "4",
                 "-o", str(report)]) == 0
    summary = json.loads(report.read_text())["summary"]
    assert summary["network"]["psnr_novel"] > summary["untrained"]["psnr_novel"] + 2.0  # it was trained


def test_fine_tuning_starts_from_the_shipped_weights(default_data, tmp_path):
    from core.recon.loading import load_network
    from core.train.train import TrainConfig, batch_tensors, load_config, loss_terms, predict, train

    model_config, _ = load_config(SHIPPED / "config.json")
    config = TrainConfig(steps=1, batch=2, warmup=1, eval_every=10, log_every=1, points=0, init=str(SHIPPED))
    train(default_data, tmp_path / "tuned", model_config, config, log=lambda _: None)
    first = json.loads((tmp_path / "tuned" / "metrics.jsonl").read_text().splitlines()[0])
    # the same batch through the shipped network, before any step
    _, query, arrays = load_split(default_data, "train")
    rng = np.random.default_rng([config.seed, 0, 0])
    batch = batch_tensors(arrays, rng.integers(0, len(arrays["image"]), config.batch))
    shipped, _, _ = load_network(SHIPPED)
    with torch.no_grad():
        expected = loss_terms(predict(shipped.train(), batch), batch, config, query, rng)
    assert first["colour"] == pytest.approx(float(expected["colour"]), abs=2e-6)
    fresh = TrainConfig(steps=1, batch=2, warmup=1, eval_every=10, log_every=1, points=0)
    train(default_data, tmp_path / "fresh", model_config, fresh, log=lambda _: None)
    scratch = json.loads((tmp_path / "fresh" / "metrics.jsonl").read_text().splitlines()[0])
    assert abs(scratch["colour"] - first["colour"]) > 1e-3


def test_another_layout_is_refused_with_what_to_run(tmp_path, anny_body, shipped_size):
    from core.train.dataset import generate
    from core.train.train import TrainConfig, TrainingError, load_config, train

    other = generate(tmp_path / "other", anny_body, train=1, heldout=1, size=shipped_size, points=500)
    from core.evaluation.heldout import evaluate_synthetic

    with pytest.raises(DatasetError, match=f"avatarium synth NEW_FOLDER --query {SHIPPED}"):
        evaluate_synthetic(SHIPPED, other, anny_body)
    model_config, _ = load_config(SHIPPED / "config.json")
    with pytest.raises(TrainingError, match="avatarium synth NEW_FOLDER --query"):
        train(other, tmp_path / "out", model_config, TrainConfig(steps=1, init=str(SHIPPED)), log=lambda _: None)
    assert not (tmp_path / "out").exists()  # nothing half-written
    with pytest.raises(LayoutError, match="neither a query.npz file nor a folder"):
        load_layout(tmp_path / "nowhere")
