import math

import numpy as np
import pytest

from core.camera import OrbitCamera, camera_center, intrinsics_from_fov, look_at


def project(view, K, point):
    p = view[:3, :3] @ point + view[:3, 3]
    return (K @ (p / p[2]))[:2], p[2]


def test_look_at_opencv_axes():
    view = look_at(np.array([0.0, 1.0, 5.0]), np.array([0.0, 1.0, 0.0]))
    K = intrinsics_from_fov(40, 200, 100)
    center, depth = project(view, K, np.array([0.0, 1.0, 0.0]))
    assert np.allclose(center, [100, 50]) and depth == pytest.approx(5.0)
    above, _ = project(view, K, np.array([0.0, 1.5, 0.0]))
    right, _ = project(view, K, np.array([0.5, 1.0, 0.0]))
    assert above[1] < 50  # world up is image up (y down)
    assert right[0] > 100  # seen from +Z, world +X is image right
    assert np.allclose(np.linalg.det(view[:3, :3]), 1.0)
    assert np.allclose(camera_center(view), [0, 1, 5])
    # looking straight down still gives a valid rotation
    down = look_at(np.array([0.0, 5.0, 0.0]), np.zeros(3))
    assert np.allclose(down[:3, :3] @ down[:3, :3].T, np.eye(3))


def test_intrinsics_from_fov():
    K = intrinsics_from_fov(90, 640, 480)
    assert K[0, 0] == pytest.approx(240.0) and K[1, 1] == pytest.approx(240.0)
    assert (K[0, 2], K[1, 2]) == (320, 240)
    with pytest.raises(ValueError):
        intrinsics_from_fov(0, 10, 10)


def test_orbit_camera():
    cam = OrbitCamera()
    cam.frame(np.array([0.0, 1.0, 0.0]), 1.0)
    assert np.allclose(cam.eye(), [0.0, 1.0, cam.distance])  # azimuth 0: in front (+Z)
    # a sphere of the framed radius fits in the vertical field of view
    assert math.asin(1.0 / cam.distance) < math.radians(cam.fov_y / 2)
    cam.orbit(math.pi / 2, 10.0)
    assert cam.elevation == pytest.approx(OrbitCamera.MAX_ELEVATION)
    cam.elevation = 0.0
    assert np.allclose(cam.eye(), [cam.distance, 1.0, 0.0])
    before = cam.target.copy()
    direction = cam.viewmat()[2, :3].copy()
    cam.pan(10, -5, 500)
    moved = cam.target - before
    assert np.linalg.norm(moved) > 0 and abs(moved @ direction) < 1e-12
    d = cam.distance
    cam.zoom(0.5)
    assert cam.distance == pytest.approx(d / 2)


def test_orbit_viewmats_and_opengl_conversions():
    from core.camera import opengl_projection, opengl_view, orbit_viewmats

    views = orbit_viewmats(8, np.array([0.0, 1.0, 0.0]), 3.0, elevation_deg=10)
    centers = np.stack([camera_center(v) for v in views])
    assert views.shape == (8, 4, 4)
    assert np.allclose(np.linalg.norm(centers - [0, 1, 0], axis=1), 3.0)
    assert np.allclose(centers[0, [0, 2]] / np.linalg.norm(centers[0, [0, 2]]), [0, 1])  # front first
    assert np.allclose(centers[4, [0, 2]] / np.linalg.norm(centers[4, [0, 2]]), [0, -1])  # back half-way
    K = np.array([[300.0, 0, 150], [0, 310.0, 90], [0, 0, 1]])
    width, height, near, far = 320, 200, 0.1, 50.0
    point = np.array([0.3, 1.2, -0.4, 1.0])
    cam = views[1] @ point
    u, v = (K @ (cam[:3] / cam[2]))[:2]
    clip = opengl_projection(K, width, height, near, far) @ opengl_view(views[1]) @ point
    ndc = clip[:3] / clip[3]
    assert np.allclose(ndc[:2], [2 * u / width - 1, 1 - 2 * v / height])
    assert -1 < ndc[2] < 1
    # the near and far planes map to NDC depth -1 and +1
    for depth, expected in ((near, -1.0), (far, 1.0)):
        clip = opengl_projection(K, width, height, near, far) @ np.array([0.0, 0.0, -depth, 1.0])
        assert np.isclose(clip[2] / clip[3], expected)
