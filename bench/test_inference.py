"""Prediction time of the dense and the sparse network: every model of the sweep, per engine, device and
batch size, timed round-robin so that the time verdicts compare ratios measured side by side."""

from __future__ import annotations

import functools

import pytest

from bench.timing import (
    NETWORK_BUDGET_S,
    NETWORK_ROUNDS,
    batch_inputs,
    skip_unavailable,
    time_interleaved,
    timing_entry,
)
from prunebench.keys import TimingKey
from prunebench.suite import DEVICES


@pytest.mark.benchmark
@pytest.mark.parametrize("device", DEVICES)
def test_network(benchmark, all_models, network_engine, device, network_batch, builder, suite, session_state):
    """The whole network; sparse engines hold the pruned variables sparse (at ratio 0 too: the dense
    kernels stored sparse, the paper's sparse network applied to the unpruned model). Each pruned model's
    reference is the baseline of its seed on the same engine."""
    from prunebench.model.engines import ENGINES

    engine = ENGINES[network_engine]
    skip_unavailable(engine, network_engine, device)
    pruned = suite.settings.variables if engine.sparse else ()
    inputs = batch_inputs(builder.images, network_batch)
    calls = {model.spec: functools.partial(engine.network(model.weights, pruned, device), inputs)
             for model in all_models}
    baselines = {spec.seed: spec for spec in calls if spec.ratio == 0}
    pairs = [(baselines[spec.seed], spec) for spec in calls if spec.ratio > 0 and spec.seed in baselines]
    extra_info = {"engine": network_engine, "device": device, "batch_size": len(inputs), "scope": "network",
                  "sparse": engine.sparse}
    samples = time_interleaved(benchmark, calls, pairs, NETWORK_ROUNDS[suite.profile][network_batch], suite.time_margin,
                               extra_info, NETWORK_BUDGET_S[suite.profile])
    if samples is None:
        return
    key = str(TimingKey(network_engine, device, "network", network_batch))
    for spec, values in samples.items():
        session_state.timings.setdefault(spec, {})[key] = timing_entry(values)
    medians = {spec.id: entry["median_s"] for spec, entry in
               ((spec, session_state.timings[spec][key]) for spec in samples)}
    benchmark.extra_info["median_s_by_model"] = medians
