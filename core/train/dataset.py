"""The synthetic training set on disk: rendered input photos plus per-query-point ground truth.

Layout of a dataset folder (all arrays NumPy ``.npz`` without pickles, written atomically)::

    manifest.json            {"format": "avatarium-synthetic", "version": 2, "body_model": "anny",
                              "size": S, "points": P, "seed": s, "splits": {"train": n, "heldout": m},
                              "shard_size": k}
    query.npz                the query points shared by every subject (see QueryPoints): a model's
                             layout (by default the shipped network's), so that the model can be
                             scored and fine-tuned on it; layouts are data, never recomputed to match
    train-0000.npz …         k subjects per shard, arrays stacked on the first axis:
    heldout-0000.npz …         image [k, S, S, 3] uint8 (the input photo), mask [k, S, S] uint8,
                               (a detector-like mask: the outline grown or shrunk and softened),
                               K [k, 3, 3], shape [k, 6], pose [k, 55, 3], root [k, 3] (world frame,
                               camera at the origin looking down −Z), canonical [k, P, 3] (T-pose
                               positions of the query points, metres), frame [k, P, 3, 3] float16
                               (their T-pose surface frames, columns: tangent, bitangent, outward
                               normal), uv [k, P, 2] (their posed
                               projection, input pixels), visible [k, P] uint8, facing [k, P] float16
                               (normal · direction to the camera), albedo [k, P, 3] uint8 (unlit
                               ground-truth colour), offset [k, P] float16 (ground-truth outward
                               offset, metres), seed [k] int64

Subject ``i`` of split ``train`` is drawn from ``default_rng([seed, 0, i])``, of ``heldout`` from
``default_rng([seed, 1, i])``: the held-out people are never generated for training.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from core.body.model import BodyModel, canonical_body
from core.body.surface import sample_surface, surface_points
from core.io.archive import DAMAGED_ARCHIVE
from core.io.atomic import atomic_path, write_bytes_atomic
from core.recon.infer import visible_points
from core.recon.query import LayoutError, QueryPoints, check_layout, query_points
from core.train.garments import dress
from core.train.synthetic import render_person

FORMAT = "avatarium-synthetic"
VERSION = 2  # 2: per-point T-pose surface frames (render losses)
SPLITS = {"train": 0, "heldout": 1}
_SUBJECT_KEYS = ("image", "mask", "K", "shape", "pose", "root", "canonical", "frame", "uv", "visible", "facing",
                 "albedo", "offset", "seed")


class DatasetError(ValueError):
    """A dataset folder is missing, incomplete or not ours; the message says which file."""


def _pixels(points: torch.Tensor, K: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixels [N, 2] and depths [N] (metres) of world points [N, 3] seen by the fitting camera
    (:data:`core.fit.result.CAMERA_VIEWMAT`) with intrinsics ``K`` [3, 3]."""
    camera = points.double() * torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)
    depth = camera[:, 2].clamp_min(1e-6)
    uv = camera[:, :2] / depth[:, None] * torch.tensor(np.diag(K)[:2]) + torch.tensor(K[:2, 2])
    return uv.float(), depth.float()


