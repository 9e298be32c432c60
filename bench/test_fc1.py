"""FC1 alone (3136x1024, 96% of the parameters): where does each sparse engine overtake the dense ones?

The kernel is the seed-0 baseline's w_fc1 pruned by magnitude at each ratio (no retraining: a layer's
speed depends on its sparsity and shape, not on the values), fed with the baseline's real FC1 inputs.
Beside each time goes the memory-bandwidth lower bound: bytes the format must read / measured bandwidth.
The same layer is also timed with whole neurons removed (structured, on the dense engines) and pruned in
1x4 blocks (on the sparse engines): what structure buys where unstructured sparsity does not.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from bench.fc1_kernel import Fc1Kernel, per_ratio
from bench.outputs import FC1_REFERENCE, check_outputs, fc1_reference
from bench.timing import time_call
from prunebench.prune.masks import apply_mask, magnitude_mask
from prunebench.results.keys import TimingKey
from prunebench.results.spec import ModelSpec


@pytest.fixture(scope="session")
def fc1_inputs(builder):
    """The baseline's activations entering FC1 (flattened conv features) for the evaluation images."""
    import keras

    from prunebench.model.cnn import build_cnn
    from prunebench.model.keras_model import set_weights

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


@pytest.fixture(scope="session")
def fc1_kernels(builder):
    """The baseline's w_fc1 pruned by magnitude at a ratio, and b_fc1."""
    weights = builder.get(ModelSpec(0.0, 0)).weights
    return per_ratio(lambda ratio: (apply_mask(weights["w_fc1"], magnitude_mask(weights["w_fc1"], ratio)),
                                     weights["b_fc1"]))


def _time_fc1(benchmark, scope: str, entries: dict, engine_name: str, device: str, batch, ratio: float,
              fc1: Fc1Kernel, fc1_inputs: np.ndarray, read_bandwidth: float, suite, reference_outputs) -> None:
    """Time one engine's FC1 on ``fc1``'s kernel and check its outputs; its timing and bytes read go into
    ``entries[ratio]``."""
    inputs = fc1_inputs[:batch]
    bytes_read = fc1.bytes_read(engine_name, len(inputs))
    extra_info = {"ratio": ratio, "engine": engine_name, "device": device, "batch_size": len(inputs),
                  "scope": scope, "nonzero": int(np.count_nonzero(fc1.kernel)), "bytes_read": bytes_read,
                  "bandwidth_bytes_per_s": read_bandwidth, "bandwidth_bound_s": bytes_read / read_bandwidth}
    check = _fc1_check(reference_outputs, scope, ratio, fc1.kernel, fc1.bias, inputs, engine_name, device, batch)
    timing = time_call(benchmark, fc1.call(engine_name, device), inputs, batch, suite.profile, extra_info, check)
    if timing is not None:
        entry = entries.setdefault(ratio, {"nonzero": extra_info["nonzero"], "timings": {}, "fc1_bytes": {}})
        key = str(TimingKey(engine_name, device, scope, batch))
        entry["timings"][key] = timing
        entry["fc1_bytes"][key] = bytes_read


def _fc1_check(reference_outputs, scope: str, ratio: float, kernel: np.ndarray, bias: np.ndarray, inputs: np.ndarray,
               engine_name: str, device: str, batch):
    """The check of one engine's FC1 outputs on ``inputs``; the reference is computed now (before timing)."""
    expected = reference_outputs.get((scope, ratio, batch), functools.partial(fc1_reference, kernel, bias, inputs))
    subject = f"{engine_name} on {device}, {scope} at ratio {ratio:g}, batch={batch}"
    return functools.partial(check_outputs, expected=expected, subject=subject, reference=FC1_REFERENCE)


@pytest.mark.benchmark
def test_fc1(benchmark, fc1_ratio, fc1_kernels, fc1_engine, device, batch, fc1_inputs, read_bandwidth, session_state,
             suite, reference_outputs):
    _time_fc1(benchmark, "fc1", session_state.fc1, fc1_engine, device, batch, fc1_ratio, fc1_kernels(fc1_ratio),
              fc1_inputs, read_bandwidth, suite, reference_outputs)


