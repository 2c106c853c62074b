"""Every export of an avatar, by format name, into files named after one stem.

Formats (file names for stem ``out/anna``): ``avatar`` → ``anna.avatar`` (the bundle), ``ply`` →
``anna.ply`` (T-pose 3DGS), ``posed`` → ``anna_posed.ply`` (the photo's pose), ``splats`` →
``anna_splats.glb`` and ``posed_splats`` → ``anna_posed_splats.glb`` (the same as glTF
``KHR_gaussian_splatting``), ``spz`` → ``anna.spz`` and ``posed_spz`` → ``anna_posed.spz``
(compressed), ``fit`` → ``anna_fit.json``, ``params`` → ``anna_body.npz`` (SMPL-X-style), ``mesh`` →
``anna_body.obj`` (coloured, posed), ``glb`` → ``anna_body.glb`` (rigged, coloured) and ``humanoid`` →
``anna_humanoid.glb`` (the same rig bound in the T-pose with humanoid bone names), both with the given
motion as an animation, ``bvh`` → ``anna_motion.bvh`` (the given motion on the body), ``preview`` →
``anna_preview.png`` (front and back of the posed avatar), ``html`` → ``anna.html`` (a self-contained web
player of the built-in clips and the given motion). Formats that need the body fit are
refused without one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.body.model import BodyModel
from core.body.motion_files import Motion
from core.fit.result import BodyFit

FORMATS = ("avatar", "ply", "posed", "splats", "posed_splats", "spz", "posed_spz", "fit", "params", "mesh", "glb",
           "preview", "html", "humanoid", "bvh")
#: Formats of the avatar in a pose (the fit's, or the one given).
POSED = ("posed", "posed_splats", "posed_spz", "preview")
NEEDS_FIT = (*POSED, "fit", "params", "mesh")
#: What each format appends to the stem.
SUFFIXES = {"avatar": ".avatar", "ply": ".ply", "posed": "_posed.ply", "fit": "_fit.json", "params": "_body.npz",
            "mesh": "_body.obj", "glb": "_body.glb", "preview": "_preview.png", "splats": "_splats.glb",
            "posed_splats": "_posed_splats.glb", "spz": ".spz", "posed_spz": "_posed.spz", "html": ".html",
            "humanoid": "_humanoid.glb", "bvh": "_motion.bvh"}
#: Formats that play a motion (and need one).
NEEDS_MOTION = ("bvh",)
_CHOOSE_MOTION = "writes a motion: choose one (a built-in clip, an AMASS .npz or a SMPL-X .json folder)"


def write_format(fmt: str, path: str | Path, body: BodyModel, avatar: Avatar, fit: BodyFit | None,
                 photo: np.ndarray | None = None, pose: np.ndarray | None = None, motion: Motion | None = None
                 ) -> Path:
    """Write one format of ``avatar`` to ``path`` (atomic); ``pose`` [55, 3] poses the :data:`POSED`
    formats instead of the fit's pose (then at the body's rest root); ``motion`` joins the built-in clips
    of the ``html`` player, animates the rigs and is the ``bvh`` file's motion. The path written."""
    from core.export.body import save_body_mesh, save_body_parameters, vertex_colours
    from core.export.bvh import save_bvh
    from core.export.gltf import save_rigged_glb
    from core.export.html_player import save_html_player
    from core.export.splat_gltf import save_splat_glb
    from core.io.ply import write_ply
    from core.io.spz import write_spz
    from core.io.video import write_image
    from core.persist.bundle import save_bundle
    from core.render.offline import framed_camera, render_image

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; formats are {', '.join(FORMATS)}")
    if fit is None and fmt in NEEDS_FIT and not (pose is not None and fmt in POSED):
        raise ValueError(f"{fmt} needs the body fit, which this avatar does not have")
    if fmt in NEEDS_MOTION and motion is None:
        raise ValueError(f"{fmt} {_CHOOSE_MOTION}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "avatar":
        return save_bundle(path, avatar, fit, photo)
    if fmt == "ply":
        write_ply(path, avatar.canonical(body))
    elif fmt == "splats":
        return save_splat_glb(path, avatar.canonical(body), path.stem)
    elif fmt == "spz":
        return write_spz(path, avatar.canonical(body))
    elif fmt == "html":
        return save_html_player(path, avatar, body, motion)
    elif fmt == "bvh":
        return save_bvh(path, body, avatar.shape, motion)
    elif fmt in POSED:
        posed = (avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root)) if pose is None
                 else avatar.posed(body, torch.as_tensor(pose, dtype=torch.float32)))
        if fmt == "posed":
            write_ply(path, posed)
        elif fmt == "posed_splats":
            return save_splat_glb(path, posed, path.stem)
        elif fmt == "posed_spz":
            return write_spz(path, posed)
        else:
            views = [render_image(posed, framed_camera(posed, azimuth, 5.0), 384) for azimuth in (0.0, 180.0)]
            write_image(path, np.concatenate(views, 1))
    elif fmt == "fit":
        return fit.save(path)
    elif fmt == "params":
        return save_body_parameters(path, fit)
    elif fmt == "mesh":
        return save_body_mesh(path, body, fit, avatar)
    else:
        return save_rigged_glb(path, body, avatar.shape, vertex_colours(body, avatar),
                               rig="humanoid" if fmt == "humanoid" else "native", motions=[motion] if motion else [])
    return path


def write_formats(stem: Path, formats: tuple[str, ...], body: BodyModel, avatar: Avatar, fit: BodyFit | None,
                  photo: np.ndarray | None = None, motion: Motion | None = None) -> list[Path]:
    """Write ``formats`` of ``avatar`` (posed by ``fit``; ``motion`` in the html player, the rigs and the
    bvh file) next to ``stem``; the paths written. Checked before anything is written."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(unknown)}; formats are {', '.join(FORMATS)}")
    if fit is None and any(f in NEEDS_FIT for f in formats):
        raise ValueError(f"{', '.join(f for f in formats if f in NEEDS_FIT)} need(s) the body fit, which this "
                         "avatar does not have")
    if motion is None and any(f in NEEDS_MOTION for f in formats):
        raise ValueError(f"{', '.join(f for f in formats if f in NEEDS_MOTION)} {_CHOOSE_MOTION}")
    return [write_format(fmt, stem.parent / f"{stem.name}{SUFFIXES[fmt]}", body, avatar, fit, photo, motion=motion)
            for fmt in FORMATS if fmt in formats]
