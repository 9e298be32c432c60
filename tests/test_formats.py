"""Storage formats: exact round trips, honest sizes, one-line errors, and the size arithmetic."""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prunebench.errors import DataError, UsageError
from prunebench.prune.formats import (
    FORMATS,
    SIZE_TABLE_FORMATS,
    binary_entropy,
    break_even_ratio,
    entropy_bound_bits,
    entropy_bound_bytes,
    model_nbytes,
    size_table,
)
from prunebench.prune.formats.model import as_matrix
from prunebench.prune.formats.shuffle import byte_shuffle, byte_unshuffle
from prunebench.prune.formats.skipcode import filler_count, row_of_entries, skip_decode, skip_encode

LOSSLESS = [name for name, fmt in FORMATS.items() if fmt.lossless]
LOSSY = [name for name, fmt in FORMATS.items() if not fmt.lossless]
# Hypothesis runs each format many times; zstd-19 on the repetitive layouts is slow even on small inputs.
FEW = settings(max_examples=15, deadline=None)


def bits(matrix: np.ndarray) -> np.ndarray:
    return matrix.view(np.uint32)


def is_dense(fmt_name: str) -> bool:
    """Dense layouts store every element, so only they keep the sign of a zero."""
    return fmt_name.split("+")[0] == "dense-float32"


def assert_bit_exact(fmt_name: str, original: np.ndarray, decoded: np.ndarray) -> None:
    """Bit-identical, except that sparse formats may turn -0.0 into +0.0 (``x + 0.0`` canonicalises)."""
    expected = original if is_dense(fmt_name) else original + np.float32(0.0)
    assert decoded.dtype == np.float32 and decoded.shape == original.shape
    np.testing.assert_array_equal(bits(decoded), bits(expected))


