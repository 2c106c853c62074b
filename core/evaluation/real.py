"""``avatarium eval real``: the avatar of a real person's front photo, seen from views the photo hides.

For each subject of :mod:`core.evaluation.real_data` the front view is reconstructed like any photo
(detection, body fit, network, refinement with a preset) and scored against the true hidden views:

* PSNR and SSIM inside the true silhouette (the prediction composited over the renders' background),
* IoU of the silhouettes (a bloated or shrunk avatar loses it),
* per-part colour error where label images exist: CIEDE2000 between the median L*a*b* colour of the
  truth and of the prediction over the part's pixels (upper and lower garments, outer layer, hair,
  skin, shoes),
* ``iou_mirror_front``: the avatar's back silhouette against the mirrored front silhouette (no
  bloating: from behind, a person's outline is the front's mirror image).

Methods, so that every number has its comparison beside it: ``refined`` (the preset's avatar),
``network`` (the network's Gaussians on the first fit, no refinement) and ``mirror`` (the front photo
flipped left-right, back views only).

Alignment: one photo cannot tell size from distance, so the avatar is placed, not trusted. Without a
camera (front/back pairs) it is rendered from behind (the fit's camera turned 180° about the vertical
through the avatar's centre) and the render is moved by the 2D similarity that puts its silhouette's
box on the truth's (scale from the heights, centres matched); the mirror baseline is aligned the same
way. With calibrated cameras the avatar is put in the subject's frame so that the real front
camera sees its silhouette's box where the front photo has it (its centre at the camera's distance),
and then rendered by the real cameras of the hidden views.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from core.body.model import BodyModel
from core.evaluation.real_data import PARTS, RealSubject, TruthView, find_subjects
from core.fit.result import BodyFit
from core.gaussians import GaussianCloud
from core.io.images import Photo
from core.metrics import ciede2000, mask_iou, srgb_to_lab, ssim

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 pixels
#: Methods scored on every hidden view (the mirror baseline joins them on back views).
AVATAR_METHODS = ("refined", "network")
#: Fewest pixels of a part (after erosion) for its colour to be scored.
MIN_PART_PIXELS = 40


@dataclass(frozen=True, eq=False)
class Rendered:
    """A prediction of one view: image [H, W, 3] in [0, 1] over the background and alpha [H, W]."""

    image: np.ndarray
    alpha: np.ndarray


def mask_box(mask: np.ndarray) -> Box:
    """Bounding box of a mask [H, W] (> 0.5), pixel edges; ValueError when empty."""
    ys, xs = np.nonzero(mask > 0.5)
    if len(xs) == 0:
        raise ValueError("the silhouette is empty")
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def box_similarity(source: Box, target: Box) -> np.ndarray:
    """The 2D similarity [3, 3] (pixels, column vectors) that scales ``source`` to ``target``'s height
    and puts its centre on ``target``'s."""
    scale = (target[3] - target[1]) / max(source[3] - source[1], 1e-6)
    centre_s = np.array([(source[0] + source[2]) / 2, (source[1] + source[3]) / 2])
    centre_t = np.array([(target[0] + target[2]) / 2, (target[1] + target[3]) / 2])
    shift = centre_t - scale * centre_s
    return np.array([[scale, 0.0, shift[0]], [0.0, scale, shift[1]], [0.0, 0.0, 1.0]])


def turned_camera(viewmat: np.ndarray, centre: np.ndarray, degrees: float = 180.0) -> np.ndarray:
    """World-to-camera [4, 4] of the camera ``viewmat`` carried ``degrees`` about the vertical (world Y)
    through ``centre`` [3]: 180 looks at the person's back."""
    a = math.radians(degrees)
    turn = np.eye(4)
    turn[:3, :3] = [[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]]
    move, back = np.eye(4), np.eye(4)
    move[:3, 3], back[:3, 3] = centre, -centre
    return viewmat @ np.linalg.inv(move @ turn @ back)


def render_view(cloud: GaussianCloud, viewmat: np.ndarray, K: np.ndarray, width: int, height: int,
                background: np.ndarray) -> Rendered:
    """``cloud`` seen by ``viewmat`` [4, 4] / ``K`` [3, 3] in a ``width`` x ``height`` image over ``background`` [3]."""
    from core.render.rasterize import rasterize

    with torch.no_grad():
        image, alpha, _ = rasterize(cloud.means, cloud.quats, cloud.scales(), cloud.opacities(), cloud.base_colors(),
                                    torch.tensor(viewmat, dtype=torch.float32)[None],
                                    torch.tensor(K, dtype=torch.float32)[None], width, height, near_plane=1e-3,
                                    backgrounds=torch.tensor(background, dtype=torch.float32)[None])
    return Rendered(image[0].clamp(0, 1).numpy(), alpha[0, ..., 0].numpy())


