"""Geometry on the body's mesh: vertex normals."""

from __future__ import annotations

import numpy as np
import torch

from core.body.surface import vertex_normals


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
