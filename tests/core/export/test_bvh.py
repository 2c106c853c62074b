import numpy as np
import pytest
import torch
from bvh import Bvh  # an independent reader (PyPI "bvh")

from core.body.humanoid import HUMANOID_NAMES
from core.body.joints import JOINT_NAMES, PARENTS
from core.body.motions import builtin_motion
from core.export.bvh import BVH_UNITS, bvh_joints, euler_zxy, save_bvh
from core.rotations import axis_angle_to_rotmat


def _rz_rx_ry(z: float, x: float, y: float) -> np.ndarray:
    z, x, y = np.radians([z, x, y])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    return rz @ rx @ ry


def test_euler_angles_rebuild_the_rotation():
    rotations = axis_angle_to_rotmat(torch.randn(200, 3, generator=torch.Generator().manual_seed(1)).double()).numpy()
    angles = euler_zxy(rotations)
    rebuilt = np.stack([_rz_rx_ry(*a) for a in angles])
    assert np.abs(rebuilt - rotations).max() < 1e-9


def test_bvh_reads_back_with_the_skeleton_angles_and_joint_positions(tmp_path, anny_body):
    shape = np.array([0.4, 0.5, 0.6, 0.5, 0.5, 0.5], np.float32)
    motion = builtin_motion("jump", 30.0)
    path = save_bvh(tmp_path / "jump.bvh", anny_body, shape, motion)
    parsed = Bvh(path.read_text())
    joints = bvh_joints(anny_body)
    names = [HUMANOID_NAMES[JOINT_NAMES[j]] for j in joints]
    assert sorted(parsed.get_joints_names()) == sorted(names) and "Jaw" not in names  # anny has no jaw bone
    for j in joints[1:]:  # the SMPL-X tree under humanoid names
        assert parsed.joint_parent(HUMANOID_NAMES[JOINT_NAMES[j]]).name == HUMANOID_NAMES[JOINT_NAMES[PARENTS[j]]]
    assert parsed.nframes == len(motion) and parsed.frame_time == pytest.approx(1 / motion.fps, rel=1e-6)
    rest = {name: np.array(parsed.joint_offset(name)) for name in names}
    for frame in (0, 30, len(motion) - 1):
        rotations, positions = {}, {}
        out = anny_body.forward(torch.tensor(shape)[None], motion.poses[frame][None], motion.trans[frame][None])
        truth = axis_angle_to_rotmat(motion.poses[frame].double()).numpy()
        for j, name in zip(joints, names, strict=True):  # parents come first in the file
            z, x, y = parsed.frame_joint_channels(frame, name, ["Zrotation", "Xrotation", "Yrotation"])
            local = _rz_rx_ry(z, x, y)
            cosine = (np.trace(local.T @ truth[j]) - 1) / 2
            assert np.degrees(np.arccos(np.clip(cosine, -1, 1))) < 0.1, (frame, name)
            if PARENTS[j] < 0:
                rotations[name] = local
                positions[name] = np.array(parsed.frame_joint_channels(frame, name, ["Xposition", "Yposition",
                                                                                     "Zposition"]))
            else:
                parent = HUMANOID_NAMES[JOINT_NAMES[PARENTS[j]]]
                rotations[name] = rotations[parent] @ local
                positions[name] = positions[parent] + rotations[parent] @ rest[name]
        ours = np.stack([positions[n] for n in names]) / BVH_UNITS
        error = np.linalg.norm(ours - out.joints[0, joints].double().numpy(), axis=1)
        assert error.max() < 1e-3, (frame, names[int(error.argmax())])
    with pytest.raises(ValueError, match=r"\.bvh"):
        save_bvh(tmp_path / "jump.txt", anny_body, shape, motion)
