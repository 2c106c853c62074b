import numpy as np
import pytest
import torch
from synthetic_smplx import write_malicious_pickle_npz, write_synthetic_smplx

from core.body.joints import JOINT_INDEX, JOINT_LIMITS, NUM_JOINTS, PARENTS
from core.body.smplx_body import ENV_DIR, BodyModelError, SmplxBody, find_smplx_file


@pytest.fixture(scope="module")
def smplx_file(tmp_path_factory, anny_body):
    return write_synthetic_smplx(tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz", anny_body)


@pytest.fixture(scope="module")
def smplx_body(smplx_file):
    return SmplxBody(smplx_file)


def random_poses(batch, seed, scale=0.6):
    g = torch.Generator().manual_seed(seed)
    low, high = JOINT_LIMITS[..., 0] * scale, JOINT_LIMITS[..., 1] * scale
    pose = low + torch.rand(batch, NUM_JOINTS, 3, generator=g) * (high - low)
    pose[:, 0] = 0.5 * (torch.rand(batch, 3, generator=g) - 0.5)
    return pose


def test_loads_from_folder_file_and_env(smplx_file, monkeypatch):
    assert SmplxBody(smplx_file.parent).num_vertices == 13718
    monkeypatch.setenv(ENV_DIR, str(smplx_file.parent))
    assert find_smplx_file() == smplx_file
    monkeypatch.delenv(ENV_DIR)
    with pytest.raises(BodyModelError, match="licence-gated"):
        find_smplx_file()


def test_skinning_reproduces_posed_vertices(smplx_body):
    from core.avatar.binding import bind_points
    from core.body.lbs import skin_points

    shape = torch.tensor([[1.0, -0.5, 0.3] + [0.0] * 7])
    rest = smplx_body.rest(shape).vertices[0]
    binding = bind_points(rest, smplx_body, rest)
    out = smplx_body.forward(shape, random_poses(5, seed=2), root=torch.randn(5, 3) * 0.3)
    posed = skin_points(rest, binding.bone_indices, binding.bone_weights, out.transforms)
    assert (posed - out.vertices).abs().max() < 1e-5


def test_pose_correctives_move_the_mesh_only(tmp_path, anny_body):
    body = SmplxBody(write_synthetic_smplx(tmp_path / "SMPLX_NEUTRAL.npz", anny_body, posedirs_scale=1e-3))
    pose = random_poses(1, seed=3)
    shape = body.default_shape()
    out = body.forward(shape, pose)
    flat = body.forward(shape, torch.zeros(1, NUM_JOINTS, 3))
    assert (flat.vertices - body.rest(shape).vertices).abs().max() < 1e-6  # no correctives at rest
    from core.body.lbs import skin_points

    skinned = skin_points(body.rest(shape).vertices[0], body.skin_indices, body.skin_weights, out.transforms)
    assert (skinned - out.vertices).abs().max() > 1e-3


LIMBS = [("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"),
         ("right_knee", "right_ankle"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
         ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("spine1", "spine2"),
         ("spine3", "neck"), ("neck", "head"), ("left_collar", "left_shoulder"), ("pelvis", "spine1")]


def limb_angles(joints_a, joints_b):
    angles = []
    for start, end in LIMBS:
        da = joints_a[..., JOINT_INDEX[end], :] - joints_a[..., JOINT_INDEX[start], :]
        db = joints_b[..., JOINT_INDEX[end], :] - joints_b[..., JOINT_INDEX[start], :]
        cos = (da * db).sum(-1) / (da.norm(dim=-1) * db.norm(dim=-1))
        angles.append(torch.rad2deg(torch.arccos(cos.clamp(-1, 1))))
    return torch.stack(angles, -1)  # [..., limbs]


def test_retargeted_anny_limbs_follow_smplx(anny_body, smplx_body):
    zero = torch.zeros(1, NUM_JOINTS, 3)
    baseline = limb_angles(anny_body.forward(anny_body.default_shape(), zero).joints,
                           smplx_body.forward(smplx_body.default_shape(), zero).joints)[0]
    poses = random_poses(24, seed=4)
    anny_joints = anny_body.forward(anny_body.default_shape(), poses).joints
    smplx_joints = smplx_body.forward(smplx_body.default_shape(), poses).joints
    angles = limb_angles(anny_joints, smplx_joints)
    assert (angles <= baseline + 3.0).all(), (angles - baseline).max(0).values
    # and the poses really moved the limbs
    moved = limb_angles(smplx_joints, smplx_body.forward(smplx_body.default_shape(), zero).joints)
    assert moved.mean() > 15


def test_refuses_malicious_pickles_without_running_them(tmp_path, anny_body):
    marker = tmp_path / "pwned.txt"
    # a pickle in a key we never read: the model loads, nothing runs
    ok = write_malicious_pickle_npz(tmp_path / "joint2num.npz", marker, anny_body, "joint2num")
    assert SmplxBody(ok).num_vertices == 13718
    # a pickle in place of a required array: refused, nothing runs
    bad = write_malicious_pickle_npz(tmp_path / "v_template.npz", marker, anny_body, "v_template")
    with pytest.raises(BodyModelError, match="not a numeric array"):
        SmplxBody(bad)
    assert not marker.exists()


def test_wrong_files_get_clear_errors(tmp_path, smplx_file):
    with pytest.raises(BodyModelError, match="not found"):
        SmplxBody(tmp_path / "nothing.npz")
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04.")
    with pytest.raises(BodyModelError, match="pickle"):
        SmplxBody(tmp_path / "model.pkl")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(BodyModelError, match="not a readable"):
        SmplxBody(tmp_path / "junk.npz")
    with np.load(smplx_file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "joint2num"}
    smpl = dict(arrays, J_regressor=arrays["J_regressor"][:24], weights=arrays["weights"][:, :24],
                kintree_table=arrays["kintree_table"][:, :24])
    np.savez(tmp_path / "smpl.npz", **smpl)
    with pytest.raises(BodyModelError, match="is SMPL, not SMPL-X"):
        SmplxBody(tmp_path / "smpl.npz")
    smplh = dict(arrays, J_regressor=arrays["J_regressor"][:52], weights=arrays["weights"][:, :52],
                 kintree_table=arrays["kintree_table"][:, :52])
    np.savez(tmp_path / "smplh.npz", **smplh)
    with pytest.raises(BodyModelError, match="SMPL\\+H"):
        SmplxBody(tmp_path / "smplh.npz")
    np.savez(tmp_path / "partial.npz", **{k: v for k, v in arrays.items() if k != "posedirs"})
    with pytest.raises(BodyModelError, match="lacks posedirs"):
        SmplxBody(tmp_path / "partial.npz")
    broken = dict(arrays)
    broken["v_template"] = broken["v_template"].copy()
    broken["v_template"][5, 1] = np.nan
    np.savez(tmp_path / "nan.npz", **broken)
    with pytest.raises(BodyModelError, match="NaN"):
        SmplxBody(tmp_path / "nan.npz")
    assert PARENTS[0] == -1


@pytest.mark.usefixtures("gl_available")
def test_cli_body_mode_with_user_smplx(tmp_path, smplx_file):
    import subprocess
    import sys

    out = tmp_path / "frames"
    command = [sys.executable, "-m", "cli", "view", "--body", "smplx", "--motion", "wave", "--headless",
               "--views", "2", "--splats", "2000", "-o", str(out)]
    result = subprocess.run(command + ["--smplx-dir", str(smplx_file.parent)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list(out.glob("smplx_wave_*.png"))) == 2
    env = {k: v for k, v in __import__("os").environ.items() if k != ENV_DIR}
    missing = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert missing.returncode == 1 and "licence-gated" in missing.stderr


def test_keypoints_and_vertex_subsets(smplx_body):
    pose = random_poses(1, 3)
    full = smplx_body.forward(smplx_body.default_shape(), pose)
    ids = torch.tensor([6, 616, 9120, 13000])
    part = smplx_body.forward(smplx_body.default_shape(), pose, vertex_ids=ids)
    torch.testing.assert_close(part.vertices, full.vertices[:, ids])
    keypoints = smplx_body.keypoints(full.vertices)[0]
    assert keypoints.shape == (23, 3)
    torch.testing.assert_close(keypoints[0], full.vertices[0, 9120])  # the nose is the smplx nose vertex
    elbow = keypoints[7]  # left_elbow: from the joint regressor's row
    assert (elbow - full.joints[0, JOINT_INDEX["left_elbow"]]).norm() < 0.05
