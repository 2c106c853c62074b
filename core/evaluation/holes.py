"""``avatarium eval holes``: is the avatar solid at every zoom, or does the background show through?

The avatar is posed as fitted and rendered from ``views`` cameras around it (framed like the viewer's
start view: a 40° camera at the distance where its bounding sphere fills the view) at each of
``sizes`` pixels. A hole is a pixel of the silhouette's interior whose alpha is below 0.9. Two
interiors are measured, so that neither a ragged outline nor a choice of threshold hides holes:

* ``alpha``: the avatar's own silhouette (alpha > 0.5) with its enclosed gaps smaller than 1/32 of
  the image across filled (pinholes, a speckled patch; not the space between crossed legs or an arm
  akimbo, which the photo shows as background), eroded by one pixel per 256 of image size (its soft
  outline),
* ``body``: the bare fitted body's silhouette (the avatar's Gaussians stand on or outside it),
  eroded by one pixel per 128 (refinement may pull the outline's Gaussians a centimetre or two
  inside the body, to the photo's outline),

so the same bands are left out at every size. Of the own silhouette's holes, ``alpha_clear`` is the
part that is clear through (alpha below 0.5: the filled gaps, a pinhole or a small opening between
a limb and the body that the metric cannot tell apart); the rest is faint (0.5–0.9: a ragged or
thin surface).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from core.body.model import BodyModel
from core.camera import intrinsics_from_fov, mesh_mask, orbit_viewmats
from core.gaussians import GaussianCloud

#: Alpha below which a pixel inside the silhouette counts as a hole.
SOLID = 0.9
SIZES = (256, 512, 1024)
FOV_DEG = 40.0


def interior(mask: np.ndarray, size: int, pinholes: bool = True) -> np.ndarray:
    """``mask`` [H, W] with (``pinholes``) its enclosed gaps smaller than ``size // 32`` pixels across
    filled, eroded by one pixel per 256 (``pinholes``) or per 128 of ``size``."""
    from scipy import ndimage

    if pinholes:
        gaps, count = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
        areas = ndimage.sum(np.ones_like(mask), gaps, np.arange(1, count + 1))
        small = np.flatnonzero(areas < (size // 32) ** 2) + 1
        mask = mask | np.isin(gaps, small)
    return ndimage.binary_erosion(mask, iterations=max(1, size // (256 if pinholes else 128)))


def hole_share(alpha: np.ndarray, inside: np.ndarray, below: float = SOLID) -> float:
    """Share (0–1) of the pixels of ``inside`` [H, W] whose ``alpha`` [H, W] is below ``below``."""
    count = int(inside.sum())
    return float((alpha[inside] < below).sum() / count) if count else 0.0


def orbit_views(cloud: GaussianCloud, views: int) -> tuple[np.ndarray, float]:
    """World-to-camera matrices [views, 4, 4] around ``cloud`` (azimuth 0 in front of it, level) and
    the vertical field of view (degrees) at which its bounding sphere fills the image."""
    lo, hi = cloud.bounds()
    centre = ((lo + hi) / 2).double().numpy()
    distance = 1.15 * cloud.radius() / math.sin(math.radians(FOV_DEG / 2))
    return orbit_viewmats(views, centre, distance), FOV_DEG


def hole_scores(cloud: GaussianCloud, vertices: np.ndarray, faces: np.ndarray, sizes: Sequence[int] = SIZES,
                views: int = 8) -> dict[str, dict[str, float]]:
    """Per image size: the mean and worst hole share over ``views`` views of ``cloud`` (posed, world)
    inside the body's (``vertices`` [V, 3] posed, ``faces`` [F, 3]) and inside its own silhouette,
    and the mean share of the latter that is clear through (``alpha_clear_mean``)."""
    from core.render.rasterize import rasterize

    viewmats, fov = orbit_views(cloud, views)
    results = {}
    for size in sizes:
        K = intrinsics_from_fov(fov, size, size)
        with torch.no_grad():
            _, alphas, _ = rasterize(cloud.means, cloud.quats, cloud.scales(), cloud.opacities(), cloud.base_colors(),
                                     torch.tensor(viewmats, dtype=torch.float32),
                                     torch.tensor(K, dtype=torch.float32).expand(views, 3, 3).contiguous(), size, size,
                                     near_plane=0.05)
        body, own, clear = [], [], []
        for alpha, viewmat in zip(alphas[..., 0].numpy(), viewmats, strict=True):
            body.append(hole_share(alpha, interior(mesh_mask(vertices, faces, viewmat, K, (size, size)), size, False)))
            inside = interior(alpha > 0.5, size)
            own.append(hole_share(alpha, inside))
            clear.append(hole_share(alpha, inside, 0.5))
        results[str(size)] = {"body_mean": float(np.mean(body)), "body_worst": float(np.max(body)),
                              "alpha_mean": float(np.mean(own)), "alpha_worst": float(np.max(own)),
                              "alpha_clear_mean": float(np.mean(clear))}
    return results


def turnaround(rgb: np.ndarray, cloud: GaussianCloud, size: int = 256) -> np.ndarray:
    """A contact-sheet row uint8 [size, W, 3]: the photo ``rgb`` and ``cloud`` (posed, world) from the
    front, its left, the back and its right, over white."""
    from core.io.sheets import to_height
    from core.render.rasterize import rasterize

    viewmats, fov = orbit_views(cloud, 4)
    K = torch.tensor(intrinsics_from_fov(fov, size, size), dtype=torch.float32)
    with torch.no_grad():
        images, _, _ = rasterize(cloud.means, cloud.quats, cloud.scales(), cloud.opacities(), cloud.base_colors(),
                                 torch.tensor(viewmats, dtype=torch.float32), K.expand(4, 3, 3).contiguous(), size,
                                 size, near_plane=0.05, backgrounds=torch.ones(4, 3))
    return np.concatenate([to_height(rgb, size), *(images.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)], 1)


def evaluate_holes(photos: Sequence[str | os.PathLike[str]], body: BodyModel, model_dir: str | os.PathLike[str],
                   preset: str = "balanced", sizes: Sequence[int] = SIZES, views: int = 8,
                   sheet: str | os.PathLike[str] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> dict:
    """Reconstruct each photo with ``preset`` and score its holes (:func:`hole_scores`); photos that
    cannot be reconstructed are listed with the reason. With ``sheet``, also write a contact sheet:
    a :func:`turnaround` row per photo."""
    from core.detect.person import DetectionError
    from core.fit.fit_body import FitError
    from core.fit.overlay import posed_body
    from core.io.images import ImageLoadError, load_image
    from core.pipeline import Pipeline

    rows, failed, sheet_rows = [], [], []
    with Pipeline(body, model_dir, preset) as pipeline:
        for index, path in enumerate(photos):
            try:
                result = pipeline.reconstruct(load_image(path), allow_several=True)
            except (ImageLoadError, DetectionError, FitError) as exc:
                failed.append({"photo": Path(path).name, "error": f"{type(exc).__name__}: {exc}"})
            else:
                fit = result.fit
                cloud = result.avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root))
                vertices = posed_body(body, fit).vertices[0].numpy()
                rows.append({"photo": Path(path).name,
                             "holes": hole_scores(cloud, vertices, body.faces.numpy(), sizes, views)})
                if sheet is not None:
                    sheet_rows.append(turnaround(result.photo.rgb, cloud))
            if progress is not None:
                progress(index + 1, len(photos))
    if sheet is not None and sheet_rows:
        from core.io.sheets import stack_rows
        from core.io.video import write_image

        write_image(sheet, stack_rows(sheet_rows, fill=255))
    summary = {str(size): {key: float(np.max([r["holes"][str(size)][key] for r in rows]))
                           for key in ("body_mean", "body_worst", "alpha_mean", "alpha_worst", "alpha_clear_mean")}
               for size in sizes} if rows else {}
    return {"preset": preset, "views": views, "sizes": list(sizes), "photos": rows, "failed": failed,
            "summary_worst_photo": summary}
