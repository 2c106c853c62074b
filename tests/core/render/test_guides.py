"""Guide geometry: floor grid, skeleton segments and vertex normals."""

from __future__ import annotations

import numpy as np
import torch

from core.body.joints import PARENTS
from core.render.guides import floor_grid, skeleton_segments, vertex_normals


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


def test_vertex_normals_of_an_octahedron_point_outward():
    vertices = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], np.float32)
    faces = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])
    normals = vertex_normals(vertices, faces)
    assert np.allclose(normals, vertices, atol=1e-6)  # by symmetry, along each vertex


def test_body_normals_point_out_of_the_body(anny_body):
    rest = anny_body.rest(anny_body.default_shape()).vertices[0].numpy()
    normals = vertex_normals(rest, anny_body.faces.numpy())
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-4)
    # on the torso (around the spine's axis) normals point away from the axis
    torso = (np.abs(rest[:, 1] - np.median(rest[:, 1])) < 0.1) & (np.abs(rest[:, 0]) < 0.12)
    radial = rest[torso] * np.array([1.0, 0.0, 1.0]) - np.array([0.0, 0.0, np.median(rest[torso, 2])])
    outward = (normals[torso] * radial).sum(1) > 0
    assert outward.mean() > 0.9, outward.mean()
    assert torch.is_tensor(anny_body.faces)
