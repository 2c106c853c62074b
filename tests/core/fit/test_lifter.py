import numpy as np
import pytest
import torch
from photos import PHOTOS, needs_photos

from core.fit.landmarks3d import SEGMENTS
from core.fit.lifter import lifted_landmarks, shipped_lifter
from core.train.lifter import training_views


@pytest.fixture(scope="module")
def held_out():
    """Generated views the shipped lifter was not trained on (another seed)."""
    return training_views(np.random.default_rng(1), copies=1)


def _segments(points: torch.Tensor) -> torch.Tensor:
    a, b = SEGMENTS
    return points[..., b, :3] - points[..., a, :3]


def test_the_shipped_lifter_tells_how_steeply_limbs_point_into_the_picture(held_out):
    camera, shares = held_out
    jitter = torch.randn(camera.shape[:2] + (2,), generator=torch.Generator().manual_seed(0)) * 0.005
    predicted = shipped_lifter().depth_shares(camera[..., :2] + jitter)
    error = (predicted - shares).abs().mean()
    assert error < 0.6 * shares.abs().mean(), (float(error), float(shares.abs().mean()))  # far better than "flat"
    steep = shares.abs() > 0.3
    agree = (torch.sign(predicted[steep]) == torch.sign(shares[steep])).float().mean()
    assert agree > 0.85, float(agree)  # towards or away from the camera


def test_lifted_landmarks_keep_lengths_and_directions_across_the_picture():
    rng = np.random.default_rng(0)
    landmarks = torch.tensor(np.c_[rng.normal(0, 0.4, (23, 3)), np.ones(23)], dtype=torch.float32)
    shares = torch.tensor(rng.uniform(-0.9, 0.9, 8), dtype=torch.float32)
    torch.testing.assert_close(lifted_landmarks(landmarks, shares, 0.0), landmarks)
    before = _segments(landmarks)
    seen = before[:, 2] / before.norm(dim=-1)
    agree = seen * shares >= 0
    assert agree.any() and not agree.all()  # both cases below
    for weight in (0.5, 1.0):
        lifted = lifted_landmarks(landmarks, shares, weight)
        after = _segments(lifted)
        torch.testing.assert_close(after.norm(dim=-1), before.norm(dim=-1))
        # the depth share moves towards the lifter's where both put the segment on the same side of the picture
        expected = torch.where(agree, (1 - weight) * seen + weight * shares, seen)
        torch.testing.assert_close(after[:, 2] / after.norm(dim=-1), expected)
        across = torch.nn.functional.normalize(before[:, :2], dim=-1)
        torch.testing.assert_close(torch.nn.functional.normalize(after[:, :2], dim=-1), across)
        assert torch.equal(lifted[:, 3], landmarks[:, 3])  # confidences stay


@needs_photos
def test_the_fit_follows_the_lifter_as_far_as_asked(anny_body):
    from core.camera import frame_person
    from core.detect.person import observe_person
    from core.fit.fit_body import FitOptions, fit_body
    from core.fit.overlay import posed_body
    from core.fit.targets import make_targets
    from core.io.images import load_image

    photo = load_image(PHOTOS / "04_icon_indoor_028009.jpg")
    observation = observe_person(photo)
    frame = frame_person(photo.rgb, observation.mask, observation.box)
    targets = make_targets(observation, frame, 256)
    lifted = shipped_lifter().depth_shares(targets.keypoints)

    def gap(weight: float) -> float:  # mean |fitted segment depth share − the lifter's|
        fit = fit_body(anny_body, observation, frame, FitOptions(lifted_depth=weight, clothing=None))
        with torch.no_grad():
            keypoints = anny_body.keypoints(posed_body(anny_body, fit).vertices)[0]
        camera = keypoints @ torch.tensor(fit.viewmat[:3, :3], dtype=torch.float32).T  # x right, y down, z away
        steps = _segments(camera)
        return float((steps[:, 2] / steps.norm(dim=-1) - lifted).abs().mean())

    assert gap(1.0) < 0.7 * gap(0.0)
