"""The mask maths on its own: pure NumPy, no Keras."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from prunebench.errors import UsageError
from prunebench.prune.api import prune_weights
from prunebench.prune.masks import apply_mask, magnitude_mask, mask_report, mask_threshold
from prunebench.prune.policy import WEIGHT_KERNELS, parse_variable_names
from prunebench.prune.ratio import parse_ratio, prune_count


@pytest.mark.parametrize(("total", "ratio", "count"), [
    (3_211_264, 0.1, 321_126), (3_211_264, 0.9, 2_890_138), (10_240, 0.3, 3_072), (10, 0.25, 3), (10, 0.35, 4),
    (7, 0.0, 0), (4, 0.5, 2), (1, 0.5, 1),
])
def test_prune_count_rounds_half_up(total, ratio, count):
    assert prune_count(total, ratio) == count


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=12),
                  elements=st.floats(-1, 1, width=32)), st.floats(0, 0.999))
def test_mask_zeros_exactly_the_count_of_smallest_magnitudes(weights, ratio):
    keep = magnitude_mask(weights, ratio)
    assert keep.shape == weights.shape
    assert int((~keep).sum()) == prune_count(weights.size, ratio)
    if keep.any() and (~keep).any():
        assert np.abs(weights[~keep]).max() <= np.abs(weights[keep]).min()


def test_ties_are_broken_by_index_deterministically():
    weights = np.array([0.5, -0.1, 0.1, 0.1, -0.5, 0.1], dtype=np.float32)
    keep = magnitude_mask(weights, 0.5)  # three of the four 0.1-magnitude weights go, lowest index first
    assert keep.tolist() == [True, False, False, False, True, True]
    assert np.array_equal(keep, magnitude_mask(weights.copy(), 0.5))


def test_threshold_is_the_largest_pruned_magnitude():
    weights = np.array([[0.3, -0.05], [0.2, -0.4]], dtype=np.float32)
    keep = magnitude_mask(weights, 0.5)
    assert mask_threshold(weights, keep) == pytest.approx(0.2)
    assert mask_threshold(weights, np.ones_like(keep)) == 0.0


def test_apply_mask_writes_positive_zeros_and_keeps_dtype():
    weights = np.array([-0.1, 0.2, -0.3], dtype=np.float32)
    pruned = apply_mask(weights, np.array([False, True, True]))
    assert pruned.dtype == np.float32 and not np.signbit(pruned[0]) and pruned[0] == 0.0
    assert weights[0] == np.float32(-0.1), "the input is not modified"


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, max_side=10),
                  elements=st.floats(-1, 1, width=32)), st.floats(0, 0.999))
def test_every_pruned_entry_is_positive_zero(weights, ratio):
    """The sign bit, not ``== 0``: a -0.0 equals 0 yet costs bytes once compressed (issue 8)."""
    weights = -np.abs(weights)  # all negative (or -0.0): a product with the mask would give -0.0
    keep = magnitude_mask(weights, ratio)
    for pruned in (apply_mask(weights, keep), prune_weights({"w": weights}, ("w",), ratio)[0]["w"]):
        assert pruned.dtype == np.float32
        assert not np.signbit(pruned[~keep]).any()
        np.testing.assert_array_equal(pruned[keep].view(np.uint32), weights[keep].view(np.uint32))


def test_report_and_prune_weights_give_the_papers_columns():
    rng = np.random.default_rng(0)
    weights = {"w_fc1": rng.standard_normal((40, 20)).astype(np.float32),
               "b_fc1": rng.standard_normal(20).astype(np.float32)}
    pruned, masks, reports = prune_weights(weights, ("w_fc1",), 0.3)
    assert set(masks) == set(reports) == {"w_fc1"}
    assert reports["w_fc1"].total == 800 and reports["w_fc1"].nonzero == 560
    assert np.array_equal(pruned["b_fc1"], weights["b_fc1"])
    assert mask_report(weights["w_fc1"], masks["w_fc1"]) == reports["w_fc1"]


@pytest.mark.parametrize("text", ["1", "1.5", "-0.1", "nan", "abc", ""])
def test_bad_ratios_are_usage_errors(text):
    with pytest.raises(UsageError, match="ratio"):
        parse_ratio(text)


def test_variable_names():
    assert parse_variable_names("w_fc1,w_fc2") == ("w_fc1", "w_fc2")
    assert parse_variable_names("all") == WEIGHT_KERNELS
    for text, message in (("", "empty"), ("w_fc3", "unknown"), ("w_fc1,w_fc1", "more than once"),
                          ("w_fc1,,w_fc2", "unknown")):
        with pytest.raises(UsageError, match=message):
            parse_variable_names(text)
