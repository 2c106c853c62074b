"""Tile compositing compiled by Numba: the maths of ``composite_torch`` as CPU loops, with a
hand-written backward. This is the fast path; ``composite_torch`` is its pure-PyTorch reference.

Semantics of gsplat's ``rasterize_to_pixels`` (classic), as ``composite_torch`` states them: per pixel,
the Gaussians binned to its tile in increasing depth order, ``σ = ½ dᵀ conic d`` (``d`` = pixel centre
− mean2d), ``α = min(0.999, o·e^{−σ})``, α < 1/255 or σ < 0 skipped, the Gaussian that would take the
transmittance T to 1e-4 or below ends the pixel undrawn. Outputs: colour ``Σ cᵢαᵢTᵢ + T·bg``, alpha
``1 − T``, accumulated depth ``Σ zᵢαᵢTᵢ``.

How it is fast:
- Binning as gsplat (16×16-pixel tiles, each Gaussian to every tile its extent rectangle touches),
  but without a sort per tile: Gaussians are placed in global depth order, so every tile's list is
  already front to back.
- Within a tile a Gaussian visits only the pixels of its α ≥ 1/255 ellipse, row by row (each row's
  span solves σ = ln(255·o), widened by a pixel; α still decides every pixel exactly), within its
  extent's rows: nowhere else could α reach 1/255, so the result is gsplat's.
- A tile stops once each of its pixels has ended.
- The backward repeats the forward loop and takes every "what lies behind" term from the saved final
  pixels (nothing per pair is kept from the forward). Each (tile, Gaussian) pair sums its gradient over
  its pixels; pairs are then summed per Gaussian in list order, so the result is the same for any
  number of threads.

Arithmetic is float64 whatever the input dtype; results are returned in the input dtype. Tiles are
shared among ``torch.get_num_threads()`` threads running GIL-free kernels.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from core.render.projection import ALPHA_THRESHOLD
from core.render.threads import run_split

TILE = 16  # pixels, as gsplat
MAX_ALPHA = 0.999
MIN_TRANSMITTANCE = 1e-4
# Columns of the packed per-Gaussian array handed to the kernels.
_MX, _MY, _CA, _CB, _CC, _OPACITY, _RX, _RY, _DEPTH, _SIGMA_MAX = range(10)
# Columns of a pair's gradient row: means2d (2), conic (3), opacity, depth, then the D colour channels.
_G_MEANS, _G_CONIC, _G_OPACITY, _G_DEPTH, _G_COLOR = 0, 2, 5, 6, 7


@njit(nogil=True, cache=True)
def _pixel_span(centre: float, radius: float, lo: int, hi: int) -> tuple[int, int]:
    """Pixels ``[a, b)`` of ``[lo, hi)`` whose centres (+0.5) lie within ``radius`` of ``centre``, one
    pixel wider on each side (α decides there)."""
    a = max(lo, int(math.floor(centre - radius - 0.5)))
    b = min(hi, int(math.ceil(centre + radius - 0.5)) + 1)
    return a, b


@njit(nogil=True, cache=True)
def _row_span(dy: float, mx: float, ca: float, cb: float, cc: float, sigma_max: float, lo: int, hi: int
              ) -> tuple[int, int]:
    """Pixels ``[a, b)`` of ``[lo, hi)`` on a row ``dy`` from the mean where σ ≤ sigma_max may hold: the
    roots of ½ca·dx² + cb·dy·dx + ½cc·dy² = sigma_max, one pixel wider on each side (α decides there)."""
    disc = (cb * dy) ** 2 - ca * (cc * dy * dy - 2.0 * sigma_max)
    if disc < 0.0:
        return lo, lo
    root = math.sqrt(disc)
    a = max(lo, int(math.floor(mx - 0.5 + (-cb * dy - root) / ca)))
    b = min(hi, int(math.ceil(mx - 0.5 + (-cb * dy + root) / ca)) + 1)
    return a, b


@njit(nogil=True, cache=True)
def _tile_box(tile: int, tiles_x: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel box ``x0, y0, x1, y1`` (ends exclusive) of ``tile``, clipped to the image."""
    x0, y0 = (tile % tiles_x) * TILE, (tile // tiles_x) * TILE
    return x0, y0, min(x0 + TILE, width), min(y0 + TILE, height)


@njit(nogil=True, cache=True)
def _alpha_at(dx: float, dy: float, ca: float, cb: float, cc: float, opacity: float) -> tuple[float, float]:
    """``(e^{−σ}, α)`` at pixel offset (dx, dy) from a splat's centre; α = 0 where the pixel is skipped
    (σ < 0 or α < 1/255)."""
    sigma = 0.5 * (ca * dx * dx + cc * dy * dy) + cb * dx * dy
    if sigma < 0.0:
        return 0.0, 0.0
    gaussian = math.exp(-sigma)
    alpha = min(MAX_ALPHA, opacity * gaussian)
    return (gaussian, alpha) if alpha >= ALPHA_THRESHOLD else (gaussian, 0.0)


@njit(nogil=True, cache=True)
def _tile_range(centre: float, radius: float, tiles: int) -> tuple[int, int]:
    """Tiles ``[a, b)`` along one axis that an extent ``centre ± radius`` (pixels) touches, as gsplat."""
    a = min(max(int(math.floor((centre - radius) / TILE)), 0), tiles)
    b = min(max(int(math.ceil((centre + radius) / TILE)), 0), tiles)
    return a, b


@njit(nogil=True, cache=True)
def _bin(order: np.ndarray, packed: np.ndarray, tiles_x: int, tiles_y: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian ids by (tile, depth) and per-tile offsets [tiles + 1]; ``order``: visible ids by depth."""
    counts = np.zeros(tiles_x * tiles_y + 1, np.int64)
    for g in order:
        x0, x1 = _tile_range(packed[g, _MX], packed[g, _RX], tiles_x)
        y0, y1 = _tile_range(packed[g, _MY], packed[g, _RY], tiles_y)
        for ty in range(y0, y1):
            for tx in range(x0, x1):
                counts[ty * tiles_x + tx + 1] += 1
    offsets = np.cumsum(counts)
    fill = offsets[:-1].copy()
    ids = np.empty(offsets[-1], np.int64)
    for g in order:
        x0, x1 = _tile_range(packed[g, _MX], packed[g, _RX], tiles_x)
        y0, y1 = _tile_range(packed[g, _MY], packed[g, _RY], tiles_y)
        for ty in range(y0, y1):
            for tx in range(x0, x1):
                tile = ty * tiles_x + tx
                ids[fill[tile]] = g
                fill[tile] += 1
    return ids, offsets


@njit(nogil=True, cache=True)
def _forward_tiles(tiles: np.ndarray, ids: np.ndarray, offsets: np.ndarray, packed: np.ndarray, colors: np.ndarray,
                   background: np.ndarray, width: int, height: int, tiles_x: int, out_color: np.ndarray,
                   out_t: np.ndarray, out_depth: np.ndarray) -> None:
    """Composite ``tiles`` into out_color [H, W, D], out_t (final transmittance) [H, W], out_depth [H, W]."""
    channels = colors.shape[1]
    trans = np.empty(TILE * TILE)
    ended = np.empty(TILE * TILE, np.bool_)
    color = np.empty((TILE * TILE, channels))
    depth = np.empty(TILE * TILE)
    for tile in tiles:
        x0, y0, x1, y1 = _tile_box(tile, tiles_x, width, height)
        trans[:] = 1.0
        ended[:] = False
        color[:] = 0.0
        depth[:] = 0.0
        remaining = (x1 - x0) * (y1 - y0)
        for k in range(offsets[tile], offsets[tile + 1]):
            g = ids[k]
            mx, my, ca, cb, cc = packed[g, _MX], packed[g, _MY], packed[g, _CA], packed[g, _CB], packed[g, _CC]
            opacity, z = packed[g, _OPACITY], packed[g, _DEPTH]
            sigma_max = packed[g, _SIGMA_MAX]
            ya, yb = _pixel_span(my, packed[g, _RY], y0, y1)
            for py in range(ya, yb):
                dy = py + 0.5 - my
                xa, xb = _row_span(dy, mx, ca, cb, cc, sigma_max, x0, x1)
                for px in range(xa, xb):
                    p = (py - y0) * TILE + px - x0
                    if ended[p]:
                        continue
                    _, alpha = _alpha_at(px + 0.5 - mx, dy, ca, cb, cc, opacity)
                    if alpha == 0.0:
                        continue
                    after = trans[p] * (1.0 - alpha)
                    if after <= MIN_TRANSMITTANCE:
                        ended[p] = True
                        remaining -= 1
                        continue
                    weight = alpha * trans[p]
                    for d in range(channels):
                        color[p, d] += weight * colors[g, d]
                    depth[p] += weight * z
                    trans[p] = after
            if remaining == 0:
                break
        for py in range(y0, y1):
            for px in range(x0, x1):
                p = (py - y0) * TILE + px - x0
                for d in range(channels):
                    out_color[py, px, d] = color[p, d] + trans[p] * background[d]
                out_t[py, px] = trans[p]
                out_depth[py, px] = depth[p]


@njit(nogil=True, cache=True)
def _backward_tiles(tiles: np.ndarray, ids: np.ndarray, offsets: np.ndarray, packed: np.ndarray,
                    colors: np.ndarray, width: int, height: int, tiles_x: int, grad_color: np.ndarray,
                    grad_alpha: np.ndarray, grad_depth: np.ndarray, final_color: np.ndarray, final_t: np.ndarray,
                    final_depth: np.ndarray, pair_grads: np.ndarray) -> None:
    """Gradient rows [M, 7 + D] of every (tile, Gaussian) pair of ``tiles`` from the pixels' gradients
    (grad_color [H, W, D], grad_alpha [H, W], grad_depth [H, W]) and the forward's final pixels."""
    channels = colors.shape[1]
    trans = np.empty(TILE * TILE)
    ended = np.empty(TILE * TILE, np.bool_)
    total = np.empty(TILE * TILE)  # final colour · dL/dC
    upto_color = np.empty(TILE * TILE)  # Σ_{j ≤ i} wⱼ cⱼ·dL/dC
    upto_depth = np.empty(TILE * TILE)
    for tile in tiles:
        x0, y0, x1, y1 = _tile_box(tile, tiles_x, width, height)
        trans[:] = 1.0
        ended[:] = False
        upto_color[:] = 0.0
        upto_depth[:] = 0.0
        for py in range(y0, y1):
            for px in range(x0, x1):
                p = (py - y0) * TILE + px - x0
                total[p] = 0.0
                for d in range(channels):
                    total[p] += final_color[py, px, d] * grad_color[py, px, d]
        remaining = (x1 - x0) * (y1 - y0)
        for k in range(offsets[tile], offsets[tile + 1]):
            g = ids[k]
            mx, my, ca, cb, cc = packed[g, _MX], packed[g, _MY], packed[g, _CA], packed[g, _CB], packed[g, _CC]
            opacity, z = packed[g, _OPACITY], packed[g, _DEPTH]
            sigma_max = packed[g, _SIGMA_MAX]
            ya, yb = _pixel_span(my, packed[g, _RY], y0, y1)
            row = pair_grads[k]
            for py in range(ya, yb):
                dy = py + 0.5 - my
                xa, xb = _row_span(dy, mx, ca, cb, cc, sigma_max, x0, x1)
                for px in range(xa, xb):
                    p = (py - y0) * TILE + px - x0
                    if ended[p]:
                        continue
                    dx = px + 0.5 - mx
                    gaussian, alpha = _alpha_at(dx, dy, ca, cb, cc, opacity)
                    if alpha == 0.0:
                        continue
                    before = trans[p]
                    keep = 1.0 - alpha
                    after = before * keep
                    if after <= MIN_TRANSMITTANCE:
                        ended[p] = True
                        remaining -= 1
                        continue
                    weight = alpha * before
                    color_dot = 0.0
                    for d in range(channels):
                        gc = grad_color[py, px, d]
                        color_dot += colors[g, d] * gc
                        row[_G_COLOR + d] += weight * gc
                    gd = grad_depth[py, px]
                    row[_G_DEPTH] += weight * gd
                    upto_color[p] += weight * color_dot
                    upto_depth[p] += weight * z
                    trans[p] = after
                    if opacity * gaussian >= MAX_ALPHA:
                        continue  # α is clamped: it does not move with opacity or σ
                    # what lies behind this Gaussian (later ones + background) = final value − all up to it
                    d_alpha = (before * color_dot - (total[p] - upto_color[p]) / keep
                               + grad_alpha[py, px] * final_t[py, px] / keep
                               + gd * (before * z - (final_depth[py, px] - upto_depth[p]) / keep))
                    row[_G_OPACITY] += d_alpha * gaussian
                    d_sigma = -alpha * d_alpha
                    row[_G_MEANS] -= (ca * dx + cb * dy) * d_sigma
                    row[_G_MEANS + 1] -= (cb * dx + cc * dy) * d_sigma
                    row[_G_CONIC] += 0.5 * dx * dx * d_sigma
                    row[_G_CONIC + 1] += dx * dy * d_sigma
                    row[_G_CONIC + 2] += 0.5 * dy * dy * d_sigma
            if remaining == 0:
                break


@njit(nogil=True, cache=True)
def _sum_pairs(ids: np.ndarray, pair_grads: np.ndarray, count: int) -> np.ndarray:
    """Per-Gaussian gradient rows [count, 7 + D]: the pairs' rows summed in list order."""
    grads = np.zeros((count, pair_grads.shape[1]))
    for k in range(ids.shape[0]):
        g = ids[k]
        for j in range(pair_grads.shape[1]):
            grads[g, j] += pair_grads[k, j]
    return grads




class _Composite(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means2d, conics, colors, opacities, depths, background, radii, width, height):
        tiles_x, tiles_y = -(-width // TILE), -(-height // TILE)
        packed = np.empty((means2d.shape[0], 10))
        packed[:, [_MX, _MY]] = means2d.detach().numpy()
        packed[:, [_CA, _CB, _CC]] = conics.detach().numpy()
        packed[:, _OPACITY] = opacities.detach().numpy()
        packed[:, [_RX, _RY]] = radii.numpy()
        packed[:, _DEPTH] = depths.detach().numpy()
        with np.errstate(divide="ignore"):  # α ≥ 1/255 ⇔ σ ≤ ln(255 o); a little wider, α decides exactly
            packed[:, _SIGMA_MAX] = np.log(255.0 * packed[:, _OPACITY]) + 1e-6
        visible = np.nonzero((radii > 0).all(-1).numpy())[0]
        order = visible[np.argsort(packed[visible, _DEPTH], kind="stable")]
        ids, offsets = _bin(order, packed, tiles_x, tiles_y)
        tiles = np.nonzero(offsets[1:] > offsets[:-1])[0]
        colors64 = np.ascontiguousarray(colors.detach().numpy(), dtype=np.float64)
        bg = background.detach().numpy().astype(np.float64)
        color = np.empty((height, width, colors.shape[1]))
        color[:] = bg  # tiles without Gaussians show the background
        final_t = np.ones((height, width))
        depth = np.zeros((height, width))
        run_split(_forward_tiles, tiles, ids, offsets, packed, colors64, bg, width, height, tiles_x, color,
                   final_t, depth)
        ctx.kernel_state = (tiles, ids, offsets, packed, colors64, color, final_t, depth)
        ctx.size = (width, height)
        ctx.count = means2d.shape[0]
        dtype = colors.dtype
        return tuple(torch.from_numpy(x).to(dtype) for x in (color, 1.0 - final_t, depth))

    @staticmethod
    def backward(ctx, grad_image, grad_alpha, grad_depth):
        tiles, ids, offsets, packed, colors64, color, final_t, depth = ctx.kernel_state
        width, height = ctx.size
        g_color, g_alpha, g_depth = (np.ascontiguousarray(g.numpy(), dtype=np.float64)
                                     for g in (grad_image, grad_alpha, grad_depth))
        pair_grads = np.zeros((len(ids), _G_COLOR + colors64.shape[1]))
        run_split(_backward_tiles, tiles, ids, offsets, packed, colors64, width, height, -(-width // TILE),
                   g_color, g_alpha, g_depth, color, final_t, depth, pair_grads)
        grads = torch.from_numpy(_sum_pairs(ids, pair_grads, ctx.count)).to(grad_image.dtype)
        d_background = torch.from_numpy((final_t[..., None] * g_color).sum((0, 1))).to(grad_image.dtype)
        return (grads[:, _G_MEANS:_G_MEANS + 2], grads[:, _G_CONIC:_G_CONIC + 3], grads[:, _G_COLOR:],
                grads[:, _G_OPACITY], grads[:, _G_DEPTH], d_background, None, None, None)


def composite(means2d: torch.Tensor, conics: torch.Tensor, colors: torch.Tensor, opacities: torch.Tensor,
              depths: torch.Tensor, radii: torch.Tensor, background: torch.Tensor, width: int, height: int
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One camera: means2d [N, 2], conics [N, 3], colors [N, D], opacities [N], depths [N], radii
    [N, 2] (0 = culled), background [D] → colour [H, W, D], alpha [H, W], accumulated depth [H, W]
    (CPU tensors; same contract as ``composite_torch.composite``)."""
    return _Composite.apply(means2d, conics, colors, opacities, depths, background, radii, width, height)
