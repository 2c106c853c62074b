"""What makes a synthetic render look like a photo: light and shadow, backgrounds, camera defects.

* :func:`random_lighting`: a key light from the camera's side of the person (azimuth ±80°,
  elevation 0–60°), ambient light of another tint, sometimes soft overcast light with no shadows;
* :func:`shadowed`: which splats the key light reaches, by a shadow map (the splats' expected depth
  rendered from the light with an almost orthographic camera, 3x3 percentage-closer filtering);
* :func:`ambient_occlusion`: how much of the sky each vertex of the posed body sees (armpits,
  between the legs and under the chin are darker), from the body's own vertices in its hemisphere;
* :func:`background`: studio sweeps, walls with a floor, cluttered street-like scenes, all blurred
  like an out-of-focus background;
* :func:`degrade`: defocus and motion blur, sensor noise, exposure and white balance, JPEG.

Directions: world frame, Y up, the camera at the origin looking down −Z (the person at −Z).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Lighting:
    """A key light and ambient light; colours are RGB multipliers, intensities in [0, 1]."""

    direction: np.ndarray  # [3] unit, from the person towards the light
    key: float
    key_colour: np.ndarray  # [3]
    ambient: float
    ambient_colour: np.ndarray  # [3]
    shadows: bool


def random_lighting(rng: np.random.Generator) -> Lighting:
    """A lighting set-up (see the module docstring)."""
    azimuth, elevation = math.radians(rng.uniform(-80, 80)), math.radians(rng.uniform(0, 60))
    direction = np.array([math.sin(azimuth) * math.cos(elevation), math.sin(elevation),
                          math.cos(azimuth) * math.cos(elevation)])
    warm = rng.uniform(-0.08, 0.08)
    key_colour = np.array([1 + warm, 1.0, 1 - warm], np.float32)
    ambient_colour = np.clip(1 + rng.normal(0, 0.04, 3), 0.85, 1.15).astype(np.float32)
    overcast = rng.random() < 0.25
    key = float(rng.uniform(0.15, 0.35) if overcast else rng.uniform(0.45, 0.85))
    ambient = float(rng.uniform(0.75, 1.0) if overcast else rng.uniform(0.35, 0.65))
    return Lighting(direction, key, key_colour, ambient, ambient_colour, not overcast)


def shadowed(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, direction: torch.Tensor,
             size: int = 256, bias: float = 0.03) -> torch.Tensor:
    """How much of the light from ``direction`` [3] reaches each splat (``means`` [N, 3], ``quats``
    [N, 4], ``scales`` [N, 3]): [N] in [0, 1], 0 in full shadow (``bias`` metres of depth tolerance)."""
    from core.camera import look_at
    from core.render.rasterize import rasterize

    centre = (means.min(0).values + means.max(0).values) / 2
    radius = float((means - centre).norm(dim=1).max())
    distance = 50.0 * radius
    eye = centre.double().numpy() + distance * direction.double().numpy()
    up = (0.0, 0.0, 1.0) if abs(float(direction[1])) > 0.95 else (0.0, 1.0, 0.0)
    viewmat = torch.tensor(look_at(eye, centre.double().numpy(), up), dtype=torch.float32)
    focal = size / 2 * distance / (1.05 * radius)
    K = torch.tensor([[focal, 0.0, size / 2], [0.0, focal, size / 2], [0.0, 0.0, 1.0]])
    with torch.no_grad():
        depth, alpha, _ = rasterize(means, quats, scales, torch.full((len(means),), 0.99), torch.zeros(len(means), 1),
                                    viewmat[None], K[None], size, size, near_plane=1e-3, render_mode="ED")
    depth = torch.where(alpha[0, ..., 0] > 0.5, depth[0, ..., 0], torch.full_like(depth[0, ..., 0], float("inf")))
    camera = means @ viewmat[:3, :3].T + viewmat[:3, 3]
    pixel = (camera[:, :2] / camera[:, 2:] * focal + size / 2).floor().long()
    lit = torch.zeros(len(means))
    for dy in (-1, 0, 1):  # percentage-closer filtering over 3x3 texels
        for dx in (-1, 0, 1):
            u = (pixel[:, 0] + dx).clamp(0, size - 1)
            v = (pixel[:, 1] + dy).clamp(0, size - 1)
            lit += (camera[:, 2] <= depth[v, u] + bias).float()
    return lit / 9


def ambient_occlusion(vertices: np.ndarray, faces: np.ndarray, radius: float = 0.12, neighbours: int = 48,
                      strength: float = 0.75) -> np.ndarray:
    """Ambient light reaching each vertex of a posed mesh (``vertices`` [V, 3], ``faces`` [F, 3]):
    [V] in (0, 1], 1 − ``strength`` × the share of its ``neighbours`` nearest vertices (within
    ``radius`` metres) that lie above its tangent plane, smoothed over the mesh's edges."""
    from scipy.spatial import cKDTree

    from core.body.surface import vertex_normals

    normals = vertex_normals(vertices, faces)
    distance, index = cKDTree(vertices).query(vertices, k=neighbours + 1, distance_upper_bound=radius)
    index, distance = index[:, 1:], distance[:, 1:]
    valid = np.isfinite(distance)
    safe = np.where(valid, index, 0)
    towards = vertices[safe] - vertices[:, None]
    above = (np.einsum("vkc,vc->vk", towards, normals) > 0.3 * np.maximum(distance, 1e-6)) & valid
    occlusion = 1 - strength * above.sum(1) / neighbours
    for _ in range(2):  # smooth: average with the face neighbours
        total = np.zeros_like(occlusion)
        count = np.zeros_like(occlusion)
        for k in range(3):
            np.add.at(total, faces[:, k], occlusion[faces].mean(1))
            np.add.at(count, faces[:, k], 1.0)
        occlusion = total / np.maximum(count, 1)
    return np.clip(occlusion, 0.05, 1.0).astype(np.float32)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(image, sigma=(sigma, sigma, 0)) if sigma > 0 else image


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise [size, size] in about [0, 1] from a ``cells``² grid upsampled bicubically."""
    from PIL import Image

    grid = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(grid, "F").resize((size, size), Image.Resampling.BICUBIC))


def muted_colour(rng: np.random.Generator, saturated: float = 0.15) -> np.ndarray:
    """A colour [3] as walls, floors and streets have: a grey level tinted by a random hue, strongly
    coloured only with probability ``saturated``."""
    grey = rng.uniform(0.12, 0.95)
    tint = rng.uniform(0, 1, 3)
    amount = rng.uniform(0.4, 0.9) if rng.random() < saturated else rng.uniform(0.0, 0.3)
    return np.clip(grey * (1 - amount) + tint * amount * grey * 1.4, 0, 1)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A background [size, size, 3] in [0, 1]: studio, room or cluttered scene (see the module docstring)."""
    kind = rng.choice(("studio", "room", "clutter"), p=[0.3, 0.35, 0.35])
    base = muted_colour(rng, 0.1)
    rows = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    if kind == "studio":
        image = base * (1.08 - 0.25 * rows) * np.ones((1, size, 1), np.float32)
    else:
        horizon = int(size * rng.uniform(0.55, 0.9))
        floor = muted_colour(rng, 0.05)
        image = np.empty((size, size, 3), np.float32)
        image[:horizon] = base
        image[horizon:] = floor
        image *= (0.85 + 0.3 * _smooth_noise(rng, size, int(rng.integers(3, 9))))[..., None]
        shapes = int(rng.integers(2, 6)) if kind == "room" else int(rng.integers(8, 25))
        for _ in range(shapes):  # furniture, windows, doors, people and cars far away: boxes and blobs
            x0, y0 = rng.integers(0, size, 2)
            w, h = rng.integers(size // 20, size // 2, 2)
            colour = muted_colour(rng, 0.25)
            if rng.random() < 0.6:
                image[y0: y0 + h, x0: x0 + w] = colour
            else:
                yy, xx = np.mgrid[:size, :size]
                image[((xx - x0) / max(w, 1)) ** 2 + ((yy - y0) / max(h, 1)) ** 2 < 0.25] = colour
    image = image + rng.normal(0, 0.03, (size, size, 1)).astype(np.float32) * _smooth_noise(rng, size, 32)[..., None]
    return np.clip(_blur(image, float(rng.uniform(0.5, 3.0)) * size / 256), 0, 1).astype(np.float32)


def degrade(rng: np.random.Generator, rgb: np.ndarray) -> np.ndarray:
    """A render [H, W, 3] in [0, 1] as a camera would deliver it: uint8 [H, W, 3] after exposure and
    white balance, some blur, sensor noise and, on most photos, JPEG compression."""
    from PIL import Image

    size = rgb.shape[0]
    image = rgb * rng.uniform(0.85, 1.15) * np.clip(1 + rng.normal(0, 0.03, 3), 0.9, 1.1)
    image = _blur(image, float(rng.uniform(0.0, 0.8)) * size / 256)
    image = image + rng.normal(0, rng.uniform(0.004, 0.025), image.shape)
    pixels = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    if rng.random() < 0.75:
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=int(rng.integers(40, 96)))
        pixels = np.asarray(Image.open(buffer).convert("RGB"))
    return pixels