@pytest.fixture(scope="session")
def fc1_neuron_kernels(builder):
    """Structured: the baseline's FC1 without its ``ratio`` share of neurons (smallest incoming L2 norm),
    stored as the narrower dense layer it is."""
    from prunebench.prune.methods.structured import neuron_keep

    weights = builder.get(ModelSpec(0.0, 0)).weights

    def narrower(ratio):
        kept = neuron_keep(weights["w_fc1"], ratio)
        return np.ascontiguousarray(weights["w_fc1"][:, kept]), np.ascontiguousarray(weights["b_fc1"][kept])

    return per_ratio(narrower)


@pytest.mark.benchmark
def test_fc1_neurons(benchmark, fc1_ratio, fc1_neuron_kernels, fc1_dense_engine, device, batch, fc1_inputs,
                     session_state, suite, reference_outputs):
    """FC1 with whole neurons removed, on the dense engines (the layer is dense, only narrower)."""
    fc1 = fc1_neuron_kernels(fc1_ratio)
    inputs = fc1_inputs[:batch]
    extra_info = {"ratio": fc1_ratio, "engine": fc1_dense_engine, "device": device, "batch_size": len(inputs),
                  "scope": "fc1-neurons", "units": int(fc1.kernel.shape[1])}
    check = _fc1_check(reference_outputs, "fc1-neurons", fc1_ratio, fc1.kernel, fc1.bias, inputs, fc1_dense_engine,
                       device, batch)
    timing = time_call(benchmark, fc1.call(fc1_dense_engine, device), inputs, batch, suite.profile, extra_info, check)
    if timing is not None:
        entry = session_state.fc1_neurons.setdefault(fc1_ratio, {"units": extra_info["units"], "timings": {}})
        entry["timings"][str(TimingKey(fc1_dense_engine, device, "fc1-neurons", batch))] = timing


@pytest.fixture(scope="session")
def fc1_block_kernels(builder):
    """The baseline's FC1 pruned in 1x4 blocks (one output by four inputs, LiteRT's float block shape) by
    their mean magnitude, as the ``blocks-1x4`` method prunes it."""
    from prunebench.prune.methods import nested_masks
    from prunebench.prune.methods.blocks import block_ranking

    weights = builder.get(ModelSpec(0.0, 0)).weights

    def blocks(ratio):
        keep = nested_masks(weights, ("w_fc1",), ratio, block_ranking("1x4"))["w_fc1"]
        return apply_mask(weights["w_fc1"], keep), weights["b_fc1"]

    return per_ratio(blocks)


@pytest.mark.benchmark
def test_fc1_blocks(benchmark, fc1_block_ratio, fc1_block_kernels, fc1_sparse_engine, device, batch, fc1_inputs,
                    read_bandwidth, session_state, suite, reference_outputs):
    """FC1 pruned in 1x4 blocks, on the sparse engines; the dense engines' time does not depend on the
    values, so test_fc1's dense timings at the same ratio are the reference."""
    _time_fc1(benchmark, "fc1-blocks", session_state.fc1_blocks, fc1_sparse_engine, device, batch, fc1_block_ratio,
              fc1_block_kernels(fc1_block_ratio), fc1_inputs, read_bandwidth, suite, reference_outputs)


