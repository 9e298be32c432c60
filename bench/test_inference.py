"""Prediction time of the dense and the sparse network, per model, engine, device and batch size."""

from __future__ import annotations

import pytest

from bench.timing import batch_inputs, skip_unavailable, time_call, timing_key
from prunebench.suite import DEVICES


@pytest.mark.benchmark
@pytest.mark.parametrize("device", DEVICES)
def test_network(benchmark, suite_model, network_engine, device, batch, builder, suite, session_state):
    """The whole network; sparse engines hold the pruned variables sparse (at ratio 0 too: the dense
    kernels stored sparse, the paper's sparse network applied to the unpruned model)."""
    from prunebench.model.engines import ENGINES

    engine = ENGINES[network_engine]
    skip_unavailable(engine, network_engine, device)
    pruned = suite.settings.variables if engine.sparse else ()
    predict = engine.network(suite_model.weights, pruned, device)
    record = suite_model.record
    extra_info = {
        "ratio": suite_model.spec.ratio, "seed": suite_model.spec.seed, "engine": network_engine,
        "device": device, "batch_size": len(batch_inputs(builder.images, batch)), "scope": "network",
        "nonzero": record["nonzero"], "accuracy_dense": record["accuracy"]["dense"],
        "accuracy_sparse": record["accuracy"]["sparse"],
        **{f"size_{name}": value for name, value in record["sizes"].items()},
    }
    timing = time_call(benchmark, predict, batch_inputs(builder.images, batch), batch, suite.profile,
                       extra_info)
    if timing is not None:
        key = timing_key(network_engine, device, "network", batch)
        session_state.timings.setdefault(suite_model.spec, {})[key] = timing
