"""core must run without Qt or OpenGL: import every module in a clean interpreter and check."""

import pkgutil
import subprocess
import sys

import core


def test_core_imports_no_qt_or_opengl():
    modules = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))
    assert "core.io.ply" in modules and "core.pipeline" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'OpenGL', 'shiboken6', 'app'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core pulled in: {result.stdout}"
