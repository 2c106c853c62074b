"""Every export of an avatar, by format name, into files named after one stem.

Formats (file names for stem ``out/anna``): ``avatar`` → ``anna.avatar`` (the bundle), ``ply`` →
``anna.ply`` (T-pose 3DGS), ``posed`` → ``anna_posed.ply`` (the photo's pose), ``fit`` →
``anna_fit.json``, ``params`` → ``anna_body.npz`` (SMPL-X-style), ``mesh`` → ``anna_body.obj``
(coloured, posed), ``glb`` → ``anna_body.glb`` (rigged, coloured), ``preview`` → ``anna_preview.png``
(front and back of the posed avatar). Formats that need the body fit are refused without one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.fit.result import BodyFit

FORMATS = ("avatar", "ply", "posed", "fit", "params", "mesh", "glb", "preview")
NEEDS_FIT = ("posed", "fit", "params", "mesh", "preview")


def write_formats(stem: Path, formats: tuple[str, ...], body: BodyModel, avatar: Avatar, fit: BodyFit | None,
                  photo: np.ndarray | None = None) -> list[Path]:
    """Write ``formats`` of ``avatar`` (posed by ``fit``) next to ``stem``; the paths written."""
    from core.export.body import save_body_mesh, save_body_parameters, vertex_colours
    from core.export.gltf import save_rigged_glb
    from core.io.bundle import save_bundle
    from core.io.ply import write_ply
    from core.io.video import write_image
    from core.render.offline import framed_camera, render_image

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(unknown)}; formats are {', '.join(FORMATS)}")
    if fit is None and any(f in NEEDS_FIT for f in formats):
        raise ValueError(f"{', '.join(f for f in formats if f in NEEDS_FIT)} need(s) the body fit, which this "
                         "avatar does not have")
    stem.parent.mkdir(parents=True, exist_ok=True)

    def named(suffix: str) -> Path:
        return stem.parent / f"{stem.name}{suffix}"

    written = []
    posed = avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root)) if fit is not None else None
    if "avatar" in formats:
        written.append(save_bundle(named(".avatar"), avatar, fit, photo))
    if "ply" in formats:
        write_ply(named(".ply"), avatar.canonical(body))
        written.append(named(".ply"))
    if "posed" in formats:
        write_ply(named("_posed.ply"), posed)
        written.append(named("_posed.ply"))
    if "fit" in formats:
        written.append(fit.save(named("_fit.json")))
    if "params" in formats:
        written.append(save_body_parameters(named("_body.npz"), fit))
    if "mesh" in formats:
        written.append(save_body_mesh(named("_body.obj"), body, fit, avatar))
    if "glb" in formats:
        written.append(save_rigged_glb(named("_body.glb"), body, avatar.shape, vertex_colours(body, avatar)))
    if "preview" in formats:
        views = [render_image(posed, framed_camera(posed, azimuth, 5.0), 384) for azimuth in (0.0, 180.0)]
        write_image(named("_preview.png"), np.concatenate(views, 1))
        written.append(named("_preview.png"))
    return written
