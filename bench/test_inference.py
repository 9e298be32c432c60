"""Prediction time of the dense and the sparse network: every model of the sweep, per engine, device and
batch size, timed round-robin so that the time verdicts compare ratios measured side by side."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from bench.outputs import NETWORK_REFERENCE, check_outputs, network_reference
from bench.timing import (
    NETWORK_BUDGET_S,
    NETWORK_ROUNDS,
    time_interleaved,
    time_more_rounds,
    timing_entry,
)
from prunebench.results.keys import TimingKey
from prunebench.suite.benchmark_records import SWEEP_GROUP

# Separately built instances of each unpruned model timed as its reference: one built first, the others
# after every pruned model. Instances of one model differ by a few percent (memory placement); a single
# reference instance 10% slower than the rest once refuted (c) for tflite-dense at batch 1, when the
# pruned models of that run agreed within 2%.
REFERENCE_INSTANCES = 3


@pytest.mark.benchmark
def test_network(benchmark, all_models, network_engine, device, network_batch, builder, suite, session_state,
                 reference_outputs):
    """The whole network; sparse engines hold the pruned variables sparse (at ratio 0 too: the dense
    kernels stored sparse, the paper's sparse network applied to the unpruned model). Neuron-pruned
    models run without their removed neurons, on every engine. The unpruned models' rounds are the
    geometric mean over their instances (``REFERENCE_INSTANCES``). Every instance's warm-up logits must be
    tf-dense's on the CPU; afterwards ``session_state.retimers`` can add rounds to this key.

    pytest-benchmark's record of this item (``SWEEP_GROUP``) times one round of all models; the JSON also gets
    one record per model, of its own rounds (``session_state.network_sweeps``)."""
    from prunebench.model.engines import ENGINES
    from prunebench.prune.methods import inference_weights

    engine = ENGINES[network_engine]
    pruned = suite.settings.variables if engine.sparse else ()
    inputs = builder.images[:network_batch]
    weights = {model.spec: inference_weights(model.spec.method, model.weights) for model in all_models}

    def build(spec):
        return functools.partial(engine.network(weights[spec], pruned, device, builder.layers), inputs)

    calls = {(model.spec, 0): build(model.spec) for model in all_models}
    baselines = [model for model in all_models if model.spec.ratio == 0]
    calls.update({(model.spec, instance): build(model.spec) for instance in range(1, REFERENCE_INSTANCES)
                  for model in baselines})
    reference = {model.spec.seed: model.spec for model in baselines}
    pairs = [((reference[spec.seed], instance), (spec, 0)) for spec, _ in calls
             if spec.ratio > 0 and spec.seed in reference for instance in range(REFERENCE_INSTANCES)]
    check = _logits_check(reference_outputs, weights, inputs, network_engine, device, network_batch, builder.layers)
    extra_info = {"engine": network_engine, "device": device, "batch_size": len(inputs), "scope": "network",
                  "sparse": engine.sparse, "reference_instances": REFERENCE_INSTANCES}
    benchmark.group = SWEEP_GROUP  # before timing: pytest-benchmark copies it into the record then
    samples = time_interleaved(benchmark, calls, pairs, NETWORK_ROUNDS[suite.profile][network_batch], suite.time_margin,
                               extra_info, NETWORK_BUDGET_S[suite.profile], check)
    if samples is None:
        return
    key = str(TimingKey(network_engine, device, "network", network_batch))
    _record_network_timings(session_state, all_models, key, samples)
    session_state.network_sweeps[benchmark.fullname] = key
    session_state.retimers[key] = functools.partial(_retime, calls, samples, network_engine, benchmark,
                                                    session_state, all_models, key)


def _logits_check(reference_outputs, weights: dict, inputs, engine_name: str, device: str, batch, layers):
    """``check(call key, logits)`` of one engine against tf-dense on the CPU; the references (per model and
    batch) are computed now, before anything is timed."""
    expected = {spec: reference_outputs.get(("network", spec, batch),
                                            functools.partial(network_reference, weights[spec], inputs, layers))
                for spec in weights}

    def check(key, logits) -> None:
        spec, _ = key
        check_outputs(logits, expected[spec], f"{engine_name} on {device}, model {spec.id}, batch={batch}",
                      NETWORK_REFERENCE)

    return check


def _retime(calls: dict, samples: dict, engine_name: str, benchmark, session_state, all_models, key: str,
            budget_s: float) -> None:
    """A retimer (``SessionState.retimers``): more interleaved rounds of a network benchmark's calls within
    ``budget_s`` seconds, for a claim its rounds left undecided, then its timings again."""
    time_more_rounds(calls, samples, budget_s, engine_name)
    benchmark.extra_info["rounds"] = min(len(values) for values in samples.values())
    _record_network_timings(session_state, all_models, key, samples)


def _record_network_timings(session_state, all_models, key: str, samples: dict) -> None:
    """Each model's timing entry under ``key`` from the interleaved rounds so far: an unpruned model's rounds
    are the geometric mean over its instances, round by round."""
    for model in all_models:
        instances = [np.asarray(samples[(model.spec, i)])
                     for i in range(REFERENCE_INSTANCES if model.spec.ratio == 0 else 1)]
        rounds = np.exp(np.mean(np.log(instances), axis=0))  # per round, over the instances
        session_state.timings.setdefault(model.spec, {})[key] = {**timing_entry(list(rounds)),
                                                                  "instances": len(instances)}
