import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from core.body.joints import JOINT_INDEX, forward_kinematics, limit_violation
from core.body.motion_files import Motion, MotionError, load_amass, load_smplx_json_folder
from core.body.motions import BUILTIN_MOTIONS, builtin_motion, foot_sliding, load_motion, tpose_skeleton
from core.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle


def amass_file(path: Path, frames: int = 20, columns: int = 165, **overrides) -> Path:
    g = np.random.default_rng(0)
    poses = 0.2 * g.standard_normal((frames, columns))
    poses[:, :3] = [math.pi / 2, 0, 0]  # standing up in AMASS's Z-up world
    trans = np.stack([np.zeros(frames), np.linspace(0, 1, frames), np.full(frames, 0.9)], 1)  # walks along +Y
    data = {"poses": poses, "trans": trans, "mocap_framerate": np.array(60.0), "gender": np.array("neutral"),
            "betas": np.zeros(16)}
    data.update(overrides)
    np.savez(path, **data)
    return path


def test_amass_smplx_layout_and_z_up(tmp_path):
    motion = load_amass(amass_file(tmp_path / "clip.npz"))
    raw = np.load(tmp_path / "clip.npz")["poses"]
    assert len(motion) == 20 and motion.fps == 60.0 and motion.name == "clip"
    assert torch.allclose(motion.poses[:, 1:], torch.tensor(raw[:, 3:], dtype=torch.float32).reshape(20, 54, 3))
    # the Z-up world becomes Y up: the standing root is now (near) identity, up is +Y
    assert torch.allclose(motion.poses[:, 0], torch.zeros(20, 3), atol=1e-5)
    assert torch.allclose(motion.trans[:, 1], torch.full((20,), 0.9), atol=1e-6)
    assert torch.allclose(motion.trans[-1, 2], torch.tensor(-1.0), atol=1e-6)  # AMASS +Y is our -Z


def test_amass_smplh_layout(tmp_path):
    motion = load_amass(amass_file(tmp_path / "h.npz", columns=156), up="y")
    raw = np.load(tmp_path / "h.npz")["poses"]
    assert torch.all(motion.poses[:, 22:25] == 0)  # no jaw or eyes in SMPL+H
    assert torch.allclose(motion.poses[:, JOINT_INDEX["left_index1"]], torch.tensor(raw[:, 66:69], dtype=torch.float32))
    assert torch.allclose(motion.poses[:, 54], torch.tensor(raw[:, 153:156], dtype=torch.float32))


def test_amass_bad_files(tmp_path):
    cases = {
        "missing.npz": dict(poses=None),
        "columns.npz": dict(poses=np.zeros((5, 100)), trans=np.zeros((5, 3))),
        "trans.npz": dict(trans=np.zeros((3, 3))),
        "nan.npz": dict(trans=np.full((20, 3), np.nan)),
    }
    for name, override in cases.items():
        data = {k: v for k, v in override.items() if v is not None}
        path = amass_file(tmp_path / name, **data)
        if override.get("poses", 0) is None:
            with np.load(path) as npz:
                np.savez(path, **{k: npz[k] for k in npz.files if k != "poses"})
        with pytest.raises(MotionError):
            load_amass(path)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(MotionError, match="not a readable"):
        load_amass(tmp_path / "junk.npz")
    with pytest.raises(MotionError, match="limit"):
        load_amass(amass_file(tmp_path / "long.npz"), max_frames=10)
    with pytest.raises(MotionError, match="does not exist"):
        load_amass(tmp_path / "none.npz")


def test_amass_pickle_is_not_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.write_text, (marker, "pwned"))

    path = amass_file(tmp_path / "evil.npz", poses=np.array([Exploit()], dtype=object))
    with pytest.raises(MotionError):
        load_amass(path)
    assert not marker.exists()


def write_frames(folder: Path, frames: int = 4) -> Path:
    folder.mkdir()
    for i in range(frames):
        frame = {"root_pose": [math.pi, 0.0, 0.0], "body_pose": [[0.1 * i, 0.0, 0.0]] * 21,
                 "lhand_pose": [[0.0, 0.0, 0.2]] * 15, "rhand_pose": [[0.0, 0.0, -0.2]] * 15,
                 "jaw_pose": [0.1, 0, 0], "trans": [0.0, 0.2, 3.0 + i], "betas": [0.0] * 10, "focal": [1000, 1000]}
        (folder / f"{i:05d}.json").write_text(json.dumps(frame))
    return folder


