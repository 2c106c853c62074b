"""``avatarium bench fit``: detection and fitting time on photos, and fitting accuracy on synthetic people.

Synthetic accuracy (ground truth known): random anny bodies in random poses rendered as photos
(:mod:`core.train.synthetic`) go through the whole photo path — mediapipe detection on the render,
person crop, :func:`core.fit.fit_body.fit_body` — and are compared with the truth:

* ``pa_mpjpe_mm``: the 22 body joints (pelvis … wrists) after Procrustes alignment, millimetres;
* ``keypoint_error``: mean distance of the 17 COCO body keypoints projected by the fitted and the
  true camera, as a fraction of the true body's height in the image;
* ``silhouette_iou``: the fitted body's silhouette against the person's in the photo (the render's
  alpha > 0.5), as on real photos; ``body_iou``: against the true body mesh's silhouette.

Times: ``detection_s`` is the detector alone (:meth:`core.detect.person.PersonDetector.observe`);
``fit_s`` the person crop plus :func:`core.fit.fit_body.fit_body`; ``refit_s`` a refit after a pin.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

_BODY_JOINTS = 22
_COCO17 = 17


def _frame(photo, observation):
    """The person crop the fit works in (timed with the fit: it is not detection)."""
    from core.camera import frame_person

    return frame_person(photo.rgb, observation.mask, observation.box)


def fit_photo(body, detector, photo, tiles: list[np.ndarray] | None = None, options=None) -> dict:
    """Detect and fit one photo, then refit after pinning the left wrist 5 % of the person's height
    higher (what the fit editor does); times and quality figures. With ``tiles``, appends the fit's
    overlay and side view, cropped to the person (:func:`sheet_tile`); ``options``: :class:`FitOptions`."""
    from core.fit.fit_body import Constraints, fit_body, standing, torso_lean_deg
    from core.fit.overlay import posed_body, project_points
    from core.fit.targets import make_targets

    start = time.perf_counter()
    observation = detector.observe(photo)
    detected = time.perf_counter()
    frame = _frame(photo, observation)
    fit = fit_body(body, observation, frame, options)
    fitted = time.perf_counter()
    wrist = project_points(fit, posed_body(body, fit).joints[0, 20].numpy())  # left_wrist
    lift = 0.05 * (observation.box[3] - observation.box[1])
    pin = {"left_wrist": (float(wrist[0]), float(wrist[1] - lift))}
    refit_start = time.perf_counter()
    fit_body(body, observation, frame, options, constraints=Constraints(pins=pin), init=fit)
    refit_end = time.perf_counter()
    if tiles is not None:
        tiles.append(sheet_tile(photo.rgb, observation, fit, body))
    return {"detection_s": detected - start, "fit_s": fitted - detected, "refit_s": refit_end - refit_start,
            "silhouette_iou": fit.silhouette_iou, "clothed_iou": fit.clothed_iou, "quality": fit.quality,
            "mean_residual_px": fit.mean_residual, "torso_lean_deg": torso_lean_deg(body, fit),
            "standing": standing(make_targets(observation, frame, 64)),
            "half_body": observation.half_body, "size": list(photo.size)}


def sheet_tile(rgb: np.ndarray, observation, fit, body, height: int = 320) -> np.ndarray:
    """The overlay (:func:`core.fit.overlay.draw_overlay`) beside the side view
    (:func:`core.fit.overlay.draw_side`), both cropped to the person's box (15 % margin), ``height`` tall."""
    from core.fit.overlay import draw_overlay, draw_side
    from core.io.sheets import to_height

    x0, y0, x1, y1 = observation.box
    pad = 0.15 * max(x1 - x0, y1 - y0)
    h, w = rgb.shape[:2]
    rows = slice(max(0, int(y0 - pad)), min(h, int(y1 + pad)))
    columns = slice(max(0, int(x0 - pad)), min(w, int(x1 + pad)))
    return np.concatenate([to_height(image[rows, columns], height)
                           for image in (draw_overlay(rgb, observation, fit, body), draw_side(rgb, fit, body))], 1)


def bench_photos(paths: Sequence[Path], progress: Callable[[int, int], None] | None = None,
                 sheet: Path | None = None, options=None) -> dict:
    """Detection and fit time and quality per photo (the first photo is also run once to warm up);
    ``sheet``: also write a contact sheet of every fit's overlay and side view; ``options``:
    :class:`core.fit.fit_body.FitOptions`."""
    from core.body.anny_body import AnnyBody
    from core.detect.person import DetectionError, PersonDetector
    from core.io.images import load_image

    body = AnnyBody()
    rows = []
    tiles: list[np.ndarray] | None = [] if sheet is not None else None
    with PersonDetector() as detector:
        for i, path in enumerate(paths):
            photo = load_image(path)
            if i == 0:
                try:
                    fit_photo(body, detector, photo, options=options)  # warm-up: mediapipe graph set-up, torch kernels
                except DetectionError:
                    pass
            try:
                row = fit_photo(body, detector, photo, tiles, options)
            except DetectionError as exc:
                row = {"error": f"{type(exc).__name__}: {exc}"}
            rows.append({"photo": Path(path).name, **row})
            if progress is not None:
                progress(i + 1, len(paths))
    if tiles:
        from core.io.sheets import grid
        from core.io.video import write_image

        write_image(sheet, grid(tiles, columns=4))
    timed = [r for r in rows if "fit_s" in r]
    summary = {}
    if timed:
        keys = ("detection_s", "fit_s", "refit_s")
        summary = {k: statistics.median(r[k] for r in timed) for k in keys}
        summary.update({f"max_{k}": max(r[k] for r in timed) for k in keys})
        full = [r for r in timed if not r["half_body"]]
        if full:
            summary["min_silhouette_iou_full_body"] = min(r["silhouette_iou"] for r in full)
            summary["min_clothed_iou_full_body"] = min(r["clothed_iou"] for r in full)
    return {"photos": rows, "summary": summary}