def framing_intrinsics(cloud: GaussianCloud, viewmat: np.ndarray, width: int, height: int) -> np.ndarray:
    """K [3, 3] of a camera at ``viewmat`` that shows all of ``cloud``'s centres with a margin."""
    camera = cloud.means.double().numpy() @ viewmat[:3, :3].T + viewmat[:3, 3]
    depth = np.maximum(camera[:, 2], 1e-6)
    xy = camera[:, :2] / depth[:, None]
    lo, hi = xy.min(0), xy.max(0)
    focal = 0.7 * min(width / max(hi[0] - lo[0], 1e-6), height / max(hi[1] - lo[1], 1e-6))
    centre = (lo + hi) / 2
    return np.array([[focal, 0.0, width / 2 - focal * centre[0]], [0.0, focal, height / 2 - focal * centre[1]],
                     [0.0, 0.0, 1.0]])


def render_box_aligned(cloud: GaussianCloud, viewmat: np.ndarray, truth: TruthView, background: np.ndarray
                       ) -> Rendered:
    """``cloud`` seen from ``viewmat`` and moved in the image so its silhouette's box lands on ``truth``'s."""
    height, width = truth.mask.shape
    K = framing_intrinsics(cloud, viewmat, width, height)
    first = render_view(cloud, viewmat, K, width, height, background)
    aligned = box_similarity(mask_box(first.alpha), mask_box(truth.mask)) @ K
    return render_view(cloud, viewmat, aligned, width, height, background)


