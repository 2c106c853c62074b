"""Pinhole cameras in the OpenCV convention, and the orbit camera the viewer drives.

Conventions: world frame right-handed, metres, Y up, the person faces +Z. Camera frame is OpenCV's
(x right, y down, z forward). ``viewmat`` is the 4x4 world-to-camera matrix and ``K`` the 3x3
intrinsics in pixels, exactly as gsplat takes them; pixel (i, j) has its centre at (i + 0.5, j + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def intrinsics_from_fov(fov_y_deg: float, width: int, height: int) -> np.ndarray:
    """3x3 K for a vertical field of view in degrees, square pixels, principal point at the centre."""
    if not 0.0 < fov_y_deg < 180.0:
        raise ValueError(f"vertical field of view must be in (0, 180) degrees, got {fov_y_deg}")
    f = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2)
    return np.array([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray | tuple = (0.0, 1.0, 0.0)) -> np.ndarray:
    """World-to-camera 4x4 (OpenCV axes) for a camera at ``eye`` [3] looking at ``target`` [3]."""
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    norm = np.linalg.norm(forward)
    if norm == 0:
        raise ValueError("camera eye and target coincide")
    forward /= norm
    right = np.cross(forward, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(right) < 1e-9:  # looking straight along `up`: any perpendicular will do
        right = np.cross(forward, np.array([0.0, 0.0, 1.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    view = np.eye(4)
    view[:3, :3] = np.stack([right, down, forward])
    view[:3, 3] = -view[:3, :3] @ eye
    return view


def project(points: ArrayLike, viewmat: ArrayLike, K: ArrayLike, min_depth: float = 1e-6) -> ArrayLike:
    """Pixels [..., 2] of world points [..., 3] through the camera ``viewmat`` [4, 4] (world-to-camera,
    OpenCV axes), ``K`` [3, 3]; points nearer than ``min_depth`` metres (or behind the camera) are
    clamped to that depth. NumPy in, float64 NumPy out; torch in, torch out (differentiable, the
    points' dtype and device)."""
    if isinstance(points, torch.Tensor):
        viewmat = torch.as_tensor(viewmat, dtype=points.dtype, device=points.device)
        K = torch.as_tensor(K, dtype=points.dtype, device=points.device)
        camera = points @ viewmat[:3, :3].T + viewmat[:3, 3]
        depth = camera[..., 2:3].clamp_min(min_depth)
    else:
        points, viewmat, K = (np.asarray(a, dtype=np.float64) for a in (points, viewmat, K))
        camera = points @ viewmat[:3, :3].T + viewmat[:3, 3]
        depth = np.maximum(camera[..., 2:3], min_depth)
    return (camera[..., :2] / depth) @ K[:2, :2].T + K[:2, 2]


def mesh_mask(vertices: np.ndarray, faces: np.ndarray, viewmat: np.ndarray, K: np.ndarray, size: tuple[int, int]
              ) -> np.ndarray:
    """Boolean [H, W] silhouette of a mesh (``vertices`` [V, 3] world, ``faces`` [F, 3]) seen by
    ``viewmat`` / ``K`` in an image of ``size`` (width, height) pixels."""
    import cv2

    width, height = size
    mask = np.zeros((height, width), np.uint8)
    triangles = np.round(project(vertices, viewmat, K)[faces] * 16).astype(np.int32)  # 4 bits of sub-pixel precision
    for triangle in triangles:  # one call per triangle: fillPoly's even-odd rule would cut overlaps out
        cv2.fillConvexPoly(mask, triangle, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def camera_center(viewmat: np.ndarray) -> np.ndarray:
    """Camera centre [3] in world coordinates from a world-to-camera 4x4."""
    return -viewmat[:3, :3].T @ viewmat[:3, 3]


@dataclass
class OrbitCamera:
    """A camera orbiting ``target``: azimuth 0 looks at the person's front (camera on +Z).

    Angles in radians, distance in metres, ``fov_y`` in degrees.
    """

    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    distance: float = 3.0
    azimuth: float = 0.0
    elevation: float = 0.0
    fov_y: float = 40.0

    MAX_ELEVATION = math.radians(89.0)

    def eye(self) -> np.ndarray:
        """Camera centre [3], world metres."""
        ce = math.cos(self.elevation)
        offset = np.array([ce * math.sin(self.azimuth), math.sin(self.elevation), ce * math.cos(self.azimuth)])
        return self.target + self.distance * offset

    def viewmat(self) -> np.ndarray:
        """World-to-camera 4x4 (OpenCV axes)."""
        return look_at(self.eye(), self.target)

    def intrinsics(self, width: int, height: int) -> np.ndarray:
        """3x3 K for an image of ``width`` x ``height`` pixels."""
        return intrinsics_from_fov(self.fov_y, width, height)

    def near_far(self, radius: float) -> tuple[float, float]:
        """Clip distances (metres) that keep an object of ``radius`` around the target in view."""
        return max(1e-3, 0.01 * self.distance), self.distance + 10.0 * max(radius, 1e-3)

    def orbit(self, d_azimuth: float, d_elevation: float) -> None:
        """Rotate around the target (radians); elevation stays within ±89°."""
        self.azimuth = (self.azimuth + d_azimuth) % (2 * math.pi)
        self.elevation = float(np.clip(self.elevation + d_elevation, -self.MAX_ELEVATION, self.MAX_ELEVATION))

    def pan(self, dx_px: float, dy_px: float, height: int) -> None:
        """Move the target so the scene follows a drag of (dx, dy) pixels in an image ``height`` tall."""
        metres_per_px = 2 * self.distance * math.tan(math.radians(self.fov_y) / 2) / max(height, 1)
        rotation = self.viewmat()[:3, :3]
        self.target = self.target - metres_per_px * (dx_px * rotation[0] + dy_px * rotation[1])

    def zoom(self, factor: float) -> None:
        """Multiply the distance by ``factor`` (< 1 moves closer), within sane limits."""
        self.distance = float(np.clip(self.distance * factor, 1e-3, 1e5))

    def frame(self, center: np.ndarray, radius: float, margin: float = 1.15) -> None:
        """Aim at ``center`` [3] from a distance at which a sphere of ``radius`` fills the view."""
        self.target = np.asarray(center, dtype=np.float64).copy()
        self.distance = margin * max(radius, 1e-3) / math.sin(math.radians(self.fov_y) / 2)


def orbit_viewmats(count: int, target: np.ndarray, distance: float, elevation_deg: float = 0.0,
                   start_azimuth_deg: float = 0.0) -> np.ndarray:
    """World-to-camera matrices [count, 4, 4] evenly spaced on a full turn around ``target`` [3]
    (azimuth 0 = in front of the person, on +Z), at ``distance`` metres and ``elevation_deg``."""
    camera = OrbitCamera(target=np.asarray(target, dtype=np.float64), distance=distance,
                         elevation=math.radians(elevation_deg))
    views = []
    for i in range(count):
        camera.azimuth = math.radians(start_azimuth_deg) + 2 * math.pi * i / count
        views.append(camera.viewmat())
    return np.stack(views)


#: OpenCV camera axes (x right, y down, z forward) → OpenGL eye axes (x right, y up, z backward).
OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0, 1.0])


