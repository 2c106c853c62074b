import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.render.depth_sort import argsort_descending

_FLOATS = st.floats(width=32, allow_nan=False)  # infinities, ±0 and subnormals included


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.integers(0, 300), elements=_FLOATS))
def test_matches_stable_argsort(values):
    order = argsort_descending(values)
    assert order.dtype == np.uint32
    assert order.tolist() == np.argsort(-values, kind="stable").tolist()


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, st.integers(1, 200), elements=st.sampled_from([-1.5, -0.0, 0.0, 2.0, np.inf])))
def test_ties_keep_input_order(values):
    assert argsort_descending(values).tolist() == np.argsort(-values, kind="stable").tolist()


def test_large_input_spans_all_digits():
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(100_000) * rng.choice([1e-30, 1.0, 1e30], 100_000)).astype(np.float32)
    assert np.array_equal(argsort_descending(values), np.argsort(-values, kind="stable"))


def test_rejects_non_vectors():
    with pytest.raises(ValueError, match="1-D"):
        argsort_descending(np.zeros((2, 2), np.float32))


def test_viewport_order_is_the_same_before_and_after_the_kernels_load():
    """A fresh process sorts with NumPy (it never waits for Numba) until prepare(), with the same order."""
    import subprocess
    import sys

    script = """
import numpy as np
from core.camera import look_at
from core.render import depth_sort, viewport_data
means = np.random.default_rng(3).normal(size=(5000, 3)).astype(np.float32)
means[:100] = means[100:200]  # ties
view = look_at(np.array([0.3, 1.0, 4.0]), np.zeros(3))
assert not depth_sort.is_compiled()
before = viewport_data.back_to_front(means, view)
depth_sort.prepare()
assert depth_sort.is_compiled()
after = viewport_data.back_to_front(means, view)
assert before.dtype == after.dtype == np.uint32 and np.array_equal(before, after)
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
