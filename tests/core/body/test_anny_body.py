import subprocess
import sys
import textwrap

import torch

from core.body.joints import JOINT_INDEX, JOINT_LIMITS, NUM_JOINTS, zero_pose


def random_poses(batch: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    """Poses drawn uniformly inside the joint limits (scaled towards zero by ``scale``)."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(batch, NUM_JOINTS, 3, generator=g)
    low, high = JOINT_LIMITS[..., 0] * scale, JOINT_LIMITS[..., 1] * scale
    pose = low + u * (high - low)
    pose[:, 0] = 0.3 * (torch.rand(batch, 3, generator=g) - 0.5)  # modest root rotations
    return pose


def test_loads_and_poses_without_network_or_cache(tmp_path, no_network):
    """No socket is opened and anny's cache stays empty: the model data ships with us."""
    cache = str(tmp_path / "cache")
    code = no_network + textwrap.dedent(f"""
        import os
        os.environ["ANNY_CACHE_DIR"] = {cache!r}
        import torch
        from core.body.anny_body import AnnyBody
        body = AnnyBody()
        out = body.forward(body.default_shape(), torch.zeros(1, 55, 3))
        assert torch.isfinite(out.vertices).all()
        import anny
        anny.KeypointsRegressor  # the package imports fully
        assert not attempts, attempts
        assert not os.path.exists({cache!r}) or not any(os.scandir({cache!r})), os.listdir({cache!r})
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_frame_and_t_pose(anny_body):
    rest = anny_body.rest(anny_body.default_shape())
    v = rest.vertices[0]
    height = float(v[:, 1].max() - v[:, 1].min())
    assert 1.5 < height < 1.9  # metres, Y up
    j = rest.joints[0]
    assert j[JOINT_INDEX["left_eye_smplhf"], 2] > j[JOINT_INDEX["head"], 2]  # faces +Z
    assert j[JOINT_INDEX["left_shoulder"], 0] > 0  # the person's left is +X
    # rest = A-pose: wrists well below the shoulders
    assert j[JOINT_INDEX["left_wrist"], 1] < j[JOINT_INDEX["left_shoulder"], 1] - 0.2
    t = anny_body.forward(anny_body.default_shape(), zero_pose(1)).joints[0]
    for side, sign in (("left", 1), ("right", -1)):
        shoulder, elbow, wrist = (t[JOINT_INDEX[f"{side}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
        for a, b in ((shoulder, elbow), (elbow, wrist)):
            direction = (b - a) / (b - a).norm()
            assert direction[0] * sign > 0.999  # zero pose = T-pose: arms along ±X
    legs = t[JOINT_INDEX["left_ankle"]] - t[JOINT_INDEX["left_hip"]]
    assert legs[1] / legs.norm() < -0.97


def test_skinning_reproduces_posed_vertices(anny_body):
    from core.avatar.binding import bind_points
    from core.body.lbs import skin_points
    from core.gaussians import GaussianCloud

    shape = torch.tensor([[0.3, 0.6, 0.4, 0.7, 0.55, 0.45]])
    rest = anny_body.rest(shape).vertices[0]
    binding = bind_points(rest, anny_body, rest)
    poses = random_poses(6, seed=1)
    out = anny_body.forward(shape, poses, root=torch.randn(6, 3) * 0.2)
    posed = skin_points(rest, binding.bone_indices, binding.bone_weights, out.transforms)
    assert (posed - out.vertices).abs().max() < 1e-5
    cloud = GaussianCloud.from_activated(rest, torch.full_like(rest, 0.5), torch.full_like(rest, 0.01),
                                         torch.full((len(rest),), 0.9))
    from core.avatar.skinning import skin_gaussians

    assert (skin_gaussians(cloud, binding, out.transforms[2]).means - out.vertices[2]).abs().max() < 1e-5


def test_shape_changes_body_and_is_differentiable(anny_body):
    tall = anny_body.rest(torch.tensor([[0.5, 0.5, 0.5, 0.5, 1.0, 0.5]])).vertices[0]
    short = anny_body.rest(torch.tensor([[0.5, 0.5, 0.5, 0.5, 0.0, 0.5]])).vertices[0]
    assert (tall[:, 1].max() - tall[:, 1].min()) > (short[:, 1].max() - short[:, 1].min()) + 0.2
    shape = anny_body.default_shape().requires_grad_(True)
    pose = (0.1 * torch.randn(1, 55, 3)).requires_grad_(True)
    out = anny_body.forward(shape, pose)
    out.vertices.sum().backward()
    assert shape.grad.abs().sum() > 0 and pose.grad.abs().sum() > 0
    assert out.vertices.dtype == torch.float32


def test_forward_agrees_with_anny_itself(anny_body):
    """Our retargeted forward equals anny's own forward pass (its kinematics and its skinning) fed
    with the same world-orient bone targets; and the rest pose is anny's rest pose."""
    from core.body.anny_body import FRAME

    shape = torch.tensor([[0.2, 0.7, 0.5, 0.3, 0.6, 0.4]])
    model = anny_body._anny
    kwargs = {label: shape[:, i] for i, label in enumerate(model.phenotype_labels)}
    reference_rest = model(phenotype_kwargs=kwargs, pose_parameterization="local-bone-world")
    ours_rest = anny_body.rest(shape).vertices
    assert torch.allclose(ours_rest, reference_rest["rest_vertices"] @ FRAME.T, atol=1e-6)
    poses = random_poses(3, seed=9)
    out = anny_body.forward(shape, poses)
    # rebuild anny's world-orient inputs from our bone transforms: W = T · P (rest pose)
    rest_poses = reference_rest["rest_bone_poses"]
    frame4 = torch.eye(4)
    frame4[:3, :3] = FRAME
    targets = (frame4.T @ out.transforms @ frame4) @ rest_poses
    reference = model(pose_parameters=targets, phenotype_kwargs=kwargs, pose_parameterization="world-orient")
    assert (out.vertices - reference["vertices"] @ FRAME.T).abs().max() < 3e-5  # float32 round trips


def test_keypoints_match_annys_own_regressor(anny_body):
    import anny

    from core.body.joints import KEYPOINT_NAMES

    pose = torch.zeros(1, 55, 3)
    pose[0, 0, 1] = 0.4
    out = anny_body.forward(torch.tensor([[0.3, 0.6, 0.5, 0.7, 0.4, 0.5]]), pose)
    ours = anny_body.keypoints(out.vertices)[0]
    regressor = anny.KeypointsRegressor.coco(anny_body._anny, labels=list(KEYPOINT_NAMES))
    theirs = regressor({"vertices": out.vertices})[0]
    assert (ours - theirs).norm(dim=1).max() < 1e-3  # the 64 strongest weights per keypoint suffice
    indices, weights = anny_body.keypoint_regressor()
    assert indices.shape == weights.shape == (23, 64)
    torch.testing.assert_close(weights.sum(1), torch.ones(23))
    names = dict(zip(KEYPOINT_NAMES, ours, strict=True))
    assert names["nose"][1] > names["left_shoulder"][1] > names["left_hip"][1] > names["left_knee"][1]


def test_world_orient_fast_path_equals_annys_chain(anny_body):
    """Our one-product kinematics equals anny's level-by-level chain, transforms and poses, any batch dims."""
    from anny.utils.kinematics import forward_kinematic

    from core.body.anny_body import world_orient_transforms
    from core.rotations import axis_angle_to_rotmat

    rest = anny_body.shape_state(torch.tensor([[0.3, 0.6, 0.5, 0.4, 0.5, 0.7]]))["bone_poses"][0]
    generator = torch.Generator().manual_seed(3)
    bones = rest.shape[0]
    orientation = axis_angle_to_rotmat(torch.randn(2, 3, bones, 3, generator=generator))
    root = torch.randn(2, 3, 3, generator=generator)
    targets = torch.zeros(2, 3, bones, 4, 4)
    targets[..., :3, :3] = orientation
    targets[..., 0, :3, 3] = root
    targets[..., 3, 3] = 1.0
    model = anny_body._anny
    chain = (model.kinematic_chain_levels, model.kinematic_chain_indices)
    reference = forward_kinematic(chain, rest.expand(2, 3, -1, -1, -1), targets, "world-orient")
    ours = world_orient_transforms(orientation, root, rest, anny_body._parent, anny_body._ancestors)
    for a, b in zip(ours, reference, strict=True):
        assert a.shape == b.shape and (a - b).abs().max() < 1e-5
