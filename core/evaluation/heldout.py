"""``avatarium eval synthetic``: the network against the mirror baseline and an untrained network.

On the held-out people of a synthetic dataset, each method's per-point colours (and offsets, for
the networks) paint the true posed body, rendered from the input camera, from ``views`` cameras
around the person (novel views; the one at 180° is the back view) and compared with the ground
truth painted the same way: PSNR and SSIM inside the true silhouette. Methods: ``network`` (the
trained checkpoint), ``baseline`` (the photo's colour where seen, the mirror point's where that is
seen, else the mean seen colour — no learning), ``untrained`` (the same network, random weights).
A dataset made at another photo size than the network's is resampled to it, so networks of
different input sizes are scored on the same people.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from core.body.model import BodyModel, canonical_body
from core.camera import orbit_viewmats
from core.evaluation.views import SurfacePainter, psnr
from core.fit.result import CAMERA_VIEWMAT
from core.metrics import ssim
from core.recon.loading import build_model, load_network
from core.recon.query import same_layout
from core.train.dataset import DatasetError, load_split
from core.train.train import batch_tensors, mirror_baseline


def evaluate_synthetic(model_dir: str | os.PathLike[str], data: str | os.PathLike[str], body: BodyModel,
                       views: int = 8, limit: int | None = None,
                       progress: Callable[[int, int], None] | None = None) -> dict:
    """Per-person and mean scores of the three methods (see the module docstring)."""
    model, query, _ = load_network(model_dir)
    _, data_query, arrays = load_split(data, "heldout")
    if not same_layout(data_query, query):
        raise DatasetError(f"{data} was made with other query points than the network in {model_dir}; make a "
                           f"dataset for it with `avatarium synth NEW_FOLDER --query {model_dir}`")
    torch.manual_seed(0)
    untrained = build_model(model.config, query).train(False)
    count = len(arrays["image"]) if limit is None else min(limit, len(arrays["image"]))
    size = arrays["image"].shape[1]
    rows = []
    for i in range(count):
        batch = batch_tensors(arrays, np.array([i]))
        inputs = network_inputs(batch, model.config.image_size)
        with torch.no_grad():
            trained, random = model(**inputs), untrained(**inputs)
        methods = {"network": (trained.colour[0], trained.offset[0]),
                   "baseline": (mirror_baseline(batch, query)[0], None),
                   "untrained": (random.colour[0], random.offset[0])}
        shape, pose, root = (torch.tensor(arrays[k][i]) for k in ("shape", "pose", "root"))
        with torch.no_grad():
            posed = body.forward(shape[None], pose[None], root[None]).vertices[0]
        canonical, _ = canonical_body(body, arrays["shape"][i])
        painter = SurfacePainter(body, query, canonical, posed)
        target = posed.mean(0).numpy()
        distance = float(np.linalg.norm(target))
        cameras = torch.cat([torch.tensor(CAMERA_VIEWMAT, dtype=torch.float32)[None],
                             torch.tensor(orbit_viewmats(views, target, distance, 5.0), dtype=torch.float32)])
        K = torch.tensor(arrays["K"][i])
        truth, alpha = painter.render(batch["albedo"][0], batch["offset"][0], cameras, K, size)
        mask = (alpha > 0.5).float()
        row: dict = {"person": int(arrays["seed"][i])}
        for name, (colours, offsets) in methods.items():
            images, _ = painter.render(colours, offsets, cameras, K, size)
            back = views // 2 + 1
            row[name] = {
                "psnr_input": psnr(images[0], truth[0], mask[0]),
                "psnr_novel": float(np.mean([psnr(images[v], truth[v], mask[v]) for v in range(1, views + 1)])),
                "psnr_back": psnr(images[back], truth[back], mask[back]),
                "ssim_novel": float(np.mean([ssim(images[v], truth[v], mask[v]) for v in range(1, views + 1)])),
            }
        rows.append(row)
        if progress is not None:
            progress(i + 1, count)
    summary = {name: {key: float(np.mean([r[name][key] for r in rows])) for key in rows[0][name]}
               for name in ("network", "baseline", "untrained")} if rows else {}
    if rows:
        summary["network_beats_baseline_back"] = int(sum(r["network"]["psnr_back"] > r["baseline"]["psnr_back"]
                                                         for r in rows))
    return {"people": rows, "summary": summary, "views": views}


def network_inputs(batch: dict[str, torch.Tensor], size: int) -> dict[str, torch.Tensor]:
    """The network's inputs from a dataset ``batch``, the photo resampled to the network's ``size``²
    (pixel coordinates ``uv`` scaled with it) when the dataset was made at another size."""
    inputs = {k: batch[k] for k in ("image", "mask", "canonical", "uv", "visible", "facing")}
    made = inputs["image"].shape[-1]
    if made != size:
        for key in ("image", "mask"):
            inputs[key] = torch.nn.functional.interpolate(inputs[key], size=(size, size), mode="bilinear",
                                                          antialias=True, align_corners=False)
        inputs["uv"] = inputs["uv"] * (size / made)
    return inputs
