"""A captured frame's body drawn over that frame of the video."""

from __future__ import annotations

import numpy as np
import pytest

from core.capture.overlay import draw_frame, frame_fit

pytestmark = pytest.mark.slow


def test_each_frame_fit_lands_on_its_keypoints(captured, anny_body):
    for index in (0, 15, len(captured.poses) - 1):
        fit = frame_fit(anny_body, captured, index)
        assert np.array_equal(fit.pose, captured.poses[index]) and fit.image_size == captured.anchor.image_size
        residuals = list(fit.keypoint_residuals.values())
        assert len(residuals) >= 12 and np.median(residuals) < 0.05 * captured.height_px, (index, residuals)
    with pytest.raises(IndexError, match="outside"):
        frame_fit(anny_body, captured, len(captured.poses))


def test_drawn_frame_shows_the_video_and_the_body_on_the_person(captured, anny_body, frames):
    index = 20
    image = draw_frame(anny_body, captured, index)
    assert image.shape == frames[index].shape
    blue = (image[..., 2].astype(int) - image[..., 0] > 60)  # the body's translucent blue silhouette
    xs = captured.keypoints[index][:, 0][captured.keypoints[index][:, 2] > 0]
    ys = np.nonzero(blue)[1]
    assert blue.mean() > 0.02 and abs(np.median(ys) - np.median(xs)) < 0.1 * image.shape[1]
    # away from the person it is the video frame, dimmed
    corner = (slice(0, 40), slice(0, 40))
    assert np.abs(image[corner].astype(int) - 0.7 * frames[index][corner]).mean() < 4
