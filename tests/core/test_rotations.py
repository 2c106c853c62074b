import math

import torch

from core.rotations import quat_multiply, quat_to_rotmat, rotmat_to_quat


def test_quaternion_matrix_round_trip_including_half_turns():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2000, 4, generator=g, dtype=torch.float64)
    # rotations by ~180 degrees (w ≈ 0) stress the conversion branch choice
    q[:500, 0] = 1e-9
    q = q / q.norm(dim=1, keepdim=True)
    q = torch.where(q[:, :1] < 0, -q, q)
    back = rotmat_to_quat(quat_to_rotmat(q))
    same = torch.minimum((back - q).abs().amax(1), (back + q).abs().amax(1))
    assert same.max() < 1e-9


def test_rotation_matrices_are_proper_and_batched():
    q = torch.randn(3, 5, 4, dtype=torch.float64)
    m = quat_to_rotmat(q)
    assert m.shape == (3, 5, 3, 3)
    assert torch.allclose(m @ m.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(3, 5, 3, 3))
    assert torch.allclose(torch.linalg.det(m), torch.ones(3, 5, dtype=torch.float64))


def test_wxyz_convention():
    half = math.sqrt(0.5)
    about_z = torch.tensor([half, 0.0, 0.0, half], dtype=torch.float64)  # +90° about z
    assert torch.allclose(quat_to_rotmat(about_z) @ torch.tensor([1.0, 0, 0], dtype=torch.float64),
                          torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))


def test_quaternion_product_composes_rotations():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(2, 7, 4, generator=g, dtype=torch.float64)
    a, b = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    assert torch.allclose(quat_to_rotmat(quat_multiply(a, b)), quat_to_rotmat(a) @ quat_to_rotmat(b))
