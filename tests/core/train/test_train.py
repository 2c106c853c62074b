import json

import pytest
import torch

from core.recon.model import ModelConfig
from core.train.dataset import generate
from core.train.train import TrainConfig, TrainingError, load_config, train

TINY = ModelConfig(image_size=48, channels=(8, 16, 16, 32), dim=32, heads=2, layers=1)


@pytest.fixture(scope="module")
def data(tmp_path_factory, anny_body):
    return generate(tmp_path_factory.mktemp("data"), anny_body, train=4, heldout=2, size=48, points=300)


def test_train_checkpoints_evaluates_and_resumes(tmp_path, data):
    config = TrainConfig(steps=6, batch=2, warmup=2, eval_every=3, log_every=1)
    first = train(data, tmp_path, TINY, config, log=lambda _: None)
    assert set(first) == {"psnr_all", "psnr_hidden", "psnr_baseline_all", "psnr_baseline_hidden"}
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    assert meta["step"] == 6 and meta["model"]["dim"] == 32
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if "colour" in r] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in lines if "eval" in r] == [3, 6]
    more = TrainConfig(steps=9, batch=2, warmup=2, eval_every=3, log_every=1)
    train(data, tmp_path, TINY, more, resume=True, log=lambda _: None)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["step"] == 9
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps[-1] == 9 and 7 in steps  # continued from step 6


def test_loss_falls_when_overfitting(tmp_path, data):
    train(data, tmp_path, TINY, TrainConfig(steps=60, batch=4, warmup=5, learning_rate=3e-3, eval_every=60,
                                            log_every=1), log=lambda _: None)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    colour = [r["colour"] for r in rows if "colour" in r]
    assert sum(colour[-10:]) < 0.6 * sum(colour[:10])


def test_config_and_size_errors(tmp_path, data):
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(TrainingError, match="cannot read the training config"):
        load_config(tmp_path / "bad.json")
    with pytest.raises(TrainingError, match="expects 128²"):
        train(data, tmp_path / "out", ModelConfig(), TrainConfig(steps=1), log=lambda _: None)
    with pytest.raises(TrainingError, match="cannot resume"):
        train(data, tmp_path / "fresh", TINY, TrainConfig(steps=1), resume=True, log=lambda _: None)


def test_two_gloo_processes_train_in_step(tmp_path, data):
    from core.train.distributed import launch

    config = TrainConfig(steps=4, batch=2, warmup=1, eval_every=100, log_every=1)
    launch(2, data, tmp_path, TINY, config)
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    assert meta["step"] == 4
    assert meta["evaluation"]["processes"] == 2 and meta["evaluation"]["ranks_identical"] is True
    single = tmp_path / "single"
    train(data, single, TINY, config, log=lambda _: None)  # one process, same seed: different batches
    from safetensors.torch import load_file

    assert any(not (a == b).all() for a, b in zip(load_file(str(tmp_path / "model.safetensors")).values(),
                                                   load_file(str(single / "model.safetensors")).values(), strict=True))


def test_render_losses_train_and_are_recorded(tmp_path, data):
    from safetensors.torch import load_file

    from core.train.render_loss import RenderLossConfig

    config = TrainConfig(steps=3, batch=2, warmup=1, eval_every=3, log_every=1,
                         render=RenderLossConfig(people=1, views=1, size=32))
    train(data, tmp_path / "a", TINY, config, log=lambda _: None)
    rows = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert all({"render", "ssim", "mask", "asap", "acap"} <= set(r) for r in rows if "colour" in r)
    (tmp_path / "config.json").write_text(json.dumps(json.loads((tmp_path / "a" / "checkpoint.json").read_text())))
    _, again = load_config(tmp_path / "config.json")
    assert again.render == config.render
    # fine-tuning starts from the given weights (zero learning rate: they stay as they were)
    start = TrainConfig(steps=1, batch=2, warmup=1, learning_rate=0.0, init=str(tmp_path / "a"))
    train(data, tmp_path / "b", TINY, start, log=lambda _: None)
    before, after = (load_file(str(tmp_path / f / "model.safetensors")) for f in ("a", "b"))
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_fine_tuning_refuses_other_query_points(tmp_path, data, anny_body):
    other = generate(tmp_path / "other", anny_body, train=1, heldout=0, size=48, points=200)
    train(other, tmp_path / "model", TINY, TrainConfig(steps=1, batch=1, warmup=1), log=lambda _: None)
    with pytest.raises(TrainingError, match="other query points"):
        train(data, tmp_path / "b", TINY, TrainConfig(steps=1, init=str(tmp_path / "model")), log=lambda _: None)


def test_a_configs_init_is_found_from_any_working_folder(tmp_path, monkeypatch):
    from pathlib import Path

    from core.resources import shipped_model_dir

    _, shipped = load_config(shipped_model_dir() / "config.json")
    assert Path(shipped.init).resolve() == shipped_model_dir().resolve()  # "." : the network it ships with
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "tune.json").write_text(json.dumps({"train": {"init": "../models/mine"}}))
    (folder / "absolute.json").write_text(json.dumps({"train": {"init": str(tmp_path / "elsewhere")}}))
    monkeypatch.chdir(tmp_path / "configs")
    assert Path(load_config(folder / "tune.json")[1].init).resolve() == (tmp_path / "models" / "mine").resolve()
    assert load_config(folder / "absolute.json")[1].init == str(tmp_path / "elsewhere")
    assert load_config(None)[1].init == ""
