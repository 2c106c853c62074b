import torch

from core.avatar.binding import bind_points, closest_point_on_triangles, closest_points_on_mesh
from core.body.joints import JOINT_INDEX


def brute_force_closest(points, vertices, faces, samples=60):
    """Closest points by dense sampling of every triangle (reference for small meshes)."""
    u = torch.linspace(0, 1, samples)
    a, b = torch.meshgrid(u, u, indexing="ij")
    keep = (a + b) <= 1
    bary = torch.stack([1 - a[keep] - b[keep], a[keep], b[keep]], 1)  # [S, 3]
    tri = vertices[faces]  # [F, 3, 3]
    samples_xyz = torch.einsum("sk,fkd->fsd", bary, tri).reshape(-1, 3)
    return torch.cdist(points, samples_xyz, compute_mode="donot_use_mm_for_euclid_dist").min(1).values


def test_closest_point_regions():
    a, b, c = torch.tensor([0.0, 0, 0]), torch.tensor([1.0, 0, 0]), torch.tensor([0.0, 1, 0])
    cases = {
        (0.2, 0.2, 1.0): (0.6, 0.2, 0.2),  # above the interior
        (-1.0, -1.0, 0.0): (1, 0, 0),  # beyond vertex a
        (2.0, -0.5, 0.3): (0, 1, 0),  # beyond vertex b
        (0.5, -1.0, 0.0): (0.5, 0.5, 0),  # beside edge ab
        (1.0, 1.0, 0.0): (0, 0.5, 0.5),  # beside edge bc
    }
    for point, expected in cases.items():
        bary = closest_point_on_triangles(torch.tensor(point), a, b, c)
        assert torch.allclose(bary, torch.tensor(expected, dtype=torch.float32), atol=1e-6), point


def test_closest_points_on_mesh_match_brute_force():
    g = torch.Generator().manual_seed(0)
    # a bumpy sphere
    n = 12
    theta, phi = torch.meshgrid(torch.linspace(0.1, 3.04, n), torch.linspace(0, 6.28, 2 * n + 1)[:-1], indexing="ij")
    radius = 1 + 0.1 * torch.sin(3 * theta) * torch.cos(2 * phi)
    vertices = torch.stack([radius * theta.sin() * phi.cos(), radius * theta.cos(), radius * theta.sin() * phi.sin()],
                           -1).reshape(-1, 3)
    faces = []
    m = 2 * n
    for i in range(n - 1):
        for j in range(m):
            p, q, r, s = i * m + j, i * m + (j + 1) % m, (i + 1) * m + j, (i + 1) * m + (j + 1) % m
            faces += [[p, r, q], [q, r, s]]
    faces = torch.tensor(faces)
    points = vertices[torch.randint(len(vertices), (300,), generator=g)] * (1 + 0.05 * torch.randn(300, 1, generator=g))
    tri, bary, dist = closest_points_on_mesh(points, vertices, faces)
    closest = (bary[:, :, None] * vertices[faces[tri]]).sum(1)
    assert torch.allclose((closest - points).norm(dim=1), dist, atol=1e-6)
    assert (bary >= -1e-6).all() and torch.allclose(bary.sum(1), torch.ones(300))
    reference = brute_force_closest(points, vertices, faces)
    assert (dist <= reference + 1e-6).all()  # never worse than dense sampling
    assert (dist - reference).abs().max() < 5e-3  # and as close as the sampling resolution


def _frames(vertices, faces):
    """Orthonormal frame [F, 3, 3] (columns: edge, in-plane normal to it, face normal) per triangle."""
    a, b, c = vertices[faces].unbind(1)
    t = (b - a) / (b - a).norm(dim=-1, keepdim=True)
    normal = torch.linalg.cross(b - a, c - a)
    normal = normal / normal.norm(dim=-1, keepdim=True)
    return torch.stack([t, torch.linalg.cross(normal, t), normal], -1)


def test_skinned_rotations_follow_their_triangle(anny_body):
    from core.avatar.skinning import skin_gaussians
    from core.gaussians import GaussianCloud
    from core.rotations import quat_to_rotmat, rotmat_to_quat

    shape = anny_body.default_shape()
    rest = anny_body.rest(shape).vertices[0]
    faces = anny_body.faces[::7]
    centroids = rest[faces].mean(1)
    frames = _frames(rest, faces)
    cloud = GaussianCloud.from_activated(centroids, torch.full_like(centroids, 0.5),
                                         torch.full_like(centroids, 0.005), torch.full((len(faces),), 0.9),
                                         quats=rotmat_to_quat(frames))
    binding = bind_points(centroids, anny_body, rest)
    assert (binding.triangles == torch.arange(len(anny_body.faces))[::7]).float().mean() > 0.95
    pose = torch.zeros(1, 55, 3)
    pose[0, JOINT_INDEX["left_elbow"]] = torch.tensor([0.0, -1.2, 0.0])
    pose[0, JOINT_INDEX["right_knee"]] = torch.tensor([1.0, 0.0, 0.0])
    pose[0, JOINT_INDEX["spine2"]] = torch.tensor([0.2, 0.3, 0.0])
    out = anny_body.forward(shape, pose)
    posed = skin_gaussians(cloud, binding, out.transforms[0])
    expected = _frames(out.vertices[0], faces)
    # the Gaussian's normal axis (its third local axis) follows the posed triangle's normal; LBS is not
    # rigid (bends shear triangles), so in-plane directions are not compared
    normal = quat_to_rotmat(posed.quats)[..., 2]
    cos = (normal * expected[..., 2]).sum(-1).clamp(-1, 1)
    angle = torch.rad2deg(torch.arccos(cos))
    assert angle.median() < 1.0 and torch.quantile(angle, 0.95) < 8.0 and angle.max() < 60.0
    # the fast rotation (quaternion of the blended matrix) agrees with its exact polar decomposition
    from core.body.lbs import blend_transforms

    blended = blend_transforms(binding.bone_indices, binding.bone_weights, out.transforms[0])[..., :3]
    u, _, vh = torch.linalg.svd(blended)
    polar = u @ vh
    from core.avatar.skinning import skin_gaussian_arrays

    fast = quat_to_rotmat(skin_gaussian_arrays(cloud, binding, out.transforms[0])[1]) @ frames.transpose(1, 2)
    cos = (((fast.transpose(1, 2) @ polar).diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1)
    assert torch.rad2deg(torch.arccos(cos)).max() < 1.0
    assert torch.allclose(posed.quats.norm(dim=1), torch.ones(len(faces)), atol=1e-5)
