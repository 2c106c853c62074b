"""The ``avatarium`` command as a user runs it (subprocesses, real files)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_info_reports_versions():
    result = run("info")
    assert result.returncode == 0, result.stderr
    for key in ("avatarium", "torch", "torch device", "PySide6", "OpenGL"):
        assert key in result.stdout


def test_bad_usage_exit_code_two():
    assert run("frobnicate").returncode == 2
    assert run("bench", "viewer", "--splats", "ten").returncode == 2


def test_view_missing_file_is_a_clear_error(tmp_path):
    result = run("view", str(tmp_path / "missing.ply"), "--headless")
    assert result.returncode == 1 and "does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.usefixtures("gl_available")
def test_headless_view_writes_renders(tmp_path):
    result = run("view", "--headless", "-o", str(tmp_path), "--views", "2")
    assert result.returncode == 0, result.stderr
    files = sorted(tmp_path.glob("*.png"))
    assert [f.name for f in files] == ["figure_view00_az000.png", "figure_view01_az180.png", "figure_window.png"]
    assert str(tmp_path) in result.stdout
    front, back = (np.asarray(Image.open(f).convert("RGB")).astype(int) for f in files[:2])
    corner = front[0, 0]
    assert (np.abs(front - corner).sum(-1) > 30).mean() > 0.03  # a figure, not an empty view
    assert np.abs(front - back).mean() > 1  # the back differs from the front (eyes, hair)


@pytest.mark.usefixtures("gl_available")
def test_bench_viewer_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = run("bench", "viewer", "--splats", "2000,5000", "--seconds", "0.3", "--size", "256", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["benchmark"] == "viewer" and report["viewport_px"] == [256, 256]
    assert [row["splats"] for row in report["results"]] == [2000, 5000]
    for row in report["results"]:
        assert row["fps_static"] > 0 and row["fps_orbit"] > 0 and row["sort_ms"] > 0
    assert report["machine"]["cpu_count"] >= 1 and "renderer" in report["gl"]


def test_bench_body_writes_json(tmp_path):
    out = tmp_path / "body.json"
    result = run("bench", "body", "--gaussians", "2000", "--repeats", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["benchmark"] == "body" and report["model"] == "anny"
    assert 0 < report["load"]["warm_s"] < report["load"]["cold_process_s"]
    assert report["forward_ms"]["same_shape"] > 0
    assert [(r["gaussians"], r["bones_per_gaussian"]) for r in report["skinning"]] == [(2000, 9), (2000, 4)]
