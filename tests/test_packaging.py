"""An installed (non-editable) wheel finds its shaders and resources."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_shaders_and_resources(tmp_path):
    source = tmp_path / "source"  # build from a copy: setuptools leaves build/ folders behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("core", "app", "cli", "shaders", "resources"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("avatarium-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("shaders/splat.vert", "shaders/splat.frag", "shaders/splat_project.vert", "shaders/web_splat.vert",
                   "shaders/web_splat.frag", "resources/player/player.js", "resources/player/player.html",
                   "resources/examples/figure.ply", "resources/body/anny.npz", "resources/body/skeleton_tpose.json",
                   "cli/__init__.py", "app/main_window.py"):
        assert needed in names
    assert not any(name.startswith("tests/") for name in names)
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    code = (
        "import core, core.resources as r\n"
        "from core.io.ply import read_ply\n"
        f"assert core.__file__.startswith({str(target)!r}), core.__file__\n"
        "assert '#version 410 core' in r.shader_source('splat.vert')\n"
        "print(len(read_ply(r.example_splat_path())))\n"
        "from core.body.anny_body import AnnyBody\n"
        "from core.body.motions import builtin_motion\n"
        "print(AnnyBody().num_vertices, len(builtin_motion('walk')))\n"
    )
    # run from an empty folder with the installed copy first on the path, not the checkout
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["12000", "13718", "133"]
