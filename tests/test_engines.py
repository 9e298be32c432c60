"""Every available engine computes what tf-dense computes, and says clearly when it cannot run."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from prunebench.errors import DataError, UsageError
from prunebench.model.engines import ENGINES, tflite_model_bytes
from prunebench.model.engines.bandwidth import fc1_bytes_read, measure_read_bandwidth
from prunebench.model.engines.spec import WEIGHT_SHAPES
from prunebench.prune.methods import nested_masks
from prunebench.prune.methods.blocks import BLOCK_SHAPES, block_ranking
from prunebench.prune.methods.structured import shrink

SPARSITIES = (0.0, 0.5, 0.9, 0.99)
BATCHES = (1, 7, 32)
TOLERANCE = 1e-4  # float32 sums of 3136 terms in a different order differ by ~1e-6 here
REFERENCE = ENGINES["tf-dense"]


def random_weights(sparsity: float, seed: int = 0) -> dict[str, np.ndarray]:
    """He-scaled random weights of the real shapes; the fc kernels' smallest |w| set to zero."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in WEIGHT_SHAPES.items():
        scale = np.sqrt(2.0 / np.prod(shape[:-1])) if len(shape) > 1 else 0.1
        weights[name] = (rng.standard_normal(shape) * scale).astype(np.float32)
    for name in ("w_fc1", "w_fc2"):
        kernel = weights[name]
        kernel[np.abs(kernel) < np.quantile(np.abs(kernel), sparsity)] = 0.0
    return weights


def images(batch: int) -> np.ndarray:
    return np.random.default_rng(batch).random((batch, 28, 28, 1), dtype=np.float32)


def features(batch: int) -> np.ndarray:
    return np.random.default_rng(batch).random((batch, 3136), dtype=np.float32)


def available(name: str) -> None:
    reason = ENGINES[name].unavailable_reason("cpu")
    if reason is not None:
        pytest.skip(f"{name}: {reason}")


def assert_same_predictions(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == np.float32 and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE)
    assert (actual.argmax(axis=1) == expected.argmax(axis=1)).all()


@pytest.fixture(scope="module", params=SPARSITIES, ids=lambda s: f"sparsity={s}")
def weights(request) -> dict[str, np.ndarray]:
    return random_weights(request.param)


@pytest.mark.parametrize("name", [name for name in ENGINES if name != "tf-dense"])
def test_network_matches_tf_dense(name, weights):
    available(name)
    network, reference = ENGINES[name].network(weights, ["w_fc1", "w_fc2"]), REFERENCE.network(weights, [])
    for batch in BATCHES:
        assert_same_predictions(network(images(batch)), reference(images(batch)))


@pytest.mark.parametrize("name", [name for name in ENGINES if name != "tf-dense"])
def test_fc1_matches_tf_dense(name, weights):
    available(name)
    fc1 = ENGINES[name].fc1(weights["w_fc1"], weights["b_fc1"])
    reference = REFERENCE.fc1(weights["w_fc1"], weights["b_fc1"])
    for batch in BATCHES:
        assert_same_predictions(fc1(features(batch)), reference(features(batch)))


@pytest.mark.parametrize("name", list(ENGINES))
def test_a_neuron_pruned_network_runs_narrower_with_the_same_predictions(name):
    """Structured pruning's stored model: 90% of the fc1 neurons removed, a 3136 x 103 layer, on every
    engine; its logits equal tf-dense's on the full-width network with those neurons zeroed."""
    available(name)
    weights = random_weights(0.0)
    masks = nested_masks(weights, ("w_fc1", "w_fc2"), 0.9, "neuron")
    masked = {key: np.where(masks[key], w, np.float32(0)) if key in masks else w for key, w in weights.items()}
    narrow = shrink(masked)
    assert narrow["w_fc1"].shape == (3136, 1024 - 922) and narrow["w_fc2"].shape == (1024 - 922, 10)
    expected = REFERENCE.network(masked, [])(images(7))
    assert_same_predictions(ENGINES[name].network(narrow, ["w_fc1", "w_fc2"])(images(7)), expected)
    fc1 = ENGINES[name].fc1(narrow["w_fc1"], narrow["b_fc1"])(features(7))
    assert fc1.shape == (7, 102)
    np.testing.assert_allclose(fc1,
                               REFERENCE.fc1(masked["w_fc1"], masked["b_fc1"])(features(7))[:, masks["w_fc2"][:, 0]],
                               rtol=0, atol=TOLERANCE)


