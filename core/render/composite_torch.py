"""Tile-sparse front-to-back alpha compositing in pure PyTorch, with a hand-written backward.

Semantics of gsplat's ``rasterize_to_pixels`` (classic): per pixel, the Gaussians touching its
tile in increasing depth order, ``σ = ½ dᵀ conic d`` with ``d = pixel centre − mean2d``,
``α = min(0.999, o·e^{−σ})``; α < 1/255 (or σ < 0) is skipped; the Gaussian that would take the
transmittance T to 1e-4 or below ends the pixel and is not drawn. Outputs per pixel: colour
``Σ cᵢαᵢTᵢ + T·bg``, alpha ``1 − T``, accumulated depth ``Σ zᵢαᵢTᵢ``.

Binning: each Gaussian's extent rectangle is cut into 16×16 tiles; pairs (tile, Gaussian) are
sorted by tile then depth in one integer sort. Tiles are composited in chunks whose padded
[tiles, 256 pixels, Gaussians-per-tile] work stays under a memory budget; the backward pass
recomputes each chunk (as gsplat does) instead of storing per-pair state.
"""

from __future__ import annotations

import torch

from core.render.projection import ALPHA_THRESHOLD

TILE = 16
MAX_ALPHA = 0.999
MIN_TRANSMITTANCE = 1e-4
_BUDGET = 1 << 22  # padded pixel×Gaussian entries per chunk (≈ 16 MB per float tensor)


