"""Data the OpenGL viewport uploads: packed splat texels, depth order and draw indices.

The splat shader (``shaders/splat.vert``) reads, for splat ``i``:

- geometry texture, row ``i // SPLATS_PER_ROW``, texels ``3·(i % SPLATS_PER_ROW) + 0..2``:
  ``[x, y, z, opacity]``, ``[Σxx, Σxy, Σxz, Σyy]``, ``[Σyz, Σzz, 0, 0]`` (world metres, activated
  opacity, world covariance in metres²);
- colour texture, row ``i // SPLATS_PER_ROW``, texel ``i % SPLATS_PER_ROW``: ``[r, g, b, 1]``, the
  degree-0 colour ``0.5 + SH_C0·sh₀`` (not clamped: the shader clamps after adding the higher degrees);
- for SH degree d > 0, the SH texture, row ``i // SPLATS_PER_ROW``, texels ``T·(i % SPLATS_PER_ROW) +
  0..T-1`` with ``T = sh_texels(d)``: coefficients 1..(d+1)²-1 as consecutive rgb triplets
  (``[c1.r, c1.g, c1.b, c2.r]``, ``[c2.g, …]``, …, zero-padded).

Skinned splats (body mode) also read, for splat ``i``, two texels of the skin texture (same row
layout, texels ``2·(i % SPLATS_PER_ROW) + 0..1``): 4 bone indices, then their 4 weights; and for
bone ``b`` four texels of the bone texture (row 0, texels ``4b + 0..3``): the three rows of its 3x4
transform (posed · rest⁻¹), then its rotation quaternion (wxyz, in its parent's hemisphere).

Drawing order: :func:`back_to_front` gives the splat ids the projection pass visits, so its
output (and the quads drawn from it) is sorted far to near.
"""

from __future__ import annotations

import numpy as np
import torch

from core.gaussians import SH_C0, SH_COEFFS, GaussianCloud, sh_degree_for
from core.render import depth_sort

SPLATS_PER_ROW = 1024


def texture_rows(n: int) -> int:
    """Rows of the splat textures for ``n`` splats."""
    return max(1, -(-n // SPLATS_PER_ROW))


def _pad_rows(values: np.ndarray, texels_per_splat: int) -> np.ndarray:
    """[N, 4·t] → [rows, SPLATS_PER_ROW·t, 4] float32, zero-padded to full rows."""
    n = values.shape[0]
    out = np.zeros((texture_rows(n) * SPLATS_PER_ROW, 4 * texels_per_splat), dtype=np.float32)
    out[:n] = values
    return out.reshape(texture_rows(n), SPLATS_PER_ROW * texels_per_splat, 4)


def pack_geometry(means: np.ndarray, covariances: np.ndarray, opacities: np.ndarray) -> np.ndarray:
    """Geometry texels [rows, 3·SPLATS_PER_ROW, 4] from means [N,3], covariances [N,3,3], opacities [N]."""
    n = means.shape[0]
    packed = np.zeros((n, 12), dtype=np.float32)
    packed[:, 0:3] = means
    packed[:, 3] = opacities
    packed[:, 4:8] = covariances[:, [0, 0, 0, 1], [0, 1, 2, 1]]
    packed[:, 8:10] = covariances[:, [1, 2], [2, 2]]
    return _pad_rows(packed, 3)


def pack_colors(rgb: np.ndarray) -> np.ndarray:
    """Colour texels [rows, SPLATS_PER_ROW, 4] from RGB [N, 3]."""
    packed = np.ones((rgb.shape[0], 4), dtype=np.float32)
    packed[:, :3] = rgb
    return _pad_rows(packed, 1)


def sh_texels(degree: int) -> int:
    """Texels per splat of the SH texture for SH ``degree`` (0 for degree 0)."""
    return -(-3 * (SH_COEFFS[degree] - 1) // 4)


def pack_sh(sh: np.ndarray) -> np.ndarray:
    """SH texels [rows, sh_texels·SPLATS_PER_ROW, 4] of the higher-degree coefficients of ``sh``
    [N, K, 3], K in {4, 9, 16}; see the module docstring."""
    n, k = sh.shape[:2]
    texels = sh_texels(sh_degree_for(k))
    packed = np.zeros((n, 4 * texels), dtype=np.float32)
    packed[:, : 3 * (k - 1)] = sh[:, 1:].reshape(n, -1)
    return _pad_rows(packed, texels)


def pack_cloud(cloud: GaussianCloud) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(geometry texels, degree-0 colour texels, SH texels or None for degree 0) of a cloud, see the
    module docstring."""
    with torch.no_grad():
        c = cloud.to("cpu", torch.float32)
        sh = c.sh.numpy()
        return (
            pack_geometry(c.means.numpy(), c.covariances().numpy(), c.opacities().numpy()),
            pack_colors(0.5 + SH_C0 * sh[:, 0]),
            pack_sh(sh) if sh.shape[1] > 1 else None,
        )


def back_to_front(means: np.ndarray, viewmat: np.ndarray) -> np.ndarray:
    """Splat indices [N] (uint32) sorted by decreasing camera-space depth, ties in index order.

    Sorted by the compiled radix sort once :func:`core.render.depth_sort.prepare` has run in this
    process, by NumPy until then (same order, about 10× slower): it never waits for a compilation.
    """
    depth = means @ viewmat[2, :3].astype(np.float32)
    if depth_sort.is_compiled():
        return depth_sort.argsort_descending(depth)
    return np.argsort(-depth, kind="stable").astype(np.uint32)



def pack_skin(indices: torch.Tensor, weights: torch.Tensor) -> np.ndarray:
    """Skin texels [rows, 2·SPLATS_PER_ROW, 4] from the top-4 bone indices and weights [N, 4]."""
    if indices.shape[1] != 4 or weights.shape != indices.shape:
        raise ValueError(f"the viewport skins with 4 bones per splat, got {tuple(indices.shape)}")
    packed = np.concatenate([indices.numpy().astype(np.float32), weights.numpy().astype(np.float32)], 1)
    return _pad_rows(packed, 2)


def pack_bones(transforms: torch.Tensor, quats: torch.Tensor) -> np.ndarray:
    """Bone texels [1, 4·K, 4] from transforms [K, 4, 4] and rotation quaternions [K, 4] (wxyz)."""
    packed = torch.cat([transforms[:, :3, :].reshape(-1, 12), quats], 1).float().numpy()
    return packed.reshape(1, -1, 4)
