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
