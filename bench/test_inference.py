"""Prediction time of the dense and the sparse network: every model of the sweep, per engine, device and
batch size, timed round-robin so that the time verdicts compare ratios measured side by side."""

from __future__ import annotations

import functools

import numpy as np
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

# Separately built instances of each unpruned model timed as its reference: one built first, the others
# after every pruned model. Instances of one model differ by a few percent (memory placement); a single
# reference instance 10% slower than the rest once refuted (c) for tflite-dense at batch 1, when the
# pruned models of that run agreed within 2%.
REFERENCE_INSTANCES = 3


@pytest.mark.benchmark
@pytest.mark.parametrize("device", DEVICES)
def test_network(benchmark, all_models, network_engine, device, network_batch, builder, suite, session_state):
    """The whole network; sparse engines hold the pruned variables sparse (at ratio 0 too: the dense
    kernels stored sparse, the paper's sparse network applied to the unpruned model). Neuron-pruned
    models run without their removed neurons, on every engine. The unpruned models' rounds are the
    geometric mean over their instances (``REFERENCE_INSTANCES``)."""
    from prunebench.model.engines import ENGINES
    from prunebench.prune.methods import inference_weights

    engine = ENGINES[network_engine]
    skip_unavailable(engine, network_engine, device)
    pruned = suite.settings.variables if engine.sparse else ()
    inputs = batch_inputs(builder.images, network_batch)

    def build(model):
        return functools.partial(engine.network(inference_weights(model.spec.method, model.weights), pruned, device),
                                 inputs)

    calls = {(model.spec, 0): build(model) for model in all_models}
    baselines = [model for model in all_models if model.spec.ratio == 0]
    calls.update({(model.spec, instance): build(model) for instance in range(1, REFERENCE_INSTANCES)
                  for model in baselines})
    reference = {model.spec.seed: model.spec for model in baselines}
    pairs = [((reference[spec.seed], instance), (spec, 0)) for spec, _ in calls
             if spec.ratio > 0 and spec.seed in reference for instance in range(REFERENCE_INSTANCES)]
    extra_info = {"engine": network_engine, "device": device, "batch_size": len(inputs), "scope": "network",
                  "sparse": engine.sparse, "reference_instances": REFERENCE_INSTANCES}
    samples = time_interleaved(benchmark, calls, pairs, NETWORK_ROUNDS[suite.profile][network_batch], suite.time_margin,
                               extra_info, NETWORK_BUDGET_S[suite.profile])
    if samples is None:
        return
    key = str(TimingKey(network_engine, device, "network", network_batch))
    for model in all_models:
        instances = [np.asarray(samples[(model.spec, i)]) for i in range(REFERENCE_INSTANCES if model.spec.ratio == 0 else 1)]
        rounds = np.exp(np.mean(np.log(instances), axis=0))  # per round, over the instances
        session_state.timings.setdefault(model.spec, {})[key] = {**timing_entry(list(rounds)),
                                                                  "instances": len(instances)}
    benchmark.extra_info["median_s_by_model"] = {spec.id: session_state.timings[spec][key]["median_s"]
                                                 for spec in (model.spec for model in all_models)}
