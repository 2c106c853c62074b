import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, anny_body):
    """A tiny network trained for two steps on a tiny synthetic dataset: (model folder, data folder)."""
    from core.recon.model import ModelConfig
    from core.train.dataset import generate
    from core.train.train import TrainConfig, train

    root = tmp_path_factory.mktemp("tiny")
    data = generate(root / "data", anny_body, train=2, heldout=1, size=48, points=300)
    train(data, root / "model", ModelConfig(image_size=48, channels=(8, 8, 16, 16), dim=16, heads=2, layers=1),
          TrainConfig(steps=2, batch=2, warmup=1, eval_every=2), log=lambda _: None)
    return root / "model", data