def block_pruned(sparsity: float, shape: str = "4x4") -> dict[str, np.ndarray]:
    """Random weights with the fc kernels block-pruned as the ``blocks-*`` methods prune them."""
    weights = random_weights(0.0)
    masks = nested_masks(weights, ("w_fc1", "w_fc2"), sparsity, block_ranking(shape))
    return {key: np.where(masks[key], w, np.float32(0)) if key in masks else w for key, w in weights.items()}


@pytest.mark.parametrize("name", [name for name in ENGINES if name != "tf-dense"])
def test_a_block_pruned_network_gives_the_same_predictions(name):
    available(name)
    weights = block_pruned(0.9)
    assert_same_predictions(ENGINES[name].network(weights, ["w_fc1", "w_fc2"])(images(7)),
                            REFERENCE.network(weights, [])(images(7)))
    fc1 = ENGINES[name].fc1(weights["w_fc1"], weights["b_fc1"])
    for batch in BATCHES:
        assert_same_predictions(fc1(features(batch)),
                                REFERENCE.fc1(weights["w_fc1"], weights["b_fc1"])(features(batch)))


@pytest.mark.parametrize("shape", list(BLOCK_SHAPES))
def test_block_pruned_kernels_are_read_without_their_zeros(shape):
    """LiteRT keeps a 1x4-block-sparse kernel encoded at 90% (unstructured ones it densifies there), and block
    CSR stores exactly the nonzero blocks: 18 bytes per four nonzeros."""
    kernel = block_pruned(0.9, shape)["w_fc1"]
    activations = 4 * (1024 + 3136 + 1024)
    nonzero = np.count_nonzero(kernel)
    assert 4 * nonzero < fc1_bytes_read("tflite-sparse", kernel, 1) - activations < kernel.size
    assert fc1_bytes_read("numba-bcsr", kernel, 1) - activations == 18 * nonzero // 4 + 4 * 1025


def test_tf_dense_fc1_is_relu_of_affine():
    weights = random_weights(0.9)
    x = features(7)
    expected = np.maximum(x.astype(np.float64) @ weights["w_fc1"] + weights["b_fc1"], 0)
    np.testing.assert_allclose(REFERENCE.fc1(weights["w_fc1"], weights["b_fc1"])(x), expected, atol=TOLERANCE)


@pytest.mark.parametrize("name", [name for name in ENGINES if ENGINES[name].sparse])
def test_sparse_engines_may_be_given_pruned_conv_kernels(name):
    available(name)
    weights = random_weights(0.9)
    network = ENGINES[name].network(weights, ["w_conv1", "w_conv2", "w_fc1", "w_fc2"])
    assert_same_predictions(network(images(7)), REFERENCE.network(weights, [])(images(7)))


@pytest.mark.parametrize("device", ["cpu", "gpu"])
@pytest.mark.parametrize("name", list(ENGINES))
def test_reason_is_none_or_a_line_and_building_unavailable_raises_it(name, device):
    engine = ENGINES[name]
    reason = engine.unavailable_reason(device)
    if reason is None:
        return
    assert isinstance(reason, str) and reason.strip() and "\n" not in reason
    with pytest.raises(UsageError, match=re.escape(reason)):  # the reason is text, not a pattern
        engine.fc1(*(random_weights(0.0)[key] for key in ("w_fc1", "b_fc1")), device=device)