def test_smplx_json_folder(tmp_path):
    motion = load_smplx_json_folder(write_frames(tmp_path / "frames"), fps=25)
    assert len(motion) == 4 and motion.fps == 25
    # OpenCV camera frame (y down, z away) → Y up: a person upside down in camera axes stands upright
    assert torch.allclose(axis_angle_to_rotmat(motion.poses[:, 0]), torch.eye(3).expand(4, 3, 3), atol=1e-5)
    assert torch.allclose(motion.trans[2], torch.tensor([0.0, -0.2, -5.0]))
    assert torch.allclose(motion.poses[3, 1], torch.tensor([0.3, 0.0, 0.0]))
    assert torch.allclose(motion.poses[:, JOINT_INDEX["jaw"], 0], torch.full((4,), 0.1))
    assert torch.allclose(motion.poses[:, JOINT_INDEX["right_thumb3"], 2], torch.full((4,), -0.2))


def test_smplx_json_folder_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MotionError, match="no .json"):
        load_smplx_json_folder(tmp_path / "empty")
    bad = write_frames(tmp_path / "bad")
    (bad / "00002.json").write_text("{not json")
    with pytest.raises(MotionError, match="00002.json"):
        load_smplx_json_folder(bad)
    (bad / "00002.json").write_text(json.dumps({"body_pose": [1, 2, 3]}))
    with pytest.raises(MotionError, match="21×3"):
        load_smplx_json_folder(bad)
    (bad / "00002.json").write_text(json.dumps({"camera": 1}))
    with pytest.raises(MotionError, match="body_pose"):
        load_smplx_json_folder(bad)


def test_resample_and_sample():
    g = torch.Generator().manual_seed(0)
    poses = 0.5 * torch.randn(11, 55, 3, generator=g)
    motion = Motion(poses, torch.linspace(0, 1, 11)[:, None].expand(11, 3).clone(), 10.0, "x")
    double = motion.resample(20)
    assert len(double) == 21 and double.fps == 20 and double.duration == pytest.approx(motion.duration)
    assert torch.allclose(double.poses[::2], poses, atol=1e-5)
    # a midpoint is the half-way rotation (slerp), checked on one joint
    a, b = axis_angle_to_rotmat(poses[3, 7]), axis_angle_to_rotmat(poses[4, 7])
    half = rotmat_to_axis_angle(a.T @ b) / 2
    expected = a @ axis_angle_to_rotmat(half)
    assert torch.allclose(axis_angle_to_rotmat(double.poses[7, 7]), expected, atol=1e-5)
    assert torch.allclose(double.trans[7], torch.full((3,), 0.35))
    with pytest.raises(MotionError):
        Motion(poses[:, :10], motion.trans, 10.0)


@pytest.mark.parametrize("name", BUILTIN_MOTIONS)
def test_builtin_clips_are_plausible(name):
    motion = builtin_motion(name)
    assert motion.duration >= 2.0 and motion.fps == 30.0
    assert limit_violation(motion.poses).max() < 1e-6
    assert foot_sliding(motion) < 0.03  # metres per ground contact
    skeleton = tpose_skeleton()
    feet_index = [JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]]
    feet = forward_kinematics(motion.poses, skeleton, motion.trans)[:, feet_index]
    floor = float(skeleton[JOINT_INDEX["left_foot"], 1])
    assert feet[..., 1].min() > floor - 1e-4  # never below the floor
    assert (motion.poses - motion.poses[:1]).abs().max() > 0.05  # it moves
    if name == "walk":
        assert motion.trans[-1, 2] > 2.0  # forward (+Z), about a metre per second
    if name == "jump":
        assert feet[..., 1].min(1).values.max() > floor + 0.1  # both feet leave the ground
    if name == "turn":
        root = axis_angle_to_rotmat(motion.poses[:, 0])
        facing = root[:, :, 2]
        assert facing[len(facing) // 2, 2] < -0.9 and facing[-1, 2] > 0.99  # faces back, then front again


def test_load_motion_dispatch(tmp_path):
    assert load_motion("wave").name == "wave"
    assert len(load_motion(amass_file(tmp_path / "a.npz"))) == 20
    assert len(load_motion(write_frames(tmp_path / "frames"))) == 4
    with pytest.raises(MotionError, match="built-in clip"):
        load_motion(tmp_path / "dance.bvh")