def race_params(config) -> list:
    """(race, ratio) of each speedup goal defined on this run (``prunebench.verdicts.goals``) at each FC1 ratio
    it reads, once each though two goals read it; one skipped item saying why where no race can run."""
    from bench.params import benchmarks_off, skipped_params
    from bench.session import suite_config
    from prunebench.model.engines import ENGINES
    from prunebench.suite.config import SCOPE_RATIOS
    from prunebench.verdicts.goals import GOALS, Fc1Race

    if off := benchmarks_off(config):
        return skipped_params(1, f"no race: {off}")
    suite = suite_config(config)
    profile = suite.profile_record()
    kinds = {ENGINES[name].sparse for name in suite.fc1_engines}
    races, reasons = {}, {f"its batches are {list(suite.batches)}": None,
                          f"its FC1 engines are {', '.join(suite.fc1_engines)}": None}
    for goal in GOALS:
        race = goal.measure
        if isinstance(race, Fc1Race) and race.batch in suite.batches and {race.subject_sparse, False} <= kinds:
            missing = goal.needs.missing(profile)
            reasons.update(dict.fromkeys(missing))
            for ratio in [] if missing else race.ratios(SCOPE_RATIOS[race.scope]):
                races.setdefault((race.scope, race.batch, ratio), race)
    if not races:
        return skipped_params(1, "no speedup goal can be raced in this run: " + "; ".join(reasons))
    return [pytest.param((race, ratio), id=f"{scope}-ratio={ratio:g}-batch={batch}")
            for (scope, batch, ratio), race in races.items()]


def pytest_generate_tests(metafunc):
    if "fc1_race" in metafunc.fixturenames:
        metafunc.parametrize("fc1_race", race_params(metafunc.config))


@pytest.mark.benchmark
def test_fc1_race(benchmark, fc1_race, fc1_kernels, fc1_block_kernels, fc1_neuron_kernels, fc1_inputs,
                  session_state, suite, reference_outputs):
    """A speedup goal's two engines, the fastest of each kind in the FC1 items above, timed side by side: each
    round times both warm (in a shuffled order), and the goal reads the median of the per-round ratios. Two
    medians timed minutes apart read two states of the machine (docs/fc1-races-2026-12-03)."""
    from bench.timing import RACE_BUDGET_S, time_race
    from prunebench.suite.finish import fc1_sections, registry_engine_facts
    from prunebench.suite.rounds import paired_speedup
    from prunebench.verdicts.goals import DEVICE

    race, ratio = fc1_race
    picked = race.pick({**fc1_sections(session_state), "engines": registry_engine_facts()}, ratio)
    if picked is None:
        pytest.fail(f"{race.scope} at ratio {ratio:g}, batch={race.batch}: this session timed no engine of one "
                    "side at this ratio (the race is between the fastest FC1 items of each kind: run them too)",
                    pytrace=False)
    (subject, _), (reference, _) = picked
    kernels = {"fc1": fc1_kernels, "fc1-blocks": fc1_block_kernels, "fc1-neurons": fc1_neuron_kernels}
    sides = {"subject": (subject, race.scope, ratio, kernels[race.scope](ratio)),
             "reference": (reference, "fc1", race.reference_ratio(ratio), fc1_kernels(race.reference_ratio(ratio)))}
    inputs = fc1_inputs[:race.batch]
    calls, checks = {}, {}
    for side, (engine, scope, side_ratio, fc1) in sides.items():
        calls[side] = functools.partial(fc1.call(engine, DEVICE), inputs)
        checks[side] = _fc1_check(reference_outputs, scope, side_ratio, fc1.kernel, fc1.bias, inputs, engine, DEVICE,
                                  race.batch)
    extra_info = {"engine": f"{subject} vs {reference}", "race": race.scope, "ratio": ratio, "device": DEVICE,
                  "batch_size": len(inputs), "subject": subject, "reference": reference}
    samples = time_race(benchmark, calls, RACE_BUDGET_S[suite.profile], extra_info,
                        lambda side, output: checks[side](output))
    if samples is None:  # benchmarks off: the outputs were checked, nothing was timed
        return
    speedup, low, high = paired_speedup(samples["subject"], samples["reference"])
    benchmark.extra_info["speedup"] = speedup
    session_state.fc1_races[race.scope, race.batch, ratio] = {
        "scope": race.scope, "batch": race.batch, "ratio": ratio, "device": DEVICE, "subject": subject,
        "reference": reference, "reference_ratio": race.reference_ratio(ratio), "rounds": len(samples["subject"]),
        "subject_median_s": float(np.median(samples["subject"])),
        "reference_median_s": float(np.median(samples["reference"])),
        "speedup": speedup, "speedup_quartiles": [low, high]}
