import math

from core.bench.fit import bench_synthetic


def test_synthetic_fit_benchmark_scores_random_and_hard_poses_apart():
    results = bench_synthetic(1, seed=0, size=256, hard=1)
    (scene,), (hard,) = results["scenes"], results["hard_scenes"]
    assert "hard_pose" not in scene and hard["hard_pose"] == "crouch"
    for row, summary in ((scene, results["summary"]), (hard, results["hard_summary"])):
        assert "error" not in row, row
        assert summary["scenes"] == summary["fitted"] == 1
        assert math.isfinite(row["pa_mpjpe_mm"]) and 0 < row["pa_mpjpe_mm"] < 250
        assert summary["mean_pa_mpjpe_mm"] == row["pa_mpjpe_mm"]
        assert 0.5 < row["silhouette_iou"] <= 1.0
