"""The avatar as one self-contained ``.html`` file that plays it in any WebGL 2 browser, offline.

The page holds the player (``resources/player/``: page, script; ``shaders/web_splat.*``: GLSL ES) and
the avatar's data, gzip-compressed and base64-encoded inside it, so it opens from a file or a mail
attachment with no network request (its Content-Security-Policy forbids them). The data are the
rest-pose splats in the desktop viewport's texture layout (:mod:`core.render.viewport_data`: geometry,
degree-0 colours, higher SH, the four strongest bones and weights per splat) and, for every motion,
each frame's bone transforms as ``[T, K, 7]`` float32 rows ``tx ty tz qw qx qy qz`` (``posed · rest⁻¹``
of each skinning bone: rotation quaternion wxyz in its parent's hemisphere, translation in world
metres) and the pelvis translation ``[T, 3]``. The browser poses the splats by linear blend skinning
on the GPU, as the desktop viewport does.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
import string
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from core import __version__
from core.avatar.avatar import Avatar
from core.body.lbs import bone_quaternions
from core.body.model import BodyModel
from core.body.motion_files import Motion
from core.body.motions import BUILTIN_MOTIONS, builtin_motion
from core.io.atomic import write_bytes_atomic
from core.render import viewport_data
from core.render.offline import framed_camera
from core.resources import resource_path, shader_source

#: Frame rate of the motions in the page (higher rates are resampled: the browser interpolates).
PLAYER_FPS = 30.0
#: Longest motion the page takes (seconds): each second costs about 90 kB per 100 bones.
MAX_SECONDS = 60.0


def motion_bones(avatar: Avatar, body: BodyModel, motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """Bone rows [T, K, 7] (translation, quaternion wxyz; see the module docstring) and pelvis translations
    [T, 3] (metres) of ``motion`` played on ``avatar``'s body."""
    if motion.duration > MAX_SECONDS:
        raise ValueError(f"motion '{motion.name}' lasts {motion.duration:.0f} s; the HTML player takes at most "
                         f"{MAX_SECONDS:.0f} s per motion: cut it shorter")
    if motion.fps > PLAYER_FPS:
        motion = motion.resample(PLAYER_FPS)
    transforms = body.bone_transforms(torch.tensor(avatar.shape, dtype=torch.float32)[None], motion.poses,
                                      motion.trans)
    quats = bone_quaternions(transforms, avatar.binding.bone_parents)
    rows = torch.cat([transforms[..., :3, 3], quats], -1)
    return rows.numpy().astype(np.float32), motion.trans.numpy().astype(np.float32)


def player_motions(extra: Motion | None = None) -> list[Motion]:
    """The built-in clips at :data:`PLAYER_FPS`, then ``extra`` (e.g. the timeline's motion) unless it is
    one of them; another motion of a built-in clip's name gets a suffix."""
    motions = [builtin_motion(name, PLAYER_FPS) for name in BUILTIN_MOTIONS]
    if extra is None:
        return motions
    if extra.name in BUILTIN_MOTIONS:
        same = builtin_motion(extra.name, extra.fps)
        if same.poses.shape == extra.poses.shape and torch.allclose(same.poses, extra.poses.to(same.poses)):
            return motions
        extra = Motion(extra.poses, extra.trans, extra.fps, f"{extra.name} (timeline)")
    return [*motions, extra]


def player_data(avatar: Avatar, body: BodyModel, motions: Sequence[Motion],
                progress: Callable[[int, int], None] | None = None) -> tuple[dict, bytes]:
    """(meta, payload): the JSON description and the uncompressed binary the page carries."""
    if not motions:
        raise ValueError("the HTML player needs at least one motion")
    if body.name != avatar.body_model:
        raise ValueError(f"this avatar is bound to the {avatar.body_model} body, not {body.name}")
    cloud = avatar.cloud.to("cpu", torch.float32)
    indices, weights = avatar.binding.top(4)
    geometry, colours, sh = viewport_data.pack_cloud(cloud)
    blobs: list[np.ndarray] = []
    offset = 0

    def add(values: np.ndarray) -> dict:
        nonlocal offset
        flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
        blobs.append(flat)
        entry = {"offset": offset, "length": int(flat.size)}
        offset += flat.nbytes
        return entry

    camera = framed_camera(cloud)
    meta = {
        "format": "avatarium-player", "version": 1, "splats": len(cloud), "bones": len(avatar.binding.bone_parents),
        "splatsPerRow": viewport_data.SPLATS_PER_ROW, "shTexels": viewport_data.sh_texels(cloud.sh_degree),
        "geometry": add(geometry), "colors": add(colours), "skin": add(viewport_data.pack_skin(indices, weights)),
        "sh": add(sh) if sh is not None else None,
        "camera": {"target": [float(v) for v in camera.target], "distance": float(camera.distance),
                   "fov": float(camera.fov_y), "radius": float(cloud.radius())},
        "background": [0.114, 0.129, 0.149], "clips": [],
    }
    for i, motion in enumerate(motions):
        bones, root = motion_bones(avatar, body, motion)
        meta["clips"].append({"name": motion.name, "fps": min(float(motion.fps), PLAYER_FPS), "frames": len(bones),
                              "bones": add(bones), "root": add(root)})
        if progress is not None:
            progress(i + 1, len(motions))
    return meta, b"".join(blob.tobytes() for blob in blobs)


def player_html(meta: dict, payload: bytes, title: str) -> str:
    """The page: the template of ``resources/player`` filled with ``meta``, the compressed ``payload``,
    the shaders and the script."""
    template = string.Template(resource_path("player", "player.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=html.escape(title), generator=f"Avatarium {__version__}",
        meta=json.dumps(meta, separators=(",", ":")).replace("</", "<\\/"),
        data=base64.b64encode(gzip.compress(payload, compresslevel=9, mtime=0)).decode("ascii"),
        vertex_shader=shader_source("web_splat.vert"), fragment_shader=shader_source("web_splat.frag"),
        script=resource_path("player", "player.js").read_text(encoding="utf-8"),
    )


def save_html_player(path: str | os.PathLike[str], avatar: Avatar, body: BodyModel, motion: Motion | None = None,
                     title: str | None = None, progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``avatar`` as a self-contained HTML player of the built-in clips and ``motion`` (atomic)."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the player is written as .html, not '{target.suffix}'")
    meta, payload = player_data(avatar, body, player_motions(motion), progress)
    text = player_html(meta, payload, title or target.stem)
    write_bytes_atomic(target, text.encode("utf-8"))
    return target
