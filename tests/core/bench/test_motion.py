"""The motion benchmark's measures on captures whose errors are known, and the real turntable clip."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core.bench.motion import SyntheticVideo, arm_spread, motion_errors, turning
from core.body.motions import builtin_motion
from core.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle

TURNTABLE = Path(__file__).parents[3].parent / "shared" / "realback" / "peoplesnapshot_female-3-casual" / "input.mp4"


def _truth(body, shape, motion) -> SyntheticVideo:
    with torch.no_grad():
        joints = body.forward(torch.tensor(shape)[None], motion.poses, motion.trans).joints.numpy()
    return SyntheticVideo(Path("none.mp4"), joints, motion.fps, np.eye(3), np.eye(4))


def _capture(shape, poses, roots) -> SimpleNamespace:
    return SimpleNamespace(shape=shape, poses=np.asarray(poses), roots=np.asarray(roots), missing=[])


def test_a_perfect_capture_scores_zero_and_errors_show(anny_body):
    shape = np.full(6, 0.5, np.float32)
    motion = builtin_motion("walk", 30.0)
    truth = _truth(anny_body, shape, motion)
    perfect = motion_errors(anny_body, _capture(shape, motion.poses, motion.trans), truth)
    assert perfect["frames"] == len(motion)
    assert perfect["pa_mpjpe_mm"] < 1e-3 and perfect["accel_error_mm"] < 1e-3 and perfect["root_error_cm"] < 1e-4
    assert perfect["resting_foot_frames"] > 0 and perfect["foot_skate_cm"] < 0.5  # the truth's own rest
    # a capture in another place, turned and scaled is the same after the similarity alignment
    turn = axis_angle_to_rotmat(torch.tensor([0.0, 0.7, 0.0]))
    poses = motion.poses.clone()
    poses[:, 0] = rotmat_to_axis_angle(turn @ axis_angle_to_rotmat(poses[:, 0]))
    moved = motion_errors(anny_body, _capture(shape, poses, motion.trans @ turn.T + torch.tensor([1.0, 0, 2])), truth)
    assert moved["pa_mpjpe_mm"] < 1e-2 and moved["root_error_cm"] < 1e-2
    # jitter shows as joint and acceleration error; a sliding root as root error and foot skate
    rng = torch.Generator().manual_seed(0)
    jitter = motion.poses + 0.05 * torch.randn(motion.poses.shape, generator=rng)
    noisy = motion_errors(anny_body, _capture(shape, jitter, motion.trans), truth)
    assert noisy["pa_mpjpe_mm"] > 10 and noisy["accel_error_mm"] > 10
    drift = motion.trans + torch.linspace(0, 2.0, len(motion))[:, None] * torch.tensor([0.0, 0.0, 1.0])
    sliding = motion_errors(anny_body, _capture(shape, motion.poses, drift), truth)
    assert sliding["foot_skate_cm"] > perfect["foot_skate_cm"] + 1.0 and sliding["root_error_cm"] > 3


def test_turning_measures_the_total_and_any_step_back():
    yaws = np.radians(np.concatenate([np.linspace(0, -200, 30), np.linspace(-190, -360, 30)]))
    poses = np.zeros((len(yaws), 55, 3), np.float32)
    poses[:, 0, 1] = [math.remainder(y, 2 * math.pi) for y in yaws]
    result = turning(_capture(None, poses, np.zeros((len(yaws), 3))))
    assert result["total_turn_deg"] == pytest.approx(-360, abs=0.1)
    assert result["max_backwards_deg"] == pytest.approx(10, abs=0.1)


def test_arm_spread_of_a_t_pose_and_hanging_arms(anny_body):
    poses = torch.zeros(2, 55, 3)
    poses[1, 16, 2], poses[1, 17, 2] = -1.3, 1.3  # shoulders (SMPL-X 16 left, 17 right) down to the sides
    spread = arm_spread(anny_body, _capture(np.full(6, 0.5, np.float32), poses, np.zeros((2, 3))))
    assert spread[0] == pytest.approx([90, 90], abs=8)
    assert (spread[1] < 25).all()


@pytest.mark.slow
@pytest.mark.skipif(not TURNTABLE.exists(), reason=f"{TURNTABLE} is not here (the shared real-people data)")
def test_real_turntable_turns_once_with_arms_held(tmp_path):
    from core.bench.motion import bench_turntable

    result = bench_turntable(TURNTABLE, tmp_path / "sheet.png")
    assert abs(result["total_turn_deg"]) >= 330, result["total_turn_deg"]
    assert result["max_backwards_deg"] <= 15
    assert all(10 <= a <= 45 for a in result["arm_spread_mean_deg"]), result["arm_spread_mean_deg"]
    assert result["missing_frames"] == 0 and Path(result["sheet"]).stat().st_size > 10_000