def evaluate_synthetic(body, person, fit) -> dict:
    """Accuracy of ``fit`` against the ground truth of a :class:`core.train.synthetic.SyntheticPerson`."""
    from core.fit.overlay import body_mask, posed_body, project_points
    from core.fit.result import BodyFit
    from core.metrics import mask_iou, pa_mpjpe

    out = posed_body(body, fit)
    with torch.no_grad():
        fitted_keypoints = body.keypoints(out.vertices)[0].numpy()[:_COCO17]
        true_keypoints = body.keypoints(torch.tensor(person.vertices)[None])[0].numpy()[:_COCO17]
    truth = BodyFit(body_model=body.name, shape=person.shape, pose=person.pose, root=person.root, K=person.K,
                    image_size=fit.image_size, viewmat=person.viewmat)
    true_pixels = project_points(truth, person.vertices)
    height = float(true_pixels[:, 1].max() - true_pixels[:, 1].min())
    error_2d = np.linalg.norm(project_points(fit, fitted_keypoints) - project_points(truth, true_keypoints), axis=1)
    faces = body.faces.numpy()
    fitted = body_mask(fit, out.vertices[0].numpy(), faces)
    return {
        "pa_mpjpe_mm": 1000 * pa_mpjpe(out.joints[0].numpy()[:_BODY_JOINTS], person.joints[:_BODY_JOINTS]),
        "keypoint_error": float(error_2d.mean() / height),
        "silhouette_iou": mask_iou(fitted, person.mask),
        "body_iou": mask_iou(fitted, body_mask(truth, person.vertices, faces)),
    }


def bench_synthetic(count: int, seed: int = 0, size: int = 512, options=None, hard: int = 10,
                    progress: Callable[[int, int], None] | None = None) -> dict:
    """Render ``count`` random people and ``hard`` people in hard poses (:data:`core.train.synthetic.HARD_POSES`
    in turn), detect and fit each (``options``: :class:`core.fit.fit_body.FitOptions`), and measure the fits
    against the truth; ``summary`` covers the random people, ``hard_summary`` the others."""
    from core.body.anny_body import AnnyBody
    from core.detect.person import DetectionError, PersonDetector
    from core.fit.fit_body import FitError, fit_body
    from core.io.images import Photo
    from core.train.synthetic import HARD_POSES, hard_pose, render_person

    body = AnnyBody()
    scenes = [(None, np.random.default_rng([seed, i])) for i in range(count)]
    scenes += [(HARD_POSES[i % len(HARD_POSES)], np.random.default_rng([seed, 1, i])) for i in range(hard)]
    rows = []
    with PersonDetector() as detector:
        for i, (kind, rng) in enumerate(scenes):
            pose = None if kind is None else hard_pose(rng, kind)
            person = render_person(body, rng, size=size, pose=pose, geometry=False)
            photo = Photo(rgb=person.rgb, alpha=None, original_rgb=person.rgb, original_alpha=None, scale=1.0)
            row: dict = {"scene": i} if kind is None else {"scene": i - count, "hard_pose": kind}
            try:
                start = time.perf_counter()
                observation = detector.observe(photo)
                detected = time.perf_counter()
                fit = fit_body(body, observation, _frame(photo, observation), options)
                row.update(detection_s=detected - start, fit_s=time.perf_counter() - detected,
                           **evaluate_synthetic(body, person, fit))
            except (DetectionError, FitError) as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"
            rows.append(row)
            if progress is not None:
                progress(i + 1, len(scenes))
    return {"scenes": rows[:count], "summary": _accuracy_summary(rows[:count]),
            "hard_scenes": rows[count:], "hard_summary": _accuracy_summary(rows[count:])}


def _accuracy_summary(rows: list[dict]) -> dict:
    """Counts, and the mean and median of every accuracy and time figure over the fitted ``rows``."""
    done = [r for r in rows if "error" not in r]
    summary: dict = {"scenes": len(rows), "fitted": len(done), "failed": len(rows) - len(done)}
    for key in ("pa_mpjpe_mm", "keypoint_error", "silhouette_iou", "body_iou", "detection_s", "fit_s"):
        values = [r[key] for r in done]
        if values:
            summary[f"mean_{key}"] = float(np.mean(values))
            summary[f"median_{key}"] = float(np.median(values))
    return summary
