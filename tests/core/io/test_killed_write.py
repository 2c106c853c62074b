"""Nothing lost: a writer killed in the middle of a write leaves the old file or the new one, never
a partial one (atomic temp file + fsync + rename)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

_WRITER = """
import sys
from core.examples import figure_cloud
from core.io.ply import write_ply
path, count = sys.argv[1], int(sys.argv[2])
old, new = figure_cloud(count, seed=1), figure_cloud(count, seed=2)
write_ply(path, old)
print("old written", flush=True)
while True:
    write_ply(path, new)
    write_ply(path, old)
"""


def test_a_killed_export_leaves_a_complete_file(tmp_path):
    from core.examples import figure_cloud
    from core.io.ply import encode_ply, read_ply

    count = 150_000
    target = tmp_path / "avatar.ply"
    process = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), str(count)], stdout=subprocess.PIPE,
                               text=True, cwd=Path(__file__).resolve().parents[3])
    try:
        assert process.stdout.readline().strip() == "old written"
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".avatar.*.tmp.ply")):  # a new version is being written now
            assert time.monotonic() < deadline, "the writer never started a second write"
            time.sleep(0.001)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    versions = {encode_ply(figure_cloud(count, seed=seed)) for seed in (1, 2)}
    assert target.read_bytes() in versions  # complete, byte for byte one of the two
    assert len(read_ply(target)) == count
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(name.startswith(".avatar.") and ".tmp" in name for name in leftovers)  # hidden temp file only