# The Python modules each engine needs on the CPU: installed means it must run, not be skipped.
CPU_PACKAGES = {
    "tf-dense": ("tensorflow",),
    "tf-sparse": ("tensorflow",),
    "tflite-dense": ("tensorflow",),
    "tflite-sparse": ("tensorflow",),
    "scipy-csr": ("scipy",),
    "mkl-csr": ("sparse_dot_mkl",),
    "numba-csr": ("numba",),
    "numba-bcsr": ("numba",),
}


def test_every_engine_is_listed_with_its_packages():
    assert set(CPU_PACKAGES) == set(ENGINES)


@pytest.mark.parametrize("name", list(ENGINES))
def test_an_engine_whose_packages_are_installed_runs_on_cpu(name):
    """A fresh ``pip install -e '.[cpu]'`` must give working engines: an installed package that cannot load
    (e.g. MKL's runtime not found) fails here instead of silently skipping that engine's tests."""
    missing = [module for module in CPU_PACKAGES.get(name, ()) if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"{name}: {', '.join(missing)} not installed")
    assert ENGINES[name].unavailable_reason("cpu") is None


def test_tf_engines_report_missing_gpu():
    import tensorflow as tf

    expected = None if tf.config.list_physical_devices("GPU") else "TensorFlow sees no GPU"
    assert ENGINES["tf-dense"].unavailable_reason("gpu") == expected
    assert ENGINES["tf-sparse"].unavailable_reason("gpu") == expected


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["tf-dense", "tf-sparse"])
def test_gpu_network_matches_cpu(name):
    reason = ENGINES[name].unavailable_reason("gpu")
    if reason is not None:
        pytest.skip(reason)
    weights = random_weights(0.9)
    gpu = ENGINES[name].network(weights, ["w_fc1", "w_fc2"], device="gpu")
    assert_same_predictions(gpu(images(32)), REFERENCE.network(weights, [])(images(32)))


def test_sparsity_aware_tflite_file_is_smaller_at_90_percent():
    weights = random_weights(0.9)
    dense, sparse = (len(tflite_model_bytes(weights, ["w_fc1", "w_fc2"], sparse=flag)) for flag in (False, True))
    assert dense > 4 * weights["w_fc1"].size  # holds the dense fc1 kernel
    assert sparse < dense / 2


@pytest.mark.parametrize(
    "change, error, words",
    [
        (lambda w: w.pop("b_fc2"), DataError, "b_fc2"),
        (lambda w: w.update(w_fc1=np.zeros((10, 10), np.float32)), DataError, "w_fc1 has shape"),
        (lambda w: w.update(w_fc2=np.full((1024, 10), np.nan, np.float32)), DataError, "NaN"),
        (lambda w: w.update(b_fc1=np.zeros(1024, np.int32)), DataError, "dtype"),
        # a narrower fc1 must be narrower throughout
        (lambda w: w.update(w_fc1=np.zeros((3136, 100), np.float32)), DataError,
         r"b_fc1 has shape \(1024,\), expected \(100,\)"),
    ],
    ids=["missing", "shape", "nan", "dtype", "narrow-mismatch"],
)
@pytest.mark.parametrize("name", ["tf-sparse", "scipy-csr"])
def test_bad_weights_raise_one_line_data_error(name, change, error, words):
    weights = random_weights(0.0)
    change(weights)
    with pytest.raises(error, match=words):
        ENGINES[name].network(weights)


@pytest.mark.parametrize("pruned", [["b_fc1"], ["w_fc3"], "w_fc1"])
def test_bad_pruned_names_raise_usage_error(pruned):
    with pytest.raises(UsageError, match="pruned"):
        ENGINES["tf-sparse"].network(random_weights(0.0), pruned)


def test_unknown_device_raises_usage_error():
    with pytest.raises(UsageError, match="device: 'tpu'"):
        (ENGINES["scipy-csr"].unavailable_reason("tpu")
         or ENGINES["scipy-csr"].network(random_weights(0.0), device="tpu"))