def warp_image(image: np.ndarray, similarity: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` [H, W, C] float moved by ``similarity`` [3, 3] (pixels) into a ``size`` (width, height) image."""
    from PIL import Image

    inverse = np.linalg.inv(similarity)
    coefficients = tuple(inverse[:2].reshape(-1))
    channels = [np.asarray(Image.fromarray(image[..., c].astype(np.float32), "F").transform(
        size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR)) for c in range(image.shape[-1])]
    return np.stack(channels, -1)


def mirror_baseline(front: TruthView, truth: TruthView, background: np.ndarray) -> Rendered:
    """The front photo flipped left-right, its silhouette's box on ``truth``'s, over ``background``."""
    flipped = np.ascontiguousarray(front.rgb[:, ::-1]).astype(np.float32) / 255
    mask = np.ascontiguousarray(front.mask[:, ::-1]).astype(np.float32)
    similarity = box_similarity(mask_box(mask), mask_box(truth.mask))
    size = (truth.mask.shape[1], truth.mask.shape[0])
    warped = warp_image(np.concatenate([flipped * mask[..., None], mask[..., None]], -1), similarity, size)
    alpha = np.clip(warped[..., 3], 0, 1)
    return Rendered(np.clip(warped[..., :3] + (1 - alpha[..., None]) * background, 0, 1), alpha)


def place_in_subject(cloud: GaussianCloud, fit: BodyFit, front: TruthView, background: np.ndarray,
                     rounds: int = 3) -> GaussianCloud:
    """``cloud`` (posed in the fit's world) moved into a calibrated subject's frame: the fit camera's
    frame is mapped onto the real front camera's, scaled about the cloud's box centre (put at the
    camera's distance from the subject's origin) and shifted until the real front camera sees its
    silhouette's box where ``front`` has it."""
    height, width = front.mask.shape
    to_camera = torch.tensor(fit.viewmat[:3, :3], dtype=torch.float32)
    in_camera = cloud.transformed(1.0, to_camera, torch.tensor(fit.viewmat[:3, 3], dtype=torch.float32))
    lo, hi = in_camera.bounds()
    centre = ((lo + hi) / 2).double().numpy()
    distance = float(np.linalg.norm(np.linalg.inv(front.viewmat)[:3, 3]))
    focal = float(front.K[0, 0])
    scale = float(fit.K[0, 0]) / centre[2] * distance / focal  # the photo's image size at the real focal length
    shift = np.zeros(2)
    world_rotation = front.viewmat[:3, :3].T
    target = mask_box(front.mask)

    def place() -> GaussianCloud:
        offset = np.array([shift[0], shift[1], distance]) - scale * centre
        camera_frame = in_camera.transformed(scale, torch.eye(3), torch.tensor(offset, dtype=torch.float32))
        return camera_frame.transformed(1.0, torch.tensor(world_rotation, dtype=torch.float32),
                                        torch.tensor(-world_rotation @ front.viewmat[:3, 3], dtype=torch.float32))

    for _ in range(rounds):
        box = mask_box(render_view(place(), front.viewmat, front.K, width, height, background).alpha)
        scale *= (target[3] - target[1]) / max(box[3] - box[1], 1e-6)
        shift += np.array([(target[0] + target[2]) - (box[0] + box[2]),
                           (target[1] + target[3]) - (box[1] + box[3])]) / 2 * distance / focal
    return place()


def part_colour_errors(image: np.ndarray, truth: TruthView) -> dict[str, float]:
    """CIEDE2000 between the median L*a*b* colours of ``truth`` and of ``image`` [H, W, 3] over each
    labelled part (labels eroded by two pixels; parts with fewer than :data:`MIN_PART_PIXELS` skipped)."""
    from scipy import ndimage

    if truth.labels is None:
        return {}
    errors = {}
    for index, name in enumerate(PARTS):
        region = ndimage.binary_erosion(truth.labels == index, iterations=2)
        if region.sum() < MIN_PART_PIXELS:
            continue
        true_lab = np.median(srgb_to_lab(truth.rgb[region] / 255.0), axis=0)
        ours_lab = np.median(srgb_to_lab(image[region]), axis=0)
        errors[name] = float(ciede2000(true_lab, ours_lab))
    return errors


def view_scores(prediction: Rendered, truth: TruthView) -> dict:
    """PSNR (dB), SSIM inside ``truth``'s silhouette, silhouette IoU, per-part colour errors, and
    what splits the PSNR: ``coverage`` (the share of the true silhouette the prediction covers) and
    ``psnr_covered`` (PSNR over the covered part only: the colours)."""
    mask = truth.mask
    target = truth.rgb.astype(np.float32) / 255
    squared = ((prediction.image - target) ** 2).mean(-1)
    covered = mask & (prediction.alpha > 0.5)

    def psnr(region: np.ndarray) -> float:
        return -10 * math.log10(max(float(squared[region].mean()) if region.any() else 1.0, 1e-10))

    return {
        "psnr": psnr(mask),
        "ssim": ssim(torch.tensor(prediction.image), torch.tensor(target), torch.tensor(mask)),
        "iou": mask_iou(prediction.alpha, mask),
        "coverage": float(covered.sum() / max(int(mask.sum()), 1)),
        "psnr_covered": psnr(covered),
        "parts": part_colour_errors(prediction.image, truth),
    }


def _photo(rgb: np.ndarray) -> Photo:
    return Photo(rgb, None, rgb, None, 1.0)


def _avatar_views(subject: RealSubject, clouds: dict[str, tuple[GaussianCloud, BodyFit]]
                  ) -> dict[str, dict[str, Rendered]]:
    """Renders of each method's posed cloud in every hidden view of ``subject`` (plus the mirror baseline)."""
    views: dict[str, dict[str, Rendered]] = {}
    for method, (cloud, fit) in clouds.items():
        if subject.calibrated:
            placed = place_in_subject(cloud, fit, subject.front, subject.background)
            for truth in subject.hidden:
                height, width = truth.mask.shape
                views.setdefault(truth.name, {})[method] = render_view(placed, truth.viewmat, truth.K, width, height,
                                                                        subject.background)
        else:
            lo, hi = cloud.bounds()
            back = turned_camera(fit.viewmat, ((lo + hi) / 2).double().numpy())
            for truth in subject.hidden:
                views.setdefault(truth.name, {})[method] = render_box_aligned(cloud, back, truth, subject.background)
    for truth in subject.hidden:
        if is_back(truth):
            views[truth.name]["mirror"] = mirror_baseline(subject.front, truth, subject.background)
    return views


def is_back(view: TruthView) -> bool:
    return view.name in ("back", "view180")


def evaluate_subject(pipeline, subject: RealSubject) -> tuple[dict, dict[str, dict[str, Rendered]]]:
    """Scores of one subject (see the module docstring) and the renders they came from."""
    from core.fit.fit_body import torso_lean_deg
    from core.recon.avatar_builder import build_avatar
    from core.recon.refine import input_view_scores

    start = time.perf_counter()
    body = pipeline.body
    photo = _photo(subject.front.rgb)
    observation = pipeline.observe(photo)
    first_fit = pipeline.fit(photo, observation)
    _, prediction = pipeline.reconstructor(photo.rgb, observation, first_fit)
    network = build_avatar(body, pipeline.reconstructor.query, first_fit.shape, prediction,
                           pipeline.preset.gaussians, first_fit.clothing)
    refined, fit = pipeline.avatar(photo, observation, first_fit)
    avatars = {"refined": (refined, fit), "network": (network, first_fit)}
    clouds = {name: (avatar.posed(body, torch.tensor(f.pose), torch.tensor(f.root)), f)
              for name, (avatar, f) in avatars.items()}
    views = _avatar_views(subject, clouds)
    row: dict = {"subject": subject.name, "seconds": 0.0, "torso_lean_deg": torso_lean_deg(body, fit),
                 "input": {}, "views": {}}
    for name, (avatar, f) in avatars.items():
        row["input"][name] = input_view_scores(avatar, body, f, photo.rgb, observation)
    for truth in subject.hidden:
        scored = {method: view_scores(rendered, truth) for method, rendered in views[truth.name].items()}
        if "mirror" in views[truth.name]:
            for method in AVATAR_METHODS:
                scored[method]["iou_mirror_front"] = mask_iou(views[truth.name][method].alpha,
                                                              views[truth.name]["mirror"].alpha)
        row["views"][truth.name] = scored
    row["seconds"] = time.perf_counter() - start
    return row, views


def summarise(rows: list[dict]) -> dict:
    """Means over subjects per method: back views, side views, per-part colour errors (also their
    medians), input view."""
    summary: dict = {}

    def mean(values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    for method in (*AVATAR_METHODS, "mirror"):
        entry: dict = {}
        for kind, chosen in (("back", ("back", "view180")), ("side", ("view090", "view270"))):
            scores = [s[method] for r in rows for name, s in r["views"].items() if name in chosen and method in s]
            for key in ("psnr", "ssim", "iou", "iou_mirror_front", "coverage", "psnr_covered"):
                value = mean([s[key] for s in scores if key in s])
                if value is not None:
                    entry[f"{kind}_{key}"] = value
            if kind == "back":  # means, and medians: a thin strip of a part (a shirt's hem under a jacket)
                #   scores whichever neighbour the avatar puts there, up to ΔE 95 for one subject
                for key, average in (("back_parts", np.mean), ("back_parts_median", np.median)):
                    entry[key] = {part: float(average([s["parts"][part] for s in scores if part in s["parts"]]))
                                  for part in PARTS if any(part in s["parts"] for s in scores)}
        if method in AVATAR_METHODS:
            entry["input_psnr"] = mean([r["input"][method]["psnr_db"] for r in rows])
            entry["input_iou"] = mean([r["input"][method]["iou"] for r in rows])
        summary[method] = entry
    back_psnr = [(scores["refined"]["psnr"], scores["mirror"]["psnr"]) for r in rows
                 for scores in r["views"].values() if "mirror" in scores]
    summary["refined_beats_mirror_back"] = int(sum(ours > theirs for ours, theirs in back_psnr))
    summary["worst_torso_lean_deg"] = max(r.get("torso_lean_deg", 0.0) for r in rows)
    summary["back_views"] = len(back_psnr)
    return summary


def contact_sheet(subject: RealSubject, views: dict[str, dict[str, Rendered]], height: int = 256) -> np.ndarray:
    """One row per hidden view: front photo | truth | refined | network | mirror (blank where none), uint8."""
    from core.io.sheets import stack_rows, to_height

    rows = []
    for truth in subject.hidden:
        renders = views[truth.name]
        tiles = [to_height(subject.front.rgb, height), to_height(truth.rgb, height)]
        for method in (*AVATAR_METHODS, "mirror"):
            tiles.append(to_height(renders[method].image, height) if method in renders else np.full_like(tiles[1], 128))
        rows.append(np.concatenate(tiles, 1))
    return stack_rows(rows)


def evaluate_real(root: str | os.PathLike[str], body: BodyModel, model_dir: str | os.PathLike[str],
                  preset: str = "balanced", limit: int | None = None, sheet: str | os.PathLike[str] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """Score every subject under ``root`` (``limit``: the first ones); with ``sheet`` also write the
    contact sheet (:func:`contact_sheet` rows of every subject) as an image."""
    from core.detect.person import DetectionError
    from core.fit.fit_body import FitError
    from core.pipeline import Pipeline

    subjects = find_subjects(root)[:limit]
    rows, failed, sheet_rows = [], [], []
    with Pipeline(body, model_dir, preset) as pipeline:
        for index, subject in enumerate(subjects):
            try:
                row, views = evaluate_subject(pipeline, subject)
            except (DetectionError, FitError) as exc:
                failed.append({"subject": subject.name, "error": f"{type(exc).__name__}: {exc}"})
            else:
                rows.append(row)
                if sheet is not None:
                    sheet_rows.append(contact_sheet(subject, views))
            if progress is not None:
                progress(index + 1, len(subjects))
    if sheet is not None and sheet_rows:
        from core.io.sheets import stack_rows
        from core.io.video import write_image

        write_image(sheet, stack_rows(sheet_rows))
    return {"root": str(root), "preset": preset, "subjects": rows, "failed": failed,
            "summary": summarise(rows) if rows else {}}
