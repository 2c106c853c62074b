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


def test_frame_person_crop_and_cameras():
    from core.camera import frame_person

    height, width = 300, 400
    rgb = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), np.float32)
    rgb[40:260, 300:360] = (200, 100, 50)  # a tall "person" near the right edge
    mask[40:260, 300:360] = 1.0
    frame = frame_person(rgb, mask, (300, 40, 360, 260), size=128, margin=0.1)
    assert frame.image.shape == (128, 128, 3) and frame.mask.shape == (128, 128)
    side = 264  # 220 · 1.2
    assert frame.scale == pytest.approx(128 / side)
    # the person is centred in the crop and fills 1 / 1.2 of its height
    ys, xs = np.nonzero(frame.mask > 0.5)
    assert abs(xs.mean() - 64) < 2 and abs(ys.mean() - 64) < 2
    assert (ys.max() - ys.min() + 1) == pytest.approx(128 / 1.2, abs=2)
    assert (frame.image[frame.mask > 0.9] == (200, 100, 50)).all()
    # the crop reaches past the photo's right edge: padded black, mask 0
    assert frame.offset[0] + side > width and (frame.image[:, -2:] == 0).all() and (frame.mask[:, -2:] == 0).all()
    # pixel mapping round trip, and the crop camera sees 3D points where the mapping puts them
    points = np.array([[310.5, 50.5], [355.0, 250.0]])
    assert np.allclose(frame.to_photo(frame.to_crop(points)), points)
    world = np.array([[0.3, -0.2, 3.0], [-0.1, 0.4, 2.0]])
    in_photo = (frame.K_photo @ world.T).T
    in_crop = (frame.K @ world.T).T
    assert np.allclose(frame.to_crop(in_photo[:, :2] / in_photo[:, 2:]), in_crop[:, :2] / in_crop[:, 2:])
    # focal length from the assumed field of view across the longer side
    from core.camera import ASSUMED_FOV_DEG

    assert frame.K_photo[0, 0] == pytest.approx(0.5 * width / np.tan(np.radians(ASSUMED_FOV_DEG / 2)))
    with pytest.raises(ValueError, match="empty"):
        frame_person(rgb, mask, (10, 10, 10, 50))


def test_project_takes_numpy_or_torch_alike_and_differentiates():
    import torch

    from core.camera import project as project_points

    view = look_at(np.array([0.5, 1.2, 3.0]), np.array([0.0, 1.0, 0.0]))
    K = intrinsics_from_fov(40.0, 320, 240)
    points = np.array([[0.0, 1.0, 0.0], [0.3, 0.2, -0.4], [-0.2, 1.7, 0.1]])
    pixels = project_points(points, view, K)
    homogeneous = (K @ (points @ view[:3, :3].T + view[:3, 3]).T).T
    assert np.allclose(pixels, homogeneous[:, :2] / homogeneous[:, 2:])
    tensor = torch.tensor(points, requires_grad=True)
    projected = project_points(tensor, view, K)
    assert isinstance(projected, torch.Tensor) and torch.allclose(projected, torch.from_numpy(pixels))
    projected.sum().backward()
    assert torch.isfinite(tensor.grad).all() and tensor.grad.abs().sum() > 0
    # behind the camera: clamped to the minimum depth, not flipped through it
    behind = view[:3, :3].T @ (np.array([0.0, 0.0, -1.0]) - view[:3, 3])
    assert np.isfinite(project_points(behind, view, K, min_depth=1e-3)).all()
