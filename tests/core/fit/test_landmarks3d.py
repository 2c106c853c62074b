import numpy as np
import torch

from core.body.joints import KEYPOINT_NAMES
from core.fit.landmarks3d import SEGMENTS, facing_error, facing_yaw, in_ray_frame, limb_direction_error
from core.fit.targets import MEDIAPIPE_INDEX

_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def as_landmarks(body, vertices: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """mediapipe-style 3D landmarks [33, 4] of a body posed in the fit's world (camera at the origin
    looking down −Z, no pitch): camera axes (x right, y down, z away) turned to the ray to the pelvis,
    centred between the hips, visibility 1 (what a perfect detector would say)."""
    with torch.no_grad():
        keypoints = body.keypoints(torch.tensor(vertices)[None])[0].numpy()[: len(KEYPOINT_NAMES)]
    camera = np.concatenate([joints[:1], keypoints]) * np.array([1.0, -1.0, -1.0], np.float32)
    seen = in_ray_frame(torch.tensor(camera, dtype=torch.float32)).numpy()[1:]
    seen -= (seen[_K["left_hip"]] + seen[_K["right_hip"]]) / 2
    world = np.zeros((33, 4), np.float32)
    for row, index in enumerate(MEDIAPIPE_INDEX):
        if index >= 0:
            world[index] = (*seen[row], 1.0)
    return world


def test_the_ray_frame_puts_the_pelvis_straight_ahead():
    points = torch.tensor([[[3.0, -0.5, 4.0], [3.0, 0.5, 4.0], [4.0, -0.5, 4.0]]])
    turned = in_ray_frame(points)
    assert torch.allclose(turned[0, 0], torch.tensor([0.0, -0.5, 5.0]), atol=1e-6)
    assert torch.allclose(turned[0, 1] - turned[0, 0], torch.tensor([0.0, 1.0, 0.0]), atol=1e-6)  # y is kept
    assert torch.allclose((turned[0, 2] - turned[0, 0]).norm(), torch.tensor(1.0))  # a rotation


def test_limb_and_facing_errors_are_zero_on_agreement_and_see_a_depth_flip():
    rng = np.random.default_rng(0)
    fitted = torch.tensor(rng.normal(0, 0.4, (23, 3)), dtype=torch.float32)
    landmarks = torch.cat([fitted, torch.ones(23, 1)], 1)
    assert float(limb_direction_error(fitted, landmarks)) < 1e-10
    assert abs(float(facing_error(fitted, landmarks))) < 1e-6
    flipped = landmarks.clone()  # the left forearm reaching the other way in depth
    wrist, elbow = _K["left_wrist"], _K["left_elbow"]
    flipped[wrist, 2] = 2 * flipped[elbow, 2] - flipped[wrist, 2]
    direction = torch.nn.functional.normalize(fitted[wrist] - fitted[elbow], dim=0)
    assert torch.isclose(limb_direction_error(fitted, flipped), 4 * direction[2] ** 2, atol=1e-5)
    assert torch.isclose(limb_direction_error(fitted, flipped, plane_weight=0.0), 4 * direction[2] ** 2, atol=1e-5)
    sideways = landmarks.clone()  # the left forearm turned in the picture's plane, its depth kept
    sideways[wrist, :2] = 2 * sideways[elbow, :2] - sideways[wrist, :2]
    assert float(limb_direction_error(fitted, sideways, plane_weight=0.0)) < 1e-10
    assert float(limb_direction_error(fitted, sideways, plane_weight=0.5)) > 0.0
    flipped[wrist, 3] = 0.0  # not seen: no say
    assert float(limb_direction_error(fitted, flipped)) < 1e-10
    assert len(SEGMENTS[0]) == 8
    turned = fitted @ torch.tensor([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # 90° about y
    assert torch.isclose(facing_error(turned, landmarks), torch.tensor(1.0), atol=1e-5)
    change = facing_yaw(torch.cat([turned, landmarks[:, 3:]], 1).numpy()) - facing_yaw(landmarks.numpy())
    assert np.isclose((change + np.pi) % (2 * np.pi) - np.pi, -np.pi / 2, atol=1e-5)  # the left turned to −z


def test_landmarks_put_the_limbs_of_a_hard_pose_on_the_right_side_of_the_body(anny_body):
    """A crouching person (limbs bent towards and away from the camera) fitted from its exact 2D keypoints
    and mask: with a detector's 3D landmarks the fit gets the limbs' depths right, without them it may not."""
    from dataclasses import replace

    from core.bench.fit import evaluate_synthetic
    from core.fit.fit_body import FitOptions, fit_body
    from core.train.synthetic import hard_pose, render_person
    from tests.fit_helpers import exact_observation, true_frame

    errors = {}
    for seed in (0, 4):
        rng = np.random.default_rng([0, 1, seed])
        person = render_person(anny_body, rng, size=384, splats=30000, pose=hard_pose(rng, "crouch"), geometry=False)
        observation = exact_observation(anny_body, person)
        seen = replace(observation, world=as_landmarks(anny_body, person.vertices, person.joints))
        frame = true_frame(observation, person)
        for name, obs in (("without", observation), ("with", seen)):
            fit = fit_body(anny_body, obs, frame, FitOptions(clothing=None))
            errors.setdefault(name, []).append(evaluate_synthetic(anny_body, person, fit)["pa_mpjpe_mm"])
    assert max(errors["with"]) < 80.0, errors  # 43 and 63 mm when written; without: 128 and 161
    assert np.mean(errors["with"]) < np.mean(errors["without"]) - 50.0, errors
