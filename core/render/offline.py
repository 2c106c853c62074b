"""Offline rendering of splat clouds with ``rasterize``: still images and turntables."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import torch

from core.camera import OrbitCamera
from core.gaussians import GaussianCloud
from core.render.rasterize import rasterize


def framed_camera(cloud: GaussianCloud, azimuth_deg: float = 0.0, elevation_deg: float = 0.0,
                  fov_deg: float = 40.0) -> OrbitCamera:
    """An orbit camera aimed at the cloud's bounding sphere from the given direction (degrees)."""
    camera = OrbitCamera(fov_y=fov_deg)
    lo, hi = cloud.bounds()
    camera.frame(((lo + hi) / 2).double().numpy(), cloud.radius())
    camera.azimuth, camera.elevation = math.radians(azimuth_deg), math.radians(elevation_deg)
    return camera


def render_image(cloud: GaussianCloud, camera: OrbitCamera, size: int,
                 background: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """RGB uint8 [size, size, 3] of ``cloud`` seen by ``camera`` (CPU torch rasterizer)."""
    near, far = camera.near_far(cloud.radius())
    with torch.no_grad():
        c = cloud.to(dtype=torch.float32)
        colors = c.sh if c.sh_degree > 0 else c.base_colors()
        image, _, _ = rasterize(
            c.means, c.quats, c.scales(), c.opacities(), colors,
            torch.tensor(camera.viewmat(), dtype=torch.float32)[None],
            torch.tensor(camera.intrinsics(size, size), dtype=torch.float32)[None], size, size,
            near_plane=near, far_plane=far, sh_degree=c.sh_degree if c.sh_degree > 0 else None,
            backgrounds=torch.tensor([background], dtype=torch.float32),
        )
    return (image[0].clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()


def turntable(cloud: GaussianCloud, frames: int, size: int, elevation_deg: float = 10.0,
              background: tuple[float, float, float] = (1.0, 1.0, 1.0),
              progress: Callable[[int, int], None] | None = None) -> Iterator[np.ndarray]:
    """``frames`` images of one full turn around the cloud (azimuth 0 = its front), lazily."""
    camera = framed_camera(cloud, 0.0, elevation_deg)
    for i in range(frames):
        camera.azimuth = 2 * math.pi * i / frames
        yield render_image(cloud, camera, size, background)
        if progress is not None:
            progress(i + 1, frames)
