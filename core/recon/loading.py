"""Trained network folders: ``model.safetensors``, ``checkpoint.json`` (the model's configuration)
and ``query.npz`` (its query-point layout), read back into a ready network."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.io.errors import read_errors_as
from core.recon.model import ModelConfig, ReconstructionNet
from core.recon.query import LayoutError, QueryPoints


class ModelError(ValueError):
    """A model folder is missing files or holds another network; the message says which."""


def build_model(config: ModelConfig, query: QueryPoints) -> ReconstructionNet:
    """An untrained network for ``config`` at the points of ``query``."""
    return ReconstructionNet(config, query.neighbours, query.weights, query.mirror, query.opposite, query.parts,
                             len(query.anchors))


def load_weights(model: ReconstructionNet, path: Path) -> None:
    """Load safetensors weights into ``model``; ModelError if they are not this network's."""
    from safetensors.torch import load_file

    try:
        model.load_state_dict(load_file(str(path)))
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelError(f"{path} does not hold this network's weights ({exc})") from None


def load_network(folder: str | os.PathLike[str]) -> tuple[ReconstructionNet, QueryPoints, dict]:
    """The trained network in ``folder`` (model.safetensors, checkpoint.json, query.npz)."""
    folder = Path(folder)
    for name in ("model.safetensors", "checkpoint.json", "query.npz"):
        if not (folder / name).is_file():
            raise ModelError(f"{folder} has no {name}: not a trained Avatarium network folder")
    with read_errors_as(ModelError, f"{folder} does not hold a usable network",
                        (OSError, ValueError, TypeError, RecursionError, RuntimeError), readers=(LayoutError,)):
        meta = json.loads((folder / "checkpoint.json").read_bytes()[:10_000_000])
        if not isinstance(meta, dict):
            raise ModelError(f"{folder}/checkpoint.json is not a checkpoint (not a JSON object)")
        query = QueryPoints.load(folder / "query.npz")
        model = build_model(ModelConfig.from_dict(meta.get("model", {})), query)
        load_weights(model, folder / "model.safetensors")
    return model.train(False), query, meta
