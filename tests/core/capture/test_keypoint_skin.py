"""Keypoints from bone transforms equal the regressor applied to the skinned mesh."""

from __future__ import annotations

import torch

from core.body.motions import builtin_motion
from core.capture.keypoint_skin import KeypointSkin


def test_matches_the_skinned_mesh(anny_body):
    shape = anny_body.default_shape() + 0.15
    motion = builtin_motion("jump", fps=10)
    with torch.no_grad():
        out = anny_body.forward(shape, motion.poses, motion.trans)
    expected = anny_body.keypoints(out.vertices)
    got = KeypointSkin(anny_body, shape).keypoints(out.transforms)
    assert got.shape == expected.shape == (len(motion), 23, 3)
    assert float((got - expected).abs().max()) < 1e-5
    # and not trivially: another shape's blend gives other keypoints
    other = KeypointSkin(anny_body, anny_body.default_shape() - 0.3).keypoints(out.transforms)
    assert float((other - expected).abs().max()) > 1e-3