def bin_tiles(means2d: torch.Tensor, radii: torch.Tensor, depths: torch.Tensor, width: int, height: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian ids sorted by (tile, depth) and per-tile offsets [tiles + 1] into them (one camera)."""
    tiles_x, tiles_y = -(-width // TILE), -(-height // TILE)
    valid = (radii > 0).all(-1)
    ids = torch.nonzero(valid)[:, 0]
    m, r = means2d.detach()[ids], radii[ids].to(means2d.dtype)
    x0 = torch.floor((m[:, 0] - r[:, 0]) / TILE).clamp(0, tiles_x).long()
    x1 = torch.ceil((m[:, 0] + r[:, 0]) / TILE).clamp(0, tiles_x).long()
    y0 = torch.floor((m[:, 1] - r[:, 1]) / TILE).clamp(0, tiles_y).long()
    y1 = torch.ceil((m[:, 1] + r[:, 1]) / TILE).clamp(0, tiles_y).long()
    w, h = (x1 - x0).clamp_min(0), (y1 - y0).clamp_min(0)
    counts = w * h
    owner = torch.repeat_interleave(torch.arange(len(ids)), counts)
    start = torch.cumsum(counts, 0) - counts
    local = torch.arange(int(counts.sum())) - start[owner]
    tile = (y0[owner] + local // w[owner]) * tiles_x + x0[owner] + local % w[owner]
    rank = torch.empty(len(ids), dtype=torch.long)
    rank[torch.argsort(depths.detach()[ids], stable=True)] = torch.arange(len(ids))
    order = torch.argsort(tile * max(len(ids), 1) + rank[owner])
    offsets = torch.zeros(tiles_x * tiles_y + 1, dtype=torch.long)
    offsets[1:] = torch.cumsum(torch.bincount(tile, minlength=tiles_x * tiles_y), 0)
    return ids[owner[order]], offsets


def _chunks(offsets: torch.Tensor) -> list[tuple[int, int]]:
    """Consecutive tile ranges whose padded work fits the budget."""
    counts = (offsets[1:] - offsets[:-1]).tolist()
    chunks, start, widest = [], 0, 0
    for t, n in enumerate(counts):
        widest_next = max(widest, n)
        if t > start and (t + 1 - start) * TILE * TILE * widest_next > _BUDGET:
            chunks.append((start, t))
            start, widest_next = t, n
        widest = widest_next
    chunks.append((start, len(counts)))
    return chunks


def _chunk_state(t0: int, t1: int, gauss: torch.Tensor, offsets: torch.Tensor, means2d: torch.Tensor,
                 conics: torch.Tensor, opacities: torch.Tensor, tiles_x: int, width: int, height: int):
    """Padded per-pixel state of tiles [t0, t1): Gaussian ids, alpha, transmittance, mask…"""
    counts = offsets[t0 + 1: t1 + 1] - offsets[t0:t1]
    widest = int(counts.max()) if len(counts) else 0
    slot = torch.arange(widest)
    present = slot[None] < counts[:, None]  # [tiles, k]
    index = (offsets[t0:t1, None] + slot[None]).clamp_max(max(len(gauss) - 1, 0))
    ids = torch.where(present, gauss[index] if len(gauss) else torch.zeros_like(index), torch.zeros_like(index))
    tiles = torch.arange(t0, t1)
    py, px = torch.meshgrid(torch.arange(TILE), torch.arange(TILE), indexing="ij")
    pixel_x = (tiles % tiles_x)[:, None] * TILE + px.reshape(-1)[None]  # [tiles, 256]
    pixel_y = (tiles // tiles_x)[:, None] * TILE + py.reshape(-1)[None]
    inside = (pixel_x < width) & (pixel_y < height)
    dx = (pixel_x + 0.5).to(means2d)[..., None] - means2d[ids][:, None, :, 0]  # [tiles, 256, k]
    dy = (pixel_y + 0.5).to(means2d)[..., None] - means2d[ids][:, None, :, 1]
    con = conics[ids][:, None]  # [tiles, 1, k, 3]
    sigma = 0.5 * (con[..., 0] * dx * dx + con[..., 2] * dy * dy) + con[..., 1] * dx * dy
    gaussian = torch.exp(-sigma)
    raw = opacities[ids][:, None] * gaussian
    alpha = raw.clamp_max(MAX_ALPHA)
    use = present[:, None] & inside[..., None] & (sigma >= 0) & (alpha >= ALPHA_THRESHOLD)
    alpha = torch.where(use, alpha, torch.zeros_like(alpha))
    log_keep = torch.log1p(-alpha)
    before = torch.cumsum(log_keep, -1) - log_keep  # exclusive: log T before each Gaussian
    transmittance = torch.exp(before)
    done = use & (transmittance * (1 - alpha) <= MIN_TRANSMITTANCE)
    drawn = use & (torch.cumsum(done.to(torch.int32), -1) == 0)
    weight = torch.where(drawn, alpha * transmittance, torch.zeros_like(alpha))
    final_t = torch.exp(torch.where(drawn, log_keep, torch.zeros_like(log_keep)).sum(-1))  # [tiles, 256]
    pixel = pixel_y * width + pixel_x
    return {"ids": ids, "pixel": pixel, "inside": inside, "dx": dx, "dy": dy, "gaussian": gaussian,
            "raw": raw, "alpha": alpha, "transmittance": transmittance, "drawn": drawn, "weight": weight,
            "final_t": final_t}


class _Composite(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means2d, conics, colors, opacities, depths, background, gauss, offsets, width, height):
        tiles_x = -(-width // TILE)
        channels = colors.shape[-1]
        image = torch.zeros(height * width, channels, dtype=colors.dtype)
        alpha_out = torch.zeros(height * width, dtype=colors.dtype)
        depth_out = torch.zeros(height * width, dtype=colors.dtype)
        for t0, t1 in _chunks(offsets):
            s = _chunk_state(t0, t1, gauss, offsets, means2d, conics, opacities, tiles_x, width, height)
            inside = s["inside"]
            pixel = s["pixel"][inside]
            rgb = (s["weight"][..., None] * colors[s["ids"]][:, None]).sum(-2)  # [tiles, 256, D]
            image[pixel] = (rgb + s["final_t"][..., None] * background)[inside]
            alpha_out[pixel] = (1 - s["final_t"])[inside]
            depth_out[pixel] = (s["weight"] * depths[s["ids"]][:, None]).sum(-1)[inside]
        ctx.save_for_backward(means2d, conics, colors, opacities, depths, background, gauss, offsets)
        ctx.size = (width, height)
        return (image.reshape(height, width, channels), alpha_out.reshape(height, width),
                depth_out.reshape(height, width))

    @staticmethod
    def backward(ctx, grad_image, grad_alpha, grad_depth):
        means2d, conics, colors, opacities, depths, background, gauss, offsets = ctx.saved_tensors
        width, height = ctx.size
        tiles_x = -(-width // TILE)
        g_img = grad_image.reshape(-1, colors.shape[-1])
        g_alpha = grad_alpha.reshape(-1)
        g_depth = grad_depth.reshape(-1)
        d_means = torch.zeros_like(means2d)
        d_conics = torch.zeros_like(conics)
        d_colors = torch.zeros_like(colors)
        d_opacities = torch.zeros_like(opacities)
        d_depths = torch.zeros_like(depths)
        d_background = torch.zeros_like(background)
        for t0, t1 in _chunks(offsets):
            s = _chunk_state(t0, t1, gauss, offsets, means2d, conics, opacities, tiles_x, width, height)
            pixel = s["pixel"].clamp_max(height * width - 1)
            inside = s["inside"]
            gc = torch.where(inside[..., None], g_img[pixel], torch.zeros_like(g_img[pixel]))  # [tiles, 256, D]
            ga = torch.where(inside, g_alpha[pixel], torch.zeros_like(g_alpha[pixel]))
            gd = torch.where(inside, g_depth[pixel], torch.zeros_like(g_depth[pixel]))
            ids, weight, alpha, trans, drawn = s["ids"], s["weight"], s["alpha"], s["transmittance"], s["drawn"]
            final_t = s["final_t"]
            col = colors[ids][:, None]  # [tiles, 1, k, D]
            z = depths[ids][:, None]  # [tiles, 1, k]
            color_dot = (col * gc[..., None, :]).sum(-1)  # c_i · dL/dC
            after_color = torch.flip(torch.cumsum(torch.flip(weight * color_dot, [-1]), -1), [-1]) - weight * color_dot
            after_color = after_color + final_t[..., None] * (background * gc).sum(-1)[..., None]
            after_depth = torch.flip(torch.cumsum(torch.flip(weight * z, [-1]), -1), [-1]) - weight * z
            one_minus = (1 - alpha).clamp_min(1e-12)
            d_alpha = (trans * color_dot - after_color / one_minus
                       + ga[..., None] * final_t[..., None] / one_minus
                       + gd[..., None] * (trans * z - after_depth / one_minus))
            d_alpha = torch.where(drawn & (s["raw"] < MAX_ALPHA), d_alpha, torch.zeros_like(d_alpha))
            d_sigma = -alpha * d_alpha
            dx, dy = s["dx"], s["dy"]
            con = conics[ids][:, None]
            flat = ids.reshape(-1)

            def scatter(target: torch.Tensor, values: torch.Tensor, flat: torch.Tensor = flat) -> None:
                """Sum [tiles, pixels, k, ...] over pixels and add to the Gaussians' rows."""
                target.index_add_(0, flat, values.sum(1).reshape(flat.shape[0], *values.shape[3:]))

            scatter(d_colors, (weight[..., None] * gc[..., None, :]))
            scatter(d_opacities, d_alpha * s["gaussian"])
            scatter(d_depths, weight * gd[..., None])
            scatter(d_means, torch.stack([-(con[..., 0] * dx + con[..., 1] * dy) * d_sigma,
                                          -(con[..., 1] * dx + con[..., 2] * dy) * d_sigma], -1))
            scatter(d_conics, torch.stack([0.5 * dx * dx * d_sigma, dx * dy * d_sigma, 0.5 * dy * dy * d_sigma], -1))
            d_background += (final_t[..., None] * gc).sum((0, 1))
        return d_means, d_conics, d_colors, d_opacities, d_depths, d_background, None, None, None, None


def composite(means2d: torch.Tensor, conics: torch.Tensor, colors: torch.Tensor, opacities: torch.Tensor,
              depths: torch.Tensor, radii: torch.Tensor, background: torch.Tensor, width: int, height: int
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One camera: means2d [N, 2], conics [N, 3], colors [N, D], opacities [N], depths [N], radii
    [N, 2] (0 = culled), background [D] → colour [H, W, D], alpha [H, W], accumulated depth [H, W]."""
    gauss, offsets = bin_tiles(means2d, radii, depths, width, height)
    return _Composite.apply(means2d, conics, colors, opacities, depths, background, gauss, offsets, width, height)