def test_fc1_bytes_read_by_hand():
    kernel = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 0], [3, 0, 4]], np.float32)  # 4 inputs, 3 outputs, nnz 4
    activations = 4 * (3 + 2 * (4 + 3))  # bias, then batch 2 of inputs and outputs: 68 bytes
    assert fc1_bytes_read("tf-dense", kernel, 2) == 4 * 12 + activations
    assert fc1_bytes_read("scipy-csr", kernel, 2) == 4 * 4 + 4 * 4 + 4 * (3 + 1) + activations
    assert fc1_bytes_read("tf-sparse", kernel, 2) == 16 * 4 + 4 * 4 + activations
    # 1x4 blocks of the transposed kernel: each output's four inputs are one block, all three hold a nonzero
    assert fc1_bytes_read("numba-bcsr", kernel, 2) == (16 + 2) * 3 + 4 * (3 + 1) + activations


def test_an_fc1_kernel_builds_each_engine_once_for_every_batch_and_counts_bytes_as_fc1_bytes_read(monkeypatch):
    """The FC1 benchmarks share one kernel's built engines and kernel bytes between batch sizes
    (bench/fc1_kernel.py): a LiteRT engine converts the layer when built."""
    from bench.fc1_kernel import Fc1Kernel

    weights = random_weights(0.99)
    fc1 = Fc1Kernel(weights["w_fc1"], weights["b_fc1"])
    built = []
    build = ENGINES["tflite-sparse"].fc1
    monkeypatch.setattr(ENGINES["tflite-sparse"], "fc1", lambda *args: built.append(args) or build(*args))
    layer = fc1.call("tflite-sparse", "cpu")
    assert fc1.call("tflite-sparse", "cpu") is layer and len(built) == 1
    inputs = np.random.default_rng(0).random((32, 3136), dtype=np.float32)
    np.testing.assert_allclose(layer(inputs[:1]), build(weights["w_fc1"], weights["b_fc1"])(inputs[:1]), rtol=1e-6)
    for engine in ("tf-dense", "scipy-csr", "numba-bcsr", "tflite-sparse"):
        for batch in (1, 32):
            assert fc1.bytes_read(engine, batch) == fc1_bytes_read(engine, weights["w_fc1"], batch), (engine, batch)


@pytest.mark.parametrize("sparsity, densified", [(0.9, True), (0.99, False)])
def test_tflite_sparse_reads_dense_kernel_unless_converter_keeps_sparse_encoding(sparsity, densified):
    kernel = random_weights(sparsity)["w_fc1"]
    weight_bytes = fc1_bytes_read("tflite-sparse", kernel, 1) - 4 * (1024 + 3136 + 1024)
    if densified:
        assert weight_bytes == 4 * kernel.size
    else:
        assert 4 * np.count_nonzero(kernel) < weight_bytes < kernel.size


@pytest.mark.parametrize("args, words", [(("no-such", np.zeros((2, 2)), 1), "engine"),
                                         (("tf-dense", np.zeros(4), 1), "w_fc1"),
                                         (("tf-dense", np.zeros((2, 2)), 0), "batch")])
def test_fc1_bytes_read_rejects_bad_input(args, words):
    with pytest.raises(UsageError, match=words):
        fc1_bytes_read(*args)


def test_read_bandwidth_is_plausible():
    bandwidth = measure_read_bandwidth(repeats=3)
    assert 1e8 < bandwidth < 1e12  # between 0.1 GB/s and 1 TB/s: any machine this runs on


@pytest.mark.parametrize("name, package", [("mkl-csr", "sparse-dot-mkl"), ("numba-csr", "numba"),
                                                    ("numba-bcsr", "numba")])
def test_missing_optional_package_is_a_reason_not_an_error(monkeypatch, name, package):
    monkeypatch.setattr(importlib.util, "find_spec", lambda module, *args: None)
    assert ENGINES[name].unavailable_reason("cpu") == f"package {package} not installed"


def test_results_without_engine_records_read_the_registrys_facts():
    """Older results did not record their engines' facts; readers take them from a fixed table that must
    say what this registry says of the same engines."""
    from prunebench.results.readers import EARLIER_ENGINES

    for name, facts in EARLIER_ENGINES.items():
        assert {"sparse": ENGINES[name].sparse, "work": ENGINES[name].work} == facts, name
