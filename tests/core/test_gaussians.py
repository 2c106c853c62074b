import math

import pytest
import torch

from core.gaussians import SH_C0, GaussianCloud, InvalidGaussiansError, eval_sh, rgb_to_sh0
from core.rotations import quat_to_rotmat


def random_cloud(n: int = 50, degree: int = 0, seed: int = 0) -> GaussianCloud:
    g = torch.Generator().manual_seed(seed)
    k = (degree + 1) ** 2
    return GaussianCloud(
        means=torch.randn(n, 3, generator=g),
        quats=torch.randn(n, 4, generator=g),
        log_scales=torch.randn(n, 3, generator=g) - 3,
        opacity_logits=torch.randn(n, generator=g),
        sh=torch.randn(n, k, 3, generator=g),
    )


def test_validation_rejects_bad_shapes_dtypes_and_values():
    cloud = random_cloud()
    fields = dict(means=cloud.means, quats=cloud.quats, log_scales=cloud.log_scales,
                  opacity_logits=cloud.opacity_logits, sh=cloud.sh)
    with pytest.raises(InvalidGaussiansError, match="quats has shape"):
        GaussianCloud(**{**fields, "quats": cloud.quats[:, :3]})
    with pytest.raises(InvalidGaussiansError, match="opacity_logits"):
        GaussianCloud(**{**fields, "opacity_logits": cloud.opacity_logits[:-1]})
    with pytest.raises(InvalidGaussiansError, match="SH coefficients"):
        GaussianCloud(**{**fields, "sh": torch.zeros(50, 5, 3)})
    with pytest.raises(InvalidGaussiansError, match="floating point"):
        GaussianCloud(**{k: v.to(torch.int32) for k, v in fields.items()})
    with pytest.raises(InvalidGaussiansError, match="float64"):
        GaussianCloud(**{**fields, "sh": cloud.sh.double()})
    bad = cloud.means.clone()
    bad[3, 1] = float("nan")
    bad[4, 0] = float("inf")
    with pytest.raises(InvalidGaussiansError, match="2 NaN or infinite"):
        GaussianCloud(**{**fields, "means": bad})
    with pytest.raises(InvalidGaussiansError, match="torch.Tensor"):
        GaussianCloud(**{**fields, "means": cloud.means.numpy()})


def test_activations():
    cloud = random_cloud()
    assert torch.allclose(cloud.scales(), cloud.log_scales.exp())
    assert torch.allclose(cloud.opacities(), torch.sigmoid(cloud.opacity_logits))
    assert torch.allclose(cloud.rotations().norm(dim=1), torch.ones(50))
    assert torch.allclose(cloud.base_colors(), (0.5 + SH_C0 * cloud.sh[:, 0]).clamp(0, 1))


def test_covariance_is_r_s_st_rt():
    cloud = random_cloud().to(dtype=torch.float64)
    cov = cloud.covariances()
    rot = quat_to_rotmat(cloud.quats)
    expected = rot @ torch.diag_embed(cloud.scales() ** 2) @ rot.transpose(1, 2)
    assert torch.allclose(cov, expected)
    assert torch.allclose(cov, cov.transpose(1, 2))
    assert (torch.linalg.eigvalsh(cov) > 0).all()
    # identity rotation: diagonal variances
    identity = GaussianCloud.from_activated(torch.zeros(1, 3), torch.ones(1, 3) * 0.5,
                                            torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([0.5]))
    assert torch.allclose(identity.covariances()[0], torch.diag(torch.tensor([1.0, 4.0, 9.0])))


def test_from_activated_round_trips_activated_values():
    rgb = torch.tensor([[0.1, 0.5, 0.9]])
    cloud = GaussianCloud.from_activated(torch.zeros(1, 3), rgb, torch.tensor([[0.01, 0.02, 0.03]]),
                                         torch.tensor([0.25]))
    assert torch.allclose(cloud.base_colors(), rgb)
    assert torch.allclose(cloud.scales(), torch.tensor([[0.01, 0.02, 0.03]]))
    assert torch.allclose(cloud.opacities(), torch.tensor([0.25]))
    assert torch.allclose(rgb_to_sh0(rgb) * SH_C0 + 0.5, rgb)


def test_concatenate_subset_to():
    a, b = random_cloud(10, degree=0), random_cloud(5, degree=2, seed=1)
    both = GaussianCloud.concatenate([a, b])
    assert len(both) == 15 and both.sh_degree == 2
    assert torch.equal(both.sh[:10, 0], a.sh[:, 0]) and torch.all(both.sh[:10, 1:] == 0)
    assert torch.equal(both.subset(slice(10, 15)).sh, b.sh)
    mask = torch.zeros(15, dtype=torch.bool)
    mask[[0, 12]] = True
    picked = both.subset(mask)
    assert len(picked) == 2 and torch.equal(picked.means[1], b.means[2])
    assert both.subset(torch.tensor([3])).means.shape == (1, 3)
    assert both.to(dtype=torch.float64).dtype == torch.float64
    assert both.with_sh_degree(0).sh.shape == (15, 1, 3)
    assert both.with_sh_degree(3).sh.shape == (15, 16, 3)
    with pytest.raises(InvalidGaussiansError):
        GaussianCloud.concatenate([])


def _fibonacci_sphere(n: int) -> torch.Tensor:
    i = torch.arange(n, dtype=torch.float64) + 0.5
    phi = torch.acos(1 - 2 * i / n)
    theta = math.pi * (1 + 5**0.5) * i
    return torch.stack([torch.cos(theta) * torch.sin(phi), torch.sin(theta) * torch.sin(phi), torch.cos(phi)], 1)


def test_sh_basis_is_orthonormal():
    """The 16 real SH basis functions integrate to the identity Gram matrix over the sphere,
    which checks every constant and sign pattern of eval_sh."""
    dirs = _fibonacci_sphere(40000)
    basis = []
    for k in range(16):
        coeffs = torch.zeros(16, 3, dtype=torch.float64)
        coeffs[k, 0] = 1.0
        basis.append(eval_sh(coeffs.expand(len(dirs), 16, 3), dirs)[:, 0] - 0.5)
    y = torch.stack(basis, 1)
    gram = 4 * math.pi * y.T @ y / len(dirs)
    assert torch.allclose(gram, torch.eye(16, dtype=torch.float64), atol=2e-3)


def test_view_dependent_colors():
    cloud = random_cloud(20, degree=1)
    eye = torch.tensor([0.0, 0.0, 10.0])
    colors = cloud.colors(eye)
    dirs = cloud.means - eye
    dirs = dirs / dirs.norm(dim=1, keepdim=True)
    assert torch.allclose(colors, eval_sh(cloud.sh, dirs).clamp(0, 1))
    assert not torch.allclose(colors, cloud.colors(-eye))
    assert torch.equal(cloud.colors(), cloud.base_colors())


def test_transformed_moves_turns_and_scales_like_the_covariance_says():
    from core.rotations import axis_angle_to_rotmat

    generator = torch.Generator().manual_seed(3)
    cloud = GaussianCloud(torch.randn(50, 3, generator=generator), torch.randn(50, 4, generator=generator),
                          torch.randn(50, 3, generator=generator) * 0.3, torch.randn(50, generator=generator),
                          torch.rand(50, 1, 3, generator=generator))
    R = axis_angle_to_rotmat(torch.tensor([0.4, -0.9, 0.2]))
    moved = cloud.transformed(2.0, R, torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(moved.means, 2.0 * cloud.means @ R.T + torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(moved.covariances(), 4.0 * R @ cloud.covariances() @ R.T, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(moved.base_colors(), cloud.base_colors())