def opengl_view(viewmat: np.ndarray) -> np.ndarray:
    """The OpenGL view matrix (eye looks down -Z, Y up) of an OpenCV world-to-camera ``viewmat``."""
    return OPENCV_TO_OPENGL @ viewmat


def opengl_projection(K: np.ndarray, width: int, height: int, near: float, far: float) -> np.ndarray:
    """OpenGL clip-space projection [4, 4] equivalent to intrinsics ``K`` for a ``width``x``height``
    image: a point projecting to pixel (u, v) (OpenCV, v down) lands at NDC (2u/W - 1, 1 - 2v/H)."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    return np.array([
        [2 * fx / width, 0.0, 1 - 2 * cx / width, 0.0],
        [0.0, 2 * fy / height, 2 * cy / height - 1, 0.0],
        [0.0, 0.0, -(far + near) / (far - near), -2 * far * near / (far - near)],
        [0.0, 0.0, -1.0, 0.0],
    ])


@dataclass(frozen=True)
class PersonFrame:
    """A square crop around a person, resized to ``size``², with its camera.

    Crop pixel coordinates relate to photo pixel coordinates (both with pixel centres at +0.5) by
    ``crop = (photo − offset) · scale``; ``K`` is the crop's intrinsics and ``K_photo`` the photo's,
    from an assumed field of view across the photo's longer side.
    """

    image: np.ndarray  # [S, S, 3] uint8 (outside the photo: black)
    mask: np.ndarray  # [S, S] float32 person mask in [0, 1]
    K: np.ndarray  # [3, 3] pixels of the crop
    K_photo: np.ndarray  # [3, 3] pixels of the photo's processing copy
    offset: tuple[int, int]  # photo pixel of the crop's top-left corner (may lie outside the photo)
    scale: float  # crop pixels per photo pixel

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Photo pixel coordinates [..., 2] → crop pixel coordinates."""
        return (np.asarray(points, dtype=np.float64) - self.offset) * self.scale

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Crop pixel coordinates [..., 2] → photo pixel coordinates."""
        return np.asarray(points, dtype=np.float64) / self.scale + self.offset


#: Field of view (degrees, across the photo's longer side) assumed for a photo whose camera is unknown:
#: a long lens, nearly orthographic. One photo barely shows its focal length; a wide assumption makes
#: the fit explain the outline with depth (feet and arms towards the camera, a leaning torso) that
#: looks wrong from every other side, and any depth the fit gives the limbs distorts the outline seen
#: from behind by perspective. Scanned people seen from behind (``avatarium eval real``, 25 views)
#: were matched better the longer the lens: the avatar's back silhouette IoU 0.87 at 25°, 0.91 at
#: 10°, 0.93 at 4° and 2°; their side views were matched best at 4° (IoU 0.79; 0.75 at 2°).
ASSUMED_FOV_DEG = 4.0


def frame_person(rgb: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], size: int = 512,
                 margin: float = 0.1, fov_deg: float = ASSUMED_FOV_DEG) -> PersonFrame:
    """Crop the square around ``box`` (x0, y0, x1, y1 photo pixels) widened by ``margin`` of its longer
    side on every edge, from ``rgb`` [H, W, 3] and ``mask`` [H, W]; resize to ``size``²."""
    from PIL import Image

    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"the person box {box} is empty")
    side = int(math.ceil(max(x1 - x0, y1 - y0) * (1 + 2 * margin)))
    left = int(round((x0 + x1) / 2 - side / 2))
    top = int(round((y0 + y1) / 2 - side / 2))
    height, width = rgb.shape[:2]
    pad = ((max(0, -top), max(0, top + side - height)), (max(0, -left), max(0, left + side - width)))
    padded_rgb = np.pad(rgb, (*pad, (0, 0)))
    padded_mask = np.pad(mask.astype(np.float32), pad)
    ox, oy = left + pad[1][0], top + pad[0][0]
    crop_rgb = padded_rgb[oy: oy + side, ox: ox + side]
    crop_mask = padded_mask[oy: oy + side, ox: ox + side]
    image = np.asarray(Image.fromarray(crop_rgb).resize((size, size), Image.Resampling.BILINEAR))
    small_mask = np.asarray(Image.fromarray(crop_mask).resize((size, size), Image.Resampling.BILINEAR))
    focal = 0.5 * max(width, height) / math.tan(math.radians(fov_deg) / 2)
    K_photo = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    scale = size / side
    K = np.array([[focal * scale, 0.0, (width / 2 - left) * scale], [0.0, focal * scale, (height / 2 - top) * scale],
                  [0.0, 0.0, 1.0]])
    return PersonFrame(image, np.clip(small_mask, 0, 1), K, K_photo, (left, top), scale)