@st.composite
def sparse_matrices(draw, max_side: int = 40) -> np.ndarray:
    rows = draw(st.integers(1, max_side))
    cols = draw(st.integers(1, max_side))
    density = draw(st.sampled_from([0.0, 0.01, 0.1, 0.5, 0.9, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(0.0, 0.05, (rows, cols)).astype(np.float32)
    values[values == 0] = np.float32(1e-3)  # so density 1.0 means no zeros at all
    return np.where(rng.random((rows, cols)) < density, values, np.float32(0.0)).astype(np.float32)


EDGE_CASES = {
    "all-zero": np.zeros((7, 13), np.float32),
    "full": np.arange(1, 22, dtype=np.float32).reshape(3, 7) / 7,
    "1xN": np.array([[0, 0.5, 0, 0, -2.0, 0, 0, 0, 3.0]], np.float32),
    "Nx1": np.array([[0], [1.5], [0], [-0.25]], np.float32),
    "single-element": np.array([[0.75]], np.float32),
    "single-zero": np.zeros((1, 1), np.float32),
    "wide-gaps": np.pad(np.eye(3, dtype=np.float32), ((0, 0), (0, 1200)))[:, ::-1].copy(),
    "special-values": np.array([[np.inf, 0, -np.inf], [np.nan, 1e-45, -3.4e38]], np.float32),
}


@pytest.mark.parametrize("name", LOSSLESS)
@pytest.mark.parametrize("case", EDGE_CASES)
def test_lossless_round_trip_edge_cases(name, case):
    matrix = EDGE_CASES[case]
    blob = FORMATS[name].encode(matrix)
    assert_bit_exact(name, matrix, FORMATS[name].decode(blob))
    assert FORMATS[name].nbytes(matrix) == len(blob)


@pytest.mark.parametrize("name", LOSSLESS)
@FEW
@given(matrix=sparse_matrices())
def test_lossless_round_trip_random(name, matrix):
    blob = FORMATS[name].encode(matrix)
    assert_bit_exact(name, matrix, FORMATS[name].decode(blob))
    assert FORMATS[name].nbytes(matrix) == len(blob)


@pytest.mark.parametrize("name", list(FORMATS))
def test_negative_zero_decodes_as_a_zero(name):
    matrix = np.array([[-0.0, 1.0], [0.0, -0.0]], np.float32)
    decoded = FORMATS[name].decode(FORMATS[name].encode(matrix))
    np.testing.assert_array_equal(decoded, matrix)  # equal values; only dense keeps the sign bit
    assert np.signbit(decoded[0, 0]) == is_dense(name)


@pytest.mark.parametrize("name", LOSSY)
@FEW
@given(matrix=sparse_matrices())
def test_float16_error_within_half_precision(name, matrix):
    decoded = FORMATS[name].decode(FORMATS[name].encode(matrix))
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded == 0, matrix == 0)
    # round-to-nearest float16: relative error <= 2**-11 for normal values, absolute <= 2**-25 when subnormal
    tolerance = np.maximum(np.abs(matrix) * 2.0**-11, 2.0**-25)
    assert np.all(np.abs(decoded - matrix) <= tolerance)
    assert FORMATS[name].nbytes(matrix) == len(FORMATS[name].encode(matrix))


def test_flags_are_declared():
    assert set(LOSSY) == {"bitmask-f16+zstd", "bitmask-f16+shuffle+zstd"}
    raw = {name for name, fmt in FORMATS.items() if fmt.stores_values_raw}
    assert raw == {"dense-float32", "paper-tf1", "coo-int64", "csr-int32", "csr-rel-uint8", "bitmask"}
    assert set(SIZE_TABLE_FORMATS) <= set(FORMATS)


def test_paper_format_costs_24_bytes_per_nonzero():
    matrix = np.zeros((100, 100), np.float32)
    matrix.flat[::10] = 1.0
    fmt = FORMATS["paper-tf1"]
    header = fmt.nbytes(np.zeros((100, 100), np.float32))
    assert fmt.nbytes(matrix) - header == 24 * 1000
    assert FORMATS["coo-int64"].nbytes(matrix) - FORMATS["coo-int64"].nbytes(np.zeros((1, 1), np.float32)) == 20 * 1000


def test_csr_rel_counts_fillers_for_wide_gaps():
    matrix = np.zeros((2, 1000), np.float32)
    matrix[0, 600] = 1.0  # skip 600 -> two fillers (256 columns each), then skip 88
    matrix[1, 255] = 2.0  # skip 255 fits in one byte
    matrix[1, 256] = 3.0
    assert FORMATS["csr-rel-uint8"].fillers(matrix) == 2 and FORMATS["csr-int32"].fillers(matrix) == 0
    rows, cols = np.nonzero(matrix)
    indptr, skips, positions = skip_encode(rows, cols, 2)
    assert indptr.tolist() == [0, 3, 5] and skips.tolist() == [255, 255, 88, 255, 0]
    assert positions.tolist() == [2, 3, 4]
    assert row_of_entries(indptr).tolist() == [0, 0, 0, 1, 1]
    assert skip_decode(indptr, skips).tolist() == [255, 511, 600, 255, 256]
    assert filler_count(rows, cols) == 2


@FEW
@given(values=st.lists(st.floats(width=16, allow_nan=False), max_size=50), dtype=st.sampled_from(["<f4", "<f2"]))
def test_byte_shuffle_is_invertible(values, dtype):
    array = np.array(values, dtype=np.float32).astype(dtype)
    planes = byte_shuffle(array)
    assert planes.dtype == np.uint8 and planes.size == array.nbytes
    np.testing.assert_array_equal(byte_unshuffle(planes, dtype).view(np.uint8), array.view(np.uint8))


def test_byte_shuffle_groups_byte_planes():
    planes = byte_shuffle(np.array([0x04030201, 0x08070605], dtype="<u4"))
    assert planes.tolist() == [1, 5, 2, 6, 3, 7, 4, 8]


SAMPLE = np.where(np.arange(60).reshape(6, 10) % 3 == 0, 0.5, 0.0).astype(np.float32)


@pytest.mark.parametrize("name", list(FORMATS))
def test_truncated_blob_is_a_data_error(name):
    blob = FORMATS[name].encode(SAMPLE)
    for cut in (0, 3, len(blob) // 2, len(blob) - 1):
        with pytest.raises(DataError, match=r"^[^\n]+$"):
            FORMATS[name].decode(blob[:cut])


def foreign_format(name: str) -> str:
    """Another layout through the same compressor, so the frame decompresses and the inner header must object."""
    codec = getattr(FORMATS[name], "codec", None)
    layout = "csr-int32" if name.startswith("bitmask") else "bitmask"
    return f"{layout}+{codec.name}" if codec else layout


@pytest.mark.parametrize("name", list(FORMATS))
def test_garbage_and_foreign_blobs_are_data_errors(name):
    other = foreign_format(name)
    for blob in (b"not a weights blob at all", FORMATS[other].encode(SAMPLE), FORMATS[name].encode(SAMPLE) + b"\0"):
        with pytest.raises(DataError, match=r"^[^\n]+$"):
            FORMATS[name].decode(blob)


def test_corrupt_indices_are_data_errors():
    blob = bytearray(FORMATS["csr-int32"].encode(SAMPLE))
    header = len(blob) - 4 * 7 - 8 * 20
    blob[header + 4 * 7 : header + 4 * 8] = (999).to_bytes(4, "little")  # first column index
    with pytest.raises(DataError, match="column index out of range"):
        FORMATS["csr-int32"].decode(bytes(blob))
    with pytest.raises(DataError, match="gzip"):
        FORMATS["bitmask+gzip"].decode(zlib.compress(b"x")[:-2])


@pytest.mark.parametrize("bad", [np.zeros((2, 2), np.float64), np.zeros(4, np.float32), [[1.0]],
                                 np.zeros((1, 2, 2), np.float32)])
def test_bad_weights_are_usage_errors(bad):
    with pytest.raises(UsageError, match="^weights: expected a 2-D float32 array"):
        FORMATS["bitmask"].encode(bad)


def test_binary_entropy_hand_values():
    assert binary_entropy(0.0) == binary_entropy(1.0) == 0.0
    assert binary_entropy(0.5) == 1.0
    assert binary_entropy(0.25) == pytest.approx(0.8112781244591328)


@pytest.mark.parametrize(
    "n, nnz, expected_bits",
    [
        (8, 4, 8 * 1.0 + 32 * 4),  # H2(1/2) = 1 bit per element
        (4, 1, 4 * 0.8112781244591328 + 32),  # H2(1/4) = 2 - 3/4 log2 3
        (10, 0, 0.0),  # an all-zero matrix is known from its shape
        (10, 10, 320.0),  # a full one costs its values only
        (0, 0, 0.0),
    ],
)
def test_entropy_bound_hand_computed(n, nnz, expected_bits):
    assert entropy_bound_bits(n, nnz) == pytest.approx(expected_bits)
    assert entropy_bound_bytes(n, nnz) == math.ceil(expected_bits / 8 - 1e-12)


@pytest.mark.parametrize("n, nnz", [(-1, 0), (5, 6), (5, -1)])
def test_entropy_bound_rejects_impossible_counts(n, nnz):
    with pytest.raises(UsageError, match="entropy bound"):
        entropy_bound_bits(n, nnz)


@pytest.mark.parametrize(
    "sizes, reference, expected",
    [
        ({0.1: 70, 0.3: 50, 0.5: 37, 0.7: 22, 0.9: 8}, 38, 0.5),  # the paper's shape: break-even at 50%
        ({0.1: 10, 0.5: 5}, 38, 0.1),  # always below: the smallest ratio
        ({0.1: 70, 0.9: 40}, 38, None),  # never below
        ({0.1: 30, 0.5: 40, 0.9: 20}, 38, 0.9),  # below, above again, below: only the last run counts
        ({0.5: 38}, 38, None),  # equal is not below
        ({}, 38, None),
    ],
)
def test_break_even_ratio(sizes, reference, expected):
    assert break_even_ratio(sizes, reference) == expected


def small_model(ratio: float) -> dict[str, np.ndarray]:
    """The MNIST CNN's variable shapes, scaled down in the fc layers so the test stays fast."""
    rng = np.random.default_rng(7)
    shapes = {"w_conv1": (5, 5, 1, 32), "b_conv1": (32,), "w_fc1": (196, 64), "b_fc1": (64,), "w_fc2": (64, 10),
              "b_fc2": (10,)}
    weights = {name: rng.normal(0, 0.05, shape).astype(np.float32) for name, shape in shapes.items()}
    for name in ("w_fc1", "w_fc2"):
        threshold = np.quantile(np.abs(weights[name]), ratio)
        weights[name] = np.where(np.abs(weights[name]) > threshold, weights[name], np.float32(0.0))
    return weights


def test_model_nbytes_adds_the_dense_rest_through_the_same_codec():
    weights = small_model(0.9)
    rest = ["w_conv1", "b_conv1", "b_fc1", "b_fc2"]
    for name, rest_name in (("bitmask", "dense-float32"), ("bitmask+zstd", "dense-float32+zstd"),
                            ("csr-int32+gzip", "dense-float32+gzip")):
        fmt, dense = FORMATS[name], FORMATS[rest_name]
        expected = sum(fmt.nbytes(as_matrix(v, weights[v])) for v in ("w_fc1", "w_fc2"))
        expected += sum(dense.nbytes(as_matrix(v, weights[v])) for v in rest)
        assert model_nbytes(fmt, weights, ["w_fc1", "w_fc2"]) == expected


def test_model_nbytes_prunes_conv_kernels_as_matrices():
    weights = small_model(0.5)
    kernel = weights["w_conv1"]
    assert as_matrix("w_conv1", kernel).shape == (25, 32)
    everything = list(weights)
    assert (model_nbytes(FORMATS["dense-float32"], weights, everything)
            == model_nbytes(FORMATS["dense-float32"], weights, []))


def test_size_table_matches_model_nbytes_and_bound():
    weights = small_model(0.9)
    pruned = ["w_fc1", "w_fc2"]
    table = size_table(weights, pruned, ["bitmask", "bitmask+shuffle+zstd", "paper-tf1"])
    assert set(table) == {"formats", "entropy_bound"}
    for name, row in table["formats"].items():
        assert set(row) == {"pruned_bytes", "model_bytes"}
        assert row["model_bytes"] == model_nbytes(FORMATS[name], weights, pruned)
        assert row["pruned_bytes"] == model_nbytes(FORMATS[name], {v: weights[v] for v in pruned}, pruned)
    bound = sum(entropy_bound_bytes(weights[v].size, int(np.count_nonzero(weights[v]))) for v in pruned)
    rest = 4 * sum(w.size for name, w in weights.items() if name not in pruned)
    assert table["entropy_bound"] == {"pruned_bytes": bound, "model_bytes": bound + rest}
    assert table["formats"]["bitmask"]["pruned_bytes"] >= bound  # raw float32 values: the bound is a floor


def test_size_table_rejects_unknown_names():
    with pytest.raises(UsageError, match="formats"):
        size_table(small_model(0.5), ["w_fc1"], ["lzma"])
    with pytest.raises(UsageError, match="w_fc9"):
        size_table(small_model(0.5), ["w_fc9"])


def test_the_ci_profile_measures_a_smaller_table_records_it_and_keys_its_models_by_it():
    """quick's size table drops the block, gap and float16 variants but keeps every raw layout, both codecs
    and the smallest lossless format; the run says which formats it measured, and its models are cached
    apart from a full table's (their measurements differ)."""
    from types import SimpleNamespace

    from prunebench.build.builder import ModelBuilder, PhaseClock
    from prunebench.build.cache import ModelCache
    from prunebench.prune.formats.registry import CI_SIZE_TABLE_FORMATS, LAYOUTS
    from prunebench.results.spec import Settings
    from prunebench.suite.config import SuiteConfig
    from prunebench.suite.options import SUITE_OPTIONS

    assert set(CI_SIZE_TABLE_FORMATS) < set(SIZE_TABLE_FORMATS)
    assert {layout.name for layout in LAYOUTS} <= set(CI_SIZE_TABLE_FORMATS)
    assert {"dense-float32+gzip", "bitmask+zstd", "bitmask+gzip", "bitmask+shuffle+zstd"} <= set(CI_SIZE_TABLE_FORMATS)

    def config(profile):
        defaults = {option.dest: option.default for option in SUITE_OPTIONS}
        return SuiteConfig.from_options(lambda dest: {**defaults, "profile": profile}[dest], lambda: ("tf-dense",))

    quick, paper = config("quick"), config("paper")
    assert quick.formats == CI_SIZE_TABLE_FORMATS and quick.profile_record()["formats"] == list(CI_SIZE_TABLE_FORMATS)
    assert paper.formats == SIZE_TABLE_FORMATS and "formats" not in paper.profile_record()

    data = SimpleNamespace(checksum="c", test_images=np.zeros((4, 28, 28), np.uint8), test_labels=np.zeros(4))
    settings = Settings(max_steps=10, batch_size=32, retrain_steps=2, seed=0, variables=("w_fc1", "w_fc2"))

    def key(formats):
        builder = ModelBuilder(data, settings, ModelCache(Path("unused")), PhaseClock(), 4, formats=formats)
        return builder._baseline_fields(0)

    assert "formats" not in key(SIZE_TABLE_FORMATS)  # the default table's keys are what they were
    assert key(CI_SIZE_TABLE_FORMATS)["formats"] == list(CI_SIZE_TABLE_FORMATS)


def test_the_size_gate_needs_the_format_its_level_was_measured_in():
    """A run whose table lacks the shuffled bitmask measures a larger "best" format: not the size gate's level."""
    from prunebench.suite.config import SuiteConfig
    from prunebench.suite.options import SUITE_OPTIONS
    from prunebench.verdicts.goals import GOALS

    defaults = {option.dest: option.default for option in SUITE_OPTIONS}
    quick = SuiteConfig.from_options(defaults.get, lambda: ("tf-dense",)).profile_record()
    needs = next(goal for goal in GOALS if goal.id == "size-90").gate.needs
    assert needs.missing(quick) == [] and needs.missing({**quick, "formats": None}) == []  # quick's and the default
    assert needs.missing({**quick, "formats": ["bitmask", "bitmask+zstd"]}) == [
        "format bitmask+shuffle+zstd not measured"]


def test_structured_formats_pay_for_structure_not_elements():
    """bitmask-1x4 spends one bit per 1x4 block and dense-trimmed one per row and column, so each stores the
    pruning it follows smaller than bitmask does, and each round-trips whatever the structure."""
    from prunebench.prune.methods import nested_masks
    from prunebench.prune.methods.blocks import block_ranking

    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((64, 32)).astype(np.float32)
    blocked = np.where(nested_masks({"k": kernel}, ("k",), 0.75, block_ranking("1x4"))["k"],
                       kernel, 0).astype(np.float32)
    header = FORMATS["bitmask-1x4"].nbytes(np.zeros((0, 0), np.float32))
    assert FORMATS["bitmask-1x4"].nbytes(blocked) == header + 64 * 32 // 4 // 8 + 4 * np.count_nonzero(blocked)
    assert FORMATS["bitmask-1x4"].nbytes(blocked) < FORMATS["bitmask"].nbytes(blocked)
    narrow = kernel.copy()
    narrow[:, 8:] = 0  # 24 of 32 output columns (neurons) removed
    header = FORMATS["dense-trimmed"].nbytes(np.zeros((0, 0), np.float32))
    assert FORMATS["dense-trimmed"].nbytes(narrow) == header + 64 // 8 + 32 // 8 + 4 * 64 * 8
    assert FORMATS["dense-trimmed"].nbytes(narrow) < FORMATS["bitmask"].nbytes(narrow)
    for name, matrix in (("bitmask-1x4", blocked), ("dense-trimmed", narrow), ("bitmask-1x4", kernel[:7])):
        np.testing.assert_array_equal(FORMATS[name].decode(FORMATS[name].encode(matrix)), matrix)


@pytest.mark.parametrize("name", ["bitmask-1x4", "dense-trimmed"])
def test_structured_format_with_a_count_that_disagrees_is_a_data_error(name):
    blob = bytearray(FORMATS[name].encode(SAMPLE))
    count_at = len(b"PBW1") + 1 + len(name) + 1 + 4 + 4  # the header's uint64 count of stored values
    blob[count_at:count_at + 8] = (3).to_bytes(8, "little")
    with pytest.raises(DataError, match=r"^[^\n]+$"):
        FORMATS[name].decode(bytes(blob))
