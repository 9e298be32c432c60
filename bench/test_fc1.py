"""FC1 alone (3136x1024, 96% of the parameters): where does each sparse engine overtake the dense ones?

The kernel is the seed-0 baseline's w_fc1 pruned by magnitude at each ratio (no retraining: a layer's
speed depends on its sparsity and shape, not on the values), fed with the baseline's real FC1 inputs.
Beside each time goes the memory-bandwidth lower bound: bytes the format must read / measured bandwidth.
The same layer is also timed with whole neurons removed (structured, on the dense engines) and pruned in
1x4 blocks (on the sparse engines): what structure buys where unstructured sparsity does not.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.timing import batch_inputs, skip_unavailable, time_call
from prunebench.keys import TimingKey
from prunebench.prune.masks import apply_mask, magnitude_mask
from prunebench.spec import ModelSpec
from prunebench.suite import BLOCK_FC1_RATIOS, DEVICES, FC1_RATIOS


@pytest.fixture(scope="session")
def fc1_inputs(builder):
    """The baseline's activations entering FC1 (flattened conv features) for the evaluation images."""
    import keras

    from prunebench.model.cnn import build_cnn, set_weights

    baseline = builder.get(ModelSpec(0.0, 0))
    model = build_cnn()
    set_weights(model, baseline.weights)
    features = keras.Model(model.inputs, model.get_layer("flatten").output)
    return np.asarray(features.predict(builder.images, batch_size=1000, verbose=0), dtype=np.float32)


@pytest.fixture(scope="session")
def read_bandwidth(session_state):
    from prunebench.model.engines.bandwidth import measure_read_bandwidth

    session_state.bandwidth = measure_read_bandwidth()
    return session_state.bandwidth


@pytest.fixture(scope="session", params=FC1_RATIOS, ids=[f"ratio={r:g}" for r in FC1_RATIOS])
def fc1_kernel(request, builder):
    weights = builder.get(ModelSpec(0.0, 0)).weights
    kernel = apply_mask(weights["w_fc1"], magnitude_mask(weights["w_fc1"], request.param))
    return request.param, kernel, weights["b_fc1"]


def _time_fc1(benchmark, scope: str, entries: dict, engine_name: str, device: str, batch, ratio: float,
              kernel: np.ndarray, bias: np.ndarray, fc1_inputs: np.ndarray, read_bandwidth: float, suite) -> None:
    """Time one engine's FC1 on ``kernel``; its timing and bytes read go into ``entries[ratio]``."""
    from prunebench.model.engines import ENGINES
    from prunebench.model.engines.bandwidth import fc1_bytes_read

    engine = ENGINES[engine_name]
    skip_unavailable(engine, engine_name, device)
    inputs = batch_inputs(fc1_inputs, batch)
    bytes_read = fc1_bytes_read(engine_name, kernel, len(inputs))
    extra_info = {"ratio": ratio, "engine": engine_name, "device": device, "batch_size": len(inputs),
                  "scope": scope, "nonzero": int(np.count_nonzero(kernel)), "bytes_read": bytes_read,
                  "bandwidth_bytes_per_s": read_bandwidth, "bandwidth_bound_s": bytes_read / read_bandwidth}
    timing = time_call(benchmark, engine.fc1(kernel, bias, device), inputs, batch, suite.profile, extra_info)
    if timing is not None:
        entry = entries.setdefault(ratio, {"nonzero": extra_info["nonzero"], "timings": {}, "fc1_bytes": {}})
        key = str(TimingKey(engine_name, device, scope, batch))
        entry["timings"][key] = timing
        entry["fc1_bytes"][key] = bytes_read


@pytest.mark.benchmark
@pytest.mark.parametrize("device", DEVICES)
def test_fc1(benchmark, fc1_kernel, fc1_engine, device, batch, fc1_inputs, read_bandwidth, session_state, suite):
    _time_fc1(benchmark, "fc1", session_state.fc1, fc1_engine, device, batch, *fc1_kernel, fc1_inputs,
              read_bandwidth, suite)


@pytest.fixture(scope="session", params=FC1_RATIOS, ids=[f"ratio={r:g}" for r in FC1_RATIOS])
def fc1_neuron_kernel(request, builder):
    """Structured: the baseline's FC1 without its ``ratio`` share of neurons (smallest incoming L2 norm),
    stored as the narrower dense layer it is."""
    from prunebench.prune.methods.structured import neuron_keep

    weights = builder.get(ModelSpec(0.0, 0)).weights
    kept = neuron_keep(weights["w_fc1"], request.param)
    return request.param, np.ascontiguousarray(weights["w_fc1"][:, kept]), np.ascontiguousarray(weights["b_fc1"][kept])


@pytest.mark.benchmark
@pytest.mark.parametrize("device", DEVICES)
def test_fc1_neurons(benchmark, fc1_neuron_kernel, fc1_dense_engine, device, batch, fc1_inputs, session_state, suite):
    """FC1 with whole neurons removed, on the dense engines (the layer is dense, only narrower)."""
    from prunebench.model.engines import ENGINES

    ratio, kernel, bias = fc1_neuron_kernel
    engine = ENGINES[fc1_dense_engine]
    skip_unavailable(engine, fc1_dense_engine, device)
    inputs = batch_inputs(fc1_inputs, batch)
    extra_info = {"ratio": ratio, "engine": fc1_dense_engine, "device": device, "batch_size": len(inputs),
                  "scope": "fc1-neurons", "units": int(kernel.shape[1])}
    timing = time_call(benchmark, engine.fc1(kernel, bias, device), inputs, batch, suite.profile, extra_info)
    if timing is not None:
        entry = session_state.fc1_neurons.setdefault(ratio, {"units": extra_info["units"], "timings": {}})
        entry["timings"][str(TimingKey(fc1_dense_engine, device, "fc1-neurons", batch))] = timing


@pytest.fixture(scope="session", params=BLOCK_FC1_RATIOS, ids=[f"ratio={r:g}" for r in BLOCK_FC1_RATIOS])
def fc1_block_kernel(request, builder):
    """The baseline's FC1 pruned in 1x4 blocks (one output by four inputs, LiteRT's float block shape) by
    their mean magnitude, as the ``blocks-1x4`` method prunes it."""
    from prunebench.prune.methods import nested_masks
    from prunebench.prune.methods.blocks import block_ranking

    weights = builder.get(ModelSpec(0.0, 0)).weights
    keep = nested_masks(weights, ("w_fc1",), request.param, block_ranking("1x4"))["w_fc1"]
    return request.param, apply_mask(weights["w_fc1"], keep), weights["b_fc1"]


@pytest.mark.benchmark
@pytest.mark.parametrize("device", DEVICES)
def test_fc1_blocks(benchmark, fc1_block_kernel, fc1_sparse_engine, device, batch, fc1_inputs, read_bandwidth,
                    session_state, suite):
    """FC1 pruned in 1x4 blocks, on the sparse engines; the dense engines' time does not depend on the
    values, so test_fc1's dense timings at the same ratio are the reference."""
    _time_fc1(benchmark, "fc1-blocks", session_state.fc1_blocks, fc1_sparse_engine, device, batch,
              *fc1_block_kernel, fc1_inputs, read_bandwidth, suite)
