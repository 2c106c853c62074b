"""The avatar bundle: one ``.avatar`` file that reopens an avatar losslessly.

A ZIP archive (no pickles anywhere) holding::

    manifest.json   {"format": "avatarium-avatar", "version": 1, "body_model": "anny", "shape": [...],
                     "gaussians": N, "created": "2026-…Z", "avatarium": "x.y.z"}
    gaussians.ply   the Gaussians in the body model's rest pose (3DGS layout, core.io.ply)
    binding.npz     triangles [N] int64, barycentric [N, 3], bone_indices [N, k] int64,
                    bone_weights [N, k], bone_parents [K] int64 (NumPy, allow_pickle=False)
    fit.json        the body fit (core.fit.result), when there is one
    thumbnail.png   the source photo, small, when there is one

Written atomically; reading checks the archive's size before inflating anything and every array's
shape and range, and raises :class:`BundleError` naming the file and the problem.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import core
from core.avatar.avatar import Avatar
from core.avatar.binding import Binding
from core.fit.result import BodyFit, FitFileError
from core.io.archive import DAMAGED_ARCHIVE
from core.io.atomic import atomic_path
from core.io.errors import read_errors_as
from core.io.ply import PlyError, encode_ply, read_ply
from core.limits import how_to_raise, limit

FORMAT = "avatarium-avatar"
VERSION = 1
_BINDING = ("triangles", "barycentric", "bone_indices", "bone_weights", "bone_parents")


class BundleError(ValueError):
    """An avatar bundle cannot be read; the message names the file and the problem."""


@dataclass
class Bundle:
    avatar: Avatar
    fit: BodyFit | None = None
    thumbnail: np.ndarray | None = None  # [h, w, 3] uint8


def save_bundle(path: str | os.PathLike[str], avatar: Avatar, fit: BodyFit | None = None,
                thumbnail: np.ndarray | None = None) -> Path:
    """Write ``avatar`` (and its fit and a photo thumbnail) to ``path`` atomically."""
    from PIL import Image

    target = Path(path)
    manifest = {"format": FORMAT, "version": VERSION, "body_model": avatar.body_model,
                "shape": [float(v) for v in avatar.shape], "gaussians": len(avatar.cloud),
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "avatarium": core.__version__}
    binding = avatar.binding
    arrays = {"triangles": binding.triangles.long().numpy(), "barycentric": binding.barycentric.float().numpy(),
              "bone_indices": binding.bone_indices.long().numpy(), "bone_weights": binding.bone_weights.float().numpy(),
              "bone_parents": np.asarray(binding.bone_parents, np.int64)}
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        archive.writestr("gaussians.ply", encode_ply(avatar.cloud))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        archive.writestr("binding.npz", buffer.getvalue())
        if fit is not None:
            archive.writestr("fit.json", fit.to_json())
        if thumbnail is not None:
            image = Image.fromarray(np.asarray(thumbnail, np.uint8))
            image.thumbnail((256, 256))
            png = io.BytesIO()
            image.save(png, format="PNG")
            archive.writestr("thumbnail.png", png.getvalue())
    return target


def load_bundle(path: str | os.PathLike[str], max_bytes: int | None = None) -> Bundle:
    """Read a bundle written by :func:`save_bundle`; ``max_bytes`` bounds the unpacked size (default
    :func:`core.limits.limit` ``("bundle_bytes")``)."""
    path = Path(path)
    max_bytes = limit("bundle_bytes", max_bytes)
    name = path.name

    def fail(problem: str) -> BundleError:
        return BundleError(f"{name}: {problem}")

    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise fail("does not exist") from None
    except DAMAGED_ARCHIVE as exc:
        raise fail(f"is not an Avatarium avatar bundle ({exc})") from None
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        total = sum(info.file_size for info in members.values())
        if total > max_bytes:
            raise fail(f"unpacks to {total / 1e9:.1f} GB, more than the {max_bytes / 1e9:.1f} GB limit; "
                       f"{how_to_raise('bundle_bytes')}")
        for required in ("manifest.json", "gaussians.ply", "binding.npz"):
            if required not in members:
                raise fail(f"lacks {required} (not a complete avatar bundle)")
        with read_errors_as(BundleError, f"{name}: is damaged", (KeyError, TypeError, RecursionError, *DAMAGED_ARCHIVE),
                            readers=(PlyError, FitFileError)):
            manifest = json.loads(archive.read("manifest.json"))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise fail("is not an Avatarium avatar bundle (wrong manifest format)")
            if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
                raise fail(f"bundle version {manifest.get('version')!r} is newer than this build reads ({VERSION})")
            with tempfile.TemporaryDirectory() as tmp:
                ply = Path(tmp) / "gaussians.ply"
                ply.write_bytes(archive.read("gaussians.ply"))
                cloud = read_ply(ply)
            with np.load(io.BytesIO(archive.read("binding.npz")), allow_pickle=False) as data:
                arrays = {key: data[key] for key in _BINDING}
            fit = BodyFit.from_dict(json.loads(archive.read("fit.json")), f"{name}/fit.json") \
                if "fit.json" in members else None
            thumbnail = _read_png(archive.read("thumbnail.png")) if "thumbnail.png" in members else None
            shape = np.asarray(manifest["shape"], np.float32)
            body_model = str(manifest["body_model"])
    count = len(cloud)
    binding = _check_binding(arrays, count, fail)
    if manifest.get("gaussians") != count:
        raise fail(f"the manifest promises {manifest.get('gaussians')} Gaussians but gaussians.ply has {count}")
    return Bundle(Avatar(cloud, binding, body_model, shape), fit, thumbnail)


def _check_binding(arrays: dict[str, np.ndarray], count: int, fail) -> Binding:
    triangles, barycentric = arrays["triangles"], arrays["barycentric"]
    indices, weights, parents = arrays["bone_indices"], arrays["bone_weights"], arrays["bone_parents"]
    if triangles.shape != (count,) or barycentric.shape != (count, 3) or indices.ndim != 2 \
            or indices.shape[0] != count or weights.shape != indices.shape or parents.ndim != 1:
        raise fail("binding.npz does not match the Gaussians (array shapes)")
    for label, array in (("barycentric", barycentric), ("bone_weights", weights)):
        if not np.issubdtype(array.dtype, np.floating) or not np.isfinite(array).all():
            raise fail(f"binding.npz has invalid {label}")
    for label, array in (("triangles", triangles), ("bone_indices", indices), ("bone_parents", parents)):
        if not np.issubdtype(array.dtype, np.integer):
            raise fail(f"binding.npz has non-integer {label}")
    if len(indices) and (indices.min() < 0 or indices.max() >= len(parents)) or (triangles < 0).any():
        raise fail("binding.npz refers to bones or triangles that do not exist")
    return Binding(torch.from_numpy(triangles.astype(np.int64)), torch.from_numpy(barycentric.astype(np.float32)),
                   torch.from_numpy(indices.astype(np.int64)), torch.from_numpy(weights.astype(np.float32)),
                   tuple(int(p) for p in parents))


def _read_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
