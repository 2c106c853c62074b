"""``avatarium eval refine``: does refinement against the photo improve the avatar from other views?

Held-out synthetic people (subject ``i`` drawn from ``default_rng([seed, 1, i])``, the stream of the
dataset's ``heldout`` split, never trained on) are rendered at ``size``² and reconstructed; their lit
splats (:class:`core.train.synthetic.LitSplats`) rendered from the input camera and from ``views``
cameras around them are the ground truth. Each method's avatar is posed by its fit and rendered from
the same cameras over the same background; scores: PSNR and SSIM inside the true silhouette, and the
IoU of the avatar's silhouette with the true one (catches a bloated or shrunk avatar).

Modes: ``true`` gives every method the ground-truth body and camera (refinement alone is measured);
``fitted`` detects and fits the body with mediapipe like a real photo (the whole pipeline), and each
avatar is moved by the similarity that puts its fitted body on the true one before rendering (one
photo cannot tell size from distance). Methods:
``network`` (the network's Gaussians, no refinement), ``refined`` (the preset's refinement) and, with
a fitted body, ``loop`` (refinement alternating with body updates, :meth:`core.pipeline.Pipeline.refine`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.camera import orbit_viewmats
from core.detect.person import DetectionError, PersonObservation
from core.evaluation.views import psnr
from core.fit.fit_body import FitError
from core.fit.overlay import posed_body
from core.fit.result import CAMERA_VIEWMAT, BodyFit
from core.gaussians import GaussianCloud
from core.io.images import Photo
from core.metrics import mask_iou, similarity_transform, ssim

FitMode = Literal["true", "fitted"]


def true_observation(mask: np.ndarray) -> PersonObservation:
    """A person observation made of a ground-truth ``mask`` [H, W] alone (no keypoints)."""
    ys, xs = np.nonzero(mask > 0.5)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return PersonObservation(mask.astype(np.float32), np.zeros((33, 3), np.float32), box, False, "alpha")


def aligned_gaussians(avatar: Avatar, body: BodyModel, fit: BodyFit, vertices: np.ndarray) -> GaussianCloud:
    """``avatar`` posed by ``fit`` and moved by the similarity that best puts the fitted body on the
    true posed ``vertices`` [V, 3] (one photo cannot tell size from distance, nor the exact depth)."""
    posed = avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root))
    fitted = posed_body(body, fit).vertices[0].numpy()
    scale, rotation, translation = similarity_transform(fitted, vertices)  # row vectors: x @ rotation
    return posed.transformed(scale, torch.tensor(rotation.T), torch.tensor(translation))


def _scores(cloud: GaussianCloud, cameras: torch.Tensor, K: torch.Tensor, size: int, truth: torch.Tensor,
            truth_alpha: torch.Tensor) -> dict[str, float]:
    """Scores of posed Gaussians ``cloud`` against ``truth`` [C, S, S, 3] / ``truth_alpha`` [C, S, S]
    (view 0 the input camera, the rest around the person; the middle one behind)."""
    from core.render.rasterize import rasterize

    with torch.no_grad():
        images, alphas, _ = rasterize(cloud.means, cloud.quats, cloud.scales(), cloud.opacities(), cloud.base_colors(),
                                      cameras, K.expand(len(cameras), 3, 3).contiguous(), size, size, near_plane=0.05,
                                      backgrounds=torch.ones(len(cameras), 3))
    images = images.clamp(0, 1)
    masks = truth_alpha > 0.5
    novel = range(1, len(cameras))
    back = 1 + (len(cameras) - 1) // 2
    return {
        "psnr_input": psnr(images[0], truth[0], masks[0].float()),
        "psnr_novel": float(np.mean([psnr(images[v], truth[v], masks[v].float()) for v in novel])),
        "psnr_back": psnr(images[back], truth[back], masks[back].float()),
        "ssim_novel": float(np.mean([ssim(images[v], truth[v], masks[v]) for v in novel])),
        "iou_novel": float(np.mean([mask_iou(alphas[v, ..., 0].numpy(), truth_alpha[v].numpy()) for v in novel])),
    }


def evaluate_refinement(model_dir: str | os.PathLike[str], body: BodyModel, mode: FitMode = "true", count: int = 10,
                        size: int = 384, views: int = 8, seed: int = 0, preset: str = "balanced", rounds: int = 2,
                        progress: Callable[[int, int], None] | None = None) -> dict:
    """Per-person and mean scores of each method (see the module docstring) with ``preset``'s
    Gaussian count, fit and refinement; the loop runs ``rounds`` rounds."""
    from core.pipeline import Pipeline
    from core.recon.avatar_builder import build_avatar
    from core.recon.refine import refine_avatar
    from core.train.synthetic import render_person

    pipeline = Pipeline(body, model_dir, preset)
    settings = pipeline.preset
    view_size = 256
    rows, failed = [], []
    try:
        for i in range(count):
            person = render_person(body, np.random.default_rng([seed, 1, i]), size=size)
            row: dict = {"person": i}
            if mode == "true":
                observation = true_observation(person.mask)
                fit = BodyFit(body.name, person.shape, person.pose, person.root, person.K, (size, size))
            else:
                photo = Photo(person.rgb, None, person.rgb, None, 1.0)
                try:
                    observation = pipeline.observe(photo)
                    fit = pipeline.fit(photo, observation)
                except (DetectionError, FitError) as exc:
                    failed.append({"person": i, "error": f"{type(exc).__name__}: {exc}"})
                    if progress is not None:
                        progress(i + 1, count)
                    continue
            centre = person.vertices.mean(0)
            K = torch.tensor(person.K, dtype=torch.float32).clone()
            K[:2] *= view_size / size
            cameras = torch.cat([torch.tensor(CAMERA_VIEWMAT, dtype=torch.float32)[None],
                                 torch.tensor(orbit_viewmats(views, centre, float(np.linalg.norm(centre)), 5.0),
                                              dtype=torch.float32)[1:]])
            truth, truth_alpha = person.splats.render(cameras, K, view_size, view_size, torch.ones(len(cameras), 3))
            truth, truth_alpha = truth.clamp(0, 1), truth_alpha[..., 0]
            _, prediction = pipeline.reconstructor(person.rgb, observation, fit)
            network = build_avatar(body, pipeline.reconstructor.query, fit.shape, prediction, settings.gaussians,
                                   fit.clothing)
            methods: dict[str, tuple[Avatar, BodyFit]] = {"network": (network, fit)}
            methods["refined"] = (refine_avatar(network, body, fit, person.rgb, observation,
                                                settings.refine_iterations, settings.refine_size), fit)
            if mode == "fitted":
                methods["loop"] = pipeline.refine(photo, observation, fit, network, rounds)
            for name, (avatar, method_fit) in methods.items():
                cloud = (avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root)) if mode == "true"
                         else aligned_gaussians(avatar, body, method_fit, person.vertices))
                row[name] = _scores(cloud, cameras, K, view_size, truth, truth_alpha)
            rows.append(row)
            if progress is not None:
                progress(i + 1, count)
    finally:
        pipeline.close()
    names = [k for k in rows[0] if k != "person"] if rows else []
    summary = {name: {key: float(np.mean([r[name][key] for r in rows])) for key in rows[0][name]} for name in names}
    for name in names[1:]:
        summary[f"{name}_beats_network_novel"] = int(sum(r[name]["psnr_novel"] > r["network"]["psnr_novel"]
                                                         for r in rows))
    return {"mode": mode, "preset": preset, "views": views, "size": size, "people": rows, "failed": failed,
            "summary": summary}
