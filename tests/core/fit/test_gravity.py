"""Gravity in the fit: a standing person stands upright, whether the camera is level or looks down."""

import numpy as np
import pytest
import torch
from photos import PHOTOS, needs_photos

from core.body.joints import JOINT_INDEX
from core.body.motions import relaxed_pose
from core.camera import ASSUMED_FOV_DEG, frame_person, intrinsics_from_fov
from core.detect.person import PersonObservation
from core.fit.fit_body import camera_pitch, fit_body, pitched_viewmat, standing, torso_lean_deg
from core.fit.overlay import body_mask, posed_body, project_points
from core.fit.result import BodyFit
from core.fit.targets import MEDIAPIPE_INDEX, make_targets

SIZE = 512


def _photographed(body, pitch_deg: float, pose: np.ndarray | None = None):
    """A standing body seen by a camera pitched down by ``pitch_deg`` with the fit's assumed lens,
    from where it fills about 80 % of the photo: (the true fit, an exact observation: true keypoints
    and silhouette)."""
    pitch = np.radians(pitch_deg)
    distance = 2.1 / (2 * np.tan(np.radians(ASSUMED_FOV_DEG) / 2))
    pose = relaxed_pose().numpy() if pose is None else pose
    shape = body.default_shape()[0].numpy()
    with torch.no_grad():
        rest = body.forward(torch.tensor(shape)[None], torch.tensor(pose)[None])
    centre = rest.vertices[0].numpy().mean(0)
    target = distance * np.array([0.0, -np.sin(pitch), -np.cos(pitch)])  # on the tilted optical axis
    K = intrinsics_from_fov(ASSUMED_FOV_DEG, SIZE, SIZE)
    truth = BodyFit("anny", shape, pose, target - centre, K, (SIZE, SIZE), viewmat=pitched_viewmat(pitch))
    posed = posed_body(body, truth)
    pixels = project_points(truth, body.keypoints(posed.vertices)[0].numpy())
    mediapipe = np.zeros((33, 3), np.float32)
    for row, index in enumerate(MEDIAPIPE_INDEX):
        if index >= 0:
            mediapipe[index] = (*pixels[row], 1.0)
    mask = body_mask(truth, posed.vertices[0].numpy(), body.faces.numpy()).astype(np.float32)
    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return truth, PersonObservation(mask, mediapipe, box, False, "alpha")


def test_pitch_round_trip():
    for pitch in (-0.3, 0.0, 0.2):
        assert camera_pitch(pitched_viewmat(pitch)) == pytest.approx(pitch, abs=1e-12)
    np.testing.assert_allclose(pitched_viewmat(0.0), np.diag([1.0, -1.0, -1.0, 1.0]))


@pytest.mark.parametrize("pitch_deg", [0.0, 15.0])
def test_a_standing_person_fits_upright_whatever_the_cameras_pitch(anny_body, pitch_deg):
    truth, observation = _photographed(anny_body, pitch_deg)
    image = np.zeros((SIZE, SIZE, 3), np.uint8)
    fit = fit_body(anny_body, observation, frame_person(image, observation.mask, observation.box))
    assert torso_lean_deg(anny_body, fit) < 5.0  # a camera looking down does not tip the person over
    assert abs(np.degrees(camera_pitch(fit.viewmat))) < pitch_deg + 5.0
    np.testing.assert_allclose(fit.viewmat[:3, :3] @ fit.viewmat[:3, :3].T, np.eye(3), atol=1e-9)
    assert fit.silhouette_iou > 0.85


def test_standing_is_told_from_the_legs(anny_body):
    _, observation = _photographed(anny_body, 0.0)
    image = np.zeros((SIZE, SIZE, 3), np.uint8)
    frame = frame_person(image, observation.mask, observation.box)
    assert standing(make_targets(observation, frame, 128))
    crouching = relaxed_pose().numpy()
    for side in ("left", "right"):  # thighs raised to horizontal, knees bent deep: the ankles come up under the hips
        crouching[JOINT_INDEX[f"{side}_hip"], 0] = -1.5
        crouching[JOINT_INDEX[f"{side}_knee"], 0] = 2.2
    _, bent = _photographed(anny_body, 0.0, crouching)
    assert not standing(make_targets(bent, frame_person(image, bent.mask, bent.box), 128))
    legless = PersonObservation(observation.mask, observation.keypoints.copy(), observation.box, True, "alpha")
    legless.keypoints[27:33, 2] = 0.0  # ankles, heels and toes unseen
    assert not standing(make_targets(legless, frame, 128))


@needs_photos
def test_a_seated_person_whose_legs_hang_like_a_standing_ones_is_not_standing():
    """The cut-out woman sits with her legs crossed and hanging: in 2D her ankles are under her hips like
    a standing person's; the detector's 3D landmarks show her thighs reaching forwards."""
    from dataclasses import replace

    from core.detect.person import observe_person
    from core.fit.targets import make_targets
    from core.io.images import load_image

    photo = load_image(PHOTOS / "18_pshuman_pexels_cutout_rgba.png")
    observation = observe_person(photo)
    frame = frame_person(photo.rgb, observation.mask, observation.box)
    assert standing(make_targets(replace(observation, world=None), frame, 64))  # what the 2D keypoints alone say
    assert not standing(make_targets(observation, frame, 64))
    photo = load_image(PHOTOS / "01_pifu_ryota.png")
    upright = observe_person(photo)
    assert standing(make_targets(upright, frame_person(photo.rgb, upright.mask, upright.box), 64))
