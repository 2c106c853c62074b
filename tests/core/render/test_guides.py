"""Guide geometry: floor grid and skeleton segments."""

from __future__ import annotations

import numpy as np

from core.body.joints import PARENTS
from core.render.guides import floor_grid, skeleton_segments


def test_floor_grid_lies_on_the_floor_around_the_centre():
    grid = floor_grid(np.array([1.0, 5.0, -2.0]), floor_y=-0.9, half_extent=1.0, spacing=0.25)
    assert grid.shape == (2 * 9, 2, 3)
    assert np.all(grid[..., 1] == np.float32(-0.9))
    assert np.allclose(grid[..., 0].min(), 0.0) and np.allclose(grid[..., 0].max(), 2.0)
    assert np.allclose(grid[..., 2].min(), -3.0) and np.allclose(grid[..., 2].max(), -1.0)


def test_skeleton_segments_join_each_joint_to_its_parent():
    joints = np.random.default_rng(0).normal(size=(55, 3)).astype(np.float32)
    bones = skeleton_segments(joints)
    assert bones.shape == (21, 2, 3)
    for child in range(1, 22):
        assert np.array_equal(bones[child - 1, 0], joints[child])
        assert np.array_equal(bones[child - 1, 1], joints[PARENTS[child]])
