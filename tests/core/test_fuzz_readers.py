"""Every reader fuzzed (hypothesis): mutated valid files and random bytes give a result or the
reader's one documented error, within a time bound. The coverage-guided version of the same
targets is ``tests/fuzz/run_atheris.py``."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.readers import READER_NAMES, check, readers

_SECONDS_PER_INPUT = 10.0  # far above any reader's time on a valid file; a hang would exceed it


class _Targets(dict):
    """name → (reader, seed bytes); a short repr keeps hypothesis' failure reports readable."""

    def __repr__(self) -> str:
        return f"<{len(self)} fuzz targets>"


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    return _Targets({reader.name: (reader, reader.seed(folder)) for reader in readers()})


def _mutate(data, seed: bytes) -> bytes:
    raw = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 8), label="edits")):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        at = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if kind == "flip" and raw:
            raw[at] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete" and raw:
            del raw[at:at + data.draw(st.integers(1, 64))]
        elif kind == "splice":  # repeat a chunk (lengths and offsets stop matching)
            raw[at:at] = raw[at:at + data.draw(st.integers(1, 256))]
    return bytes(raw[: data.draw(st.integers(0, len(raw)), label="truncate at")])


@pytest.mark.parametrize("name", READER_NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_reader_gives_a_result_or_its_error(name, targets, tmp_path_factory, data):
    reader, seed = targets[name]
    folder = tmp_path_factory.mktemp(name)
    raw = data.draw(st.binary(max_size=256)) if data.draw(st.integers(0, 9)) == 0 else _mutate(data, seed)
    start = time.perf_counter()
    check(reader, raw, folder)
    assert time.perf_counter() - start < _SECONDS_PER_INPUT


@pytest.mark.parametrize("name", READER_NAMES)
def test_the_seed_itself_reads(name, targets, tmp_path):
    reader, seed = targets[name]
    assert check(reader, seed, tmp_path) == "ok"