def jittered_mask(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """A person mask [H, W] uint8 as a detector would give it for the true ``alpha`` [H, W]: the
    outline grown or shrunk by up to 1.5 % of the image and softened."""
    from scipy import ndimage

    reach = int(round(rng.uniform(-0.015, 0.015) * alpha.shape[0]))
    mask = alpha > 0.5
    if reach > 0:
        mask = ndimage.binary_dilation(mask, iterations=reach)
    elif reach < 0:
        mask = ndimage.binary_erosion(mask, iterations=-reach)
    soft = ndimage.gaussian_filter(mask.astype(np.float32), rng.uniform(0.3, 1.5) * alpha.shape[0] / 256)
    return (np.clip(soft, 0, 1) * 255 + 0.5).astype(np.uint8)


def make_subject(body: BodyModel, query: QueryPoints, rng: np.random.Generator, size: int = 256,
                 splats: int = 20000) -> dict[str, np.ndarray]:
    """One synthetic person: the rendered photo, a detector-like mask and the ground truth at the query points."""
    person = render_person(body, rng, size=size, splats=splats)
    canonical, joints = canonical_body(body, person.shape)
    rest_points, rest_frames = surface_points(body, canonical, query.triangles, query.barycentric)
    albedo, offset = dress(person.outfit, rest_points.numpy(), rest_frames[..., 2].numpy(), query.parts.numpy(),
                           joints.numpy())
    vertices = torch.tensor(person.vertices)
    posed, frames = surface_points(body, vertices, query.triangles, query.barycentric)
    uv, depth = _pixels(posed, person.K)
    # seen as the pipeline decides it at run time: a z-buffer of the bare body (clothes do not hide it)
    _, triangles, barycentric = sample_surface(canonical, body.faces, 30000, seed=1, stratified=True)
    dense_uv, dense_depth = _pixels(surface_points(body, vertices, triangles, barycentric)[0], person.K)
    visible = visible_points(uv, depth, dense_uv, dense_depth, size).numpy()
    to_camera = -posed.numpy() / np.linalg.norm(posed.numpy(), axis=1, keepdims=True)
    facing = (frames[..., 2].numpy() * to_camera).sum(1)
    return {
        "image": person.rgb, "mask": jittered_mask(rng, person.mask),
        "K": person.K.astype(np.float32), "shape": person.shape, "pose": person.pose, "root": person.root,
        "canonical": rest_points.numpy().astype(np.float32),
        "frame": rest_frames.numpy().astype(np.float16), "uv": uv.numpy(),
        "visible": visible.astype(np.uint8), "facing": facing.astype(np.float16),
        "albedo": (albedo * 255 + 0.5).astype(np.uint8), "offset": offset.astype(np.float16),
    }


def generate(folder: str | os.PathLike[str], body: BodyModel, train: int, heldout: int, size: int = 256,
             points: int = 6000, seed: int = 0, shard_size: int = 100,
             progress: Callable[[int, int], None] | None = None, query: QueryPoints | None = None) -> Path:
    """Write a dataset (layout in the module docstring) of ``train`` + ``heldout`` subjects at the
    query points ``query`` (a model's layout; None: a fresh layout of ``points`` points)."""
    folder = Path(folder)
    if query is None:
        query = query_points(body, points)
    check_layout(query, body)
    folder.mkdir(parents=True, exist_ok=True)
    query.save(folder / "query.npz")
    points = len(query.triangles)
    done, total = 0, train + heldout
    for split, count in (("train", train), ("heldout", heldout)):
        for shard, start in enumerate(range(0, count, shard_size)):
            subjects = []
            for i in range(start, min(count, start + shard_size)):
                subject = make_subject(body, query, np.random.default_rng([seed, SPLITS[split], i]), size)
                subject["seed"] = np.int64(i)
                subjects.append(subject)
                done += 1
                if progress is not None:
                    progress(done, total)
            with atomic_path(folder / f"{split}-{shard:04d}.npz") as tmp, open(tmp, "wb") as stream:
                np.savez(stream, **{k: np.stack([s[k] for s in subjects]) for k in _SUBJECT_KEYS})
    manifest = {"format": FORMAT, "version": VERSION, "body_model": body.name, "size": size, "points": points,
                "seed": seed, "splits": {"train": train, "heldout": heldout}, "shard_size": shard_size}
    write_bytes_atomic(folder / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())
    return folder


def load_split(folder: str | os.PathLike[str], split: str) -> tuple[dict, QueryPoints, dict[str, np.ndarray]]:
    """(manifest, query points, every subject's arrays of ``split`` concatenated) of a dataset folder."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{folder} is not a synthetic dataset (manifest.json: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise DatasetError(f"{folder}/manifest.json is not a version-{VERSION} Avatarium synthetic dataset "
                           "(make a new one with `avatarium synth`)")
    if split not in SPLITS:
        raise DatasetError(f"unknown split '{split}' (train or heldout)")
    shards = sorted(folder.glob(f"{split}-*.npz"))
    if not shards and manifest["splits"].get(split, 0) > 0:
        raise DatasetError(f"{folder} has no {split} shards")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in _SUBJECT_KEYS}
    for shard in shards:
        try:
            with np.load(shard, allow_pickle=False) as data:
                missing = [k for k in _SUBJECT_KEYS if k not in data]
                if missing:
                    raise DatasetError(f"{shard.name} lacks {', '.join(missing)}")
                for k in _SUBJECT_KEYS:
                    parts[k].append(data[k])
        except DatasetError:
            raise
        except DAMAGED_ARCHIVE as exc:  # ValueError: pickled arrays
            raise DatasetError(f"{shard.name} is damaged or not a dataset shard ({exc})") from None
    arrays = {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in parts.items()}
    try:
        query = QueryPoints.load(folder / "query.npz")
    except LayoutError as exc:
        raise DatasetError(str(exc)) from None
    return manifest, query, arrays
