"""Gaussian splats as a glTF 2.0 binary (``.glb``) with the Khronos ``KHR_gaussian_splatting`` extension.

Follows the extension text of KhronosGroup/glTF (``extensions/2.0/Khronos/KHR_gaussian_splatting``,
editorial review of 2026-04-15, status Release Candidate): one mesh primitive of ``mode`` POINTS (0)
whose vertex attributes are

- ``POSITION`` VEC3 float (metres, with min/max),
- ``KHR_gaussian_splatting:ROTATION`` VEC4 float, the unit quaternion in glTF order **x, y, z, w**
  (our clouds store w, x, y, z),
- ``KHR_gaussian_splatting:SCALE`` VEC3 float, **linear** standard deviations (not their log, as the
  first draft and the 3DGS ``.ply`` have),
- ``KHR_gaussian_splatting:OPACITY`` SCALAR float, **linear** in [0, 1] (after the sigmoid),
- ``KHR_gaussian_splatting:SH_DEGREE_l_COEF_n`` VEC3 float, the raw spherical-harmonics coefficients
  (degree 0 is the 3DGS ``f_dc``; colour = 0.5 + Σ SH · basis), coefficients ordered m = −l … +l,
  which is the order of :attr:`core.gaussians.GaussianCloud.sh`,
- ``COLOR_0`` VEC4 unsigned-byte normalised: the fallback point colour for readers without the
  extension (the degree-0 colour decoded from sRGB to linear, as glTF colours are; alpha = opacity),

and the extension object ``{"kernel": "ellipse", "colorSpace": "srgb_rec709_display", "projection":
"perspective", "sortingMethod": "cameraDistance"}``. The extension is listed in ``extensionsUsed``
only: a reader without it still shows the points. Axes: the avatar's frame is glTF's (metres, +Y up,
the person facing +Z), so nothing is converted. Written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.export.glb import ARRAY_BUFFER, FLOAT, UBYTE, GlbBuilder
from core.gaussians import SH_C0, GaussianCloud
from core.io.atomic import write_bytes_atomic

EXTENSION = "KHR_gaussian_splatting"


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] (any shape) to linear light (IEC 61966-2-1)."""
    values = np.clip(values, 0.0, 1.0)
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def splat_attributes(cloud: GaussianCloud) -> dict[str, np.ndarray]:
    """The extension's attribute arrays of ``cloud`` by semantic name (float32; ``COLOR_0`` uint8)."""
    sh = cloud.sh.detach().double().numpy()  # [N, K, 3]
    quats = cloud.quats.detach().double().numpy()
    quats = quats / np.linalg.norm(quats, axis=1, keepdims=True).clip(1e-12)
    opacity = cloud.opacities().detach().double().numpy()
    arrays = {
        "POSITION": cloud.means.detach().numpy().astype(np.float32),
        f"{EXTENSION}:ROTATION": quats[:, [1, 2, 3, 0]].astype(np.float32),
        f"{EXTENSION}:SCALE": cloud.scales().detach().numpy().astype(np.float32),
        f"{EXTENSION}:OPACITY": opacity.astype(np.float32),
    }
    degree = int(round(np.sqrt(sh.shape[1]))) - 1
    for level in range(degree + 1):
        for n in range(2 * level + 1):
            arrays[f"{EXTENSION}:SH_DEGREE_{level}_COEF_{n}"] = sh[:, level * level + n].astype(np.float32)
    linear = srgb_to_linear(SH_C0 * sh[:, 0] + 0.5)
    rgba = np.concatenate([linear, opacity[:, None]], 1)
    arrays["COLOR_0"] = np.round(rgba * 255).astype(np.uint8)
    return arrays


def save_splat_glb(path: str | os.PathLike[str], cloud: GaussianCloud, name: str = "avatar") -> Path:
    """Write ``cloud`` (metres, the avatar's frame) to ``path`` as a ``KHR_gaussian_splatting`` ``.glb``."""
    target = Path(path)
    if target.suffix.lower() != ".glb":
        raise ValueError(f"glTF splats are written as .glb, not '{target.suffix}'")
    if len(cloud) == 0:
        raise ValueError("the avatar has no Gaussians to write")
    glb = GlbBuilder()
    attributes = {}
    for semantic, array in splat_attributes(cloud).items():
        kind = {1: "SCALAR", 3: "VEC3", 4: "VEC4"}[1 if array.ndim == 1 else array.shape[1]]
        if semantic == "COLOR_0":
            attributes[semantic] = glb.add(array, UBYTE, kind, ARRAY_BUFFER, normalized=True)
        else:
            attributes[semantic] = glb.add(array, FLOAT, kind, ARRAY_BUFFER, bounds=semantic == "POSITION")
    splats = {"kernel": "ellipse", "colorSpace": "srgb_rec709_display", "projection": "perspective",
              "sortingMethod": "cameraDistance"}
    document = {
        "asset": {"version": "2.0", "generator": "Avatarium"},
        "extensionsUsed": [EXTENSION],
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"name": name, "mesh": 0}],
        "meshes": [{"name": name, "primitives": [{"attributes": attributes, "mode": 0,
                                                  "extensions": {EXTENSION: splats}}]}],
    }
    write_bytes_atomic(target, glb.pack(document))
    return target
