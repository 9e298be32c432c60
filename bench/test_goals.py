"""Beyond the paper: the targets this project sets for storage formats and sparse engines, checked on
this run's own measurements (these run last, beside the claims)."""

from __future__ import annotations

import pytest

from prunebench.keys import FC1_SECTIONS
from prunebench.paper import MIB

MAX_MODEL_MIB_AT_90 = 1.45  # bitmask + zstd-19 reached ~1.42 MiB when the target was set
DENSE_PARITY_FROM = 0.9  # FC1 at batch 1: best sparse engine at least as fast as the best dense one
SPEEDUP_AT_99_BATCH_1 = 5.0
SPEEDUP_FROM_90_BATCH_32 = 1.5
STRUCTURED_RATIO = 0.9  # FC1 with 90% of its neurons removed ...
STRUCTURED_SPEEDUP_BATCH_1 = 5.0  # ... at least this much faster than the unpruned best dense FC1


def _lossless(formats: dict) -> dict:
    from prunebench.prune.formats import FORMATS

    return {name: sizes for name, sizes in formats.items() if FORMATS[name].lossless}


def _best(formats: dict, field: str) -> tuple[str, int]:
    name = min(formats, key=lambda n: formats[n][field])
    return name, formats[name][field]


@pytest.mark.claims
def test_best_lossless_format_beats_the_entropy_bound_and_dense(all_models):
    pruned = [m.record for m in all_models if m.spec.ratio > 0]
    for record in pruned:
        lossless = _lossless(record["formats"])
        name, pruned_bytes = _best(lossless, "pruned_bytes")
        bound = record["entropy_bound"]["pruned_bytes"]
        assert pruned_bytes <= bound, f"ratio {record['ratio']}: best {name} {pruned_bytes} B > bound {bound} B"
        name, model_bytes = _best(lossless, "model_bytes")
        dense = record["formats"]["dense-float32"]["model_bytes"]
        assert model_bytes < dense, f"ratio {record['ratio']}: best {name} {model_bytes} B >= dense {dense} B"


@pytest.mark.claims
def test_whole_model_at_90_percent_fits_the_target(all_models):
    at_90 = [m.record for m in all_models if m.spec.ratio == 0.9]
    if not at_90:
        pytest.skip("ratio 0.9 is not in this run")
    for record in at_90:
        name, model_bytes = _best(_lossless(record["formats"]), "model_bytes")
        assert model_bytes / MIB <= MAX_MODEL_MIB_AT_90, f"seed {record['seed']}: {name} {model_bytes / MIB:.3f} MiB"


def _engine_medians(entry: dict | None, key_end: str) -> dict[str, float]:
    """Median seconds per engine of the FC1 timings in ``entry`` whose key ends with ``key_end``."""
    return {key.split("/")[0]: t["median_s"] for key, t in ((entry or {}).get("timings") or {}).items()
            if key.endswith(key_end)}


def _fc1_medians(session_state, suite, batch, scope: str = "fc1") -> dict[float, tuple[float, str, float, str]]:
    """Per FC1 ratio: (best dense median, engine, best sparse median, engine) at ``batch`` on the CPU, the
    sparse engines on the layer pruned weight by weight (scope ``fc1``) or in 1x4 blocks (``fc1-blocks``);
    the dense engines' time does not depend on the values, so theirs comes from ``fc1`` at the same ratio."""
    from prunebench.model.engines import ENGINES

    if suite.profile != "paper":
        # The engine goals are set on the paper profile (30 rounds a batch-32 timing). The quick profile's
        # 10 rounds on a shared CI machine move a ~0.6 ms median by +-40% (0.57 vs 0.84 ms seen here).
        pytest.skip("engine speed goals are judged on the paper profile's timings (--profile paper)")

    section = {kind: name for name, kind in FC1_SECTIONS.items()}[scope]  # its session-state field
    sparse_entries = getattr(session_state, section)
    best = {}
    for ratio, entry in session_state.fc1.items():
        dense = {e: t for e, t in _engine_medians(entry, f"/cpu/fc1/batch={batch}").items() if not ENGINES[e].sparse}
        sparse = {e: t for e, t in _engine_medians(sparse_entries.get(ratio), f"/cpu/{scope}/batch={batch}").items()
                  if ENGINES[e].sparse}
        if dense and sparse:
            d, s = min(dense, key=dense.get), min(sparse, key=sparse.get)
            best[ratio] = (dense[d], d, sparse[s], s)
    if not best:
        pytest.skip(f"no FC1 timings at batch {batch} in this run (benchmarks disabled or deselected)")
    return best


def _describe(best: dict) -> str:
    return "; ".join(f"{ratio:g}: dense {d} {dt * 1e3:.3f} ms vs sparse {s} {st * 1e3:.3f} ms (x{dt / st:.2f})"
                     for ratio, (dt, d, st, s) in sorted(best.items()))


@pytest.mark.claims
@pytest.mark.parametrize("scope", ["fc1", "fc1-blocks"])
def test_fc1_batch_1_sparse_matches_dense_from_90_and_wins_5x_at_99(session_state, suite, scope):
    """A goal this project set, not one every CPU can meet: where the 12.8 MB dense kernel sits in the last
    level cache, XNNPACK's dense FC1 is hard to beat at batch 1. Judged on this run's timings for the layer
    pruned weight by weight (``fc1``) and in 1x4 blocks (``fc1-blocks``); when unmet, the test is an xfail
    that names the CPU and the measured gap (it passes wherever the goal is met)."""
    from prunebench.suite import cpu_model

    best = _fc1_medians(session_state, suite, 1, scope)
    misses = [f"{ratio:g}: sparse {sparse / dense:.2f}x the dense time" for ratio, (dense, _, sparse, _) in
              sorted(best.items()) if ratio >= DENSE_PARITY_FROM and sparse > dense]
    if 0.99 in best and best[0.99][0] / best[0.99][2] < SPEEDUP_AT_99_BATCH_1:
        misses.append(f"0.99: speedup {best[0.99][0] / best[0.99][2]:.2f}x < {SPEEDUP_AT_99_BATCH_1}x")
    if misses:
        pytest.xfail(f"goal not met on {cpu_model()}: " + "; ".join(misses) + f" ({_describe(best)})")


@pytest.mark.claims
def test_fc1_batch_32_sparse_wins_1_5x_from_90(session_state, suite):
    """Like the batch-1 goal, machine-dependent: judged on this run's timings, an xfail naming the CPU and
    the measured gap where unmet (seen here: 1.5x met on one AMD EPYC run, 1.2x on another)."""
    from prunebench.suite import cpu_model

    best = _fc1_medians(session_state, suite, 32)
    misses = [f"{ratio:g}: speedup {dense / sparse:.2f}x < {SPEEDUP_FROM_90_BATCH_32}x"
              for ratio, (dense, _, sparse, _) in sorted(best.items())
              if ratio >= DENSE_PARITY_FROM and dense / sparse < SPEEDUP_FROM_90_BATCH_32]
    if misses:
        pytest.xfail(f"goal not met on {cpu_model()}: " + "; ".join(misses) + f" ({_describe(best)})")


@pytest.mark.claims
def test_fc1_without_90_percent_of_its_neurons_is_5x_faster_at_batch_1(session_state, suite):
    """Structured pruning's goal: FC1 with 90% of its neurons removed, as the narrower dense layer it is,
    at least 5x faster at batch 1 than the best dense engine on the unpruned layer, both timed in this run.
    A tenth of the work bounds the speedup near 10x; call overhead and the shared input eat into it. Judged
    on the paper's FC1 rounds (the paper and methods profiles); an xfail naming the CPU and the gap where
    unmet."""
    from prunebench.model.engines import ENGINES
    from prunebench.suite import cpu_model

    if suite.profile == "quick":
        pytest.skip("engine speed goals are judged on the paper's FC1 rounds (--profile paper or methods)")
    unpruned = {engine: median for engine, median in _engine_medians(session_state.fc1.get(0.0), "/cpu/fc1/batch=1").items()
                if not ENGINES[engine].sparse}
    narrow = _engine_medians(session_state.fc1_neurons.get(STRUCTURED_RATIO), "/cpu/fc1-neurons/batch=1")
    if not unpruned or not narrow:
        pytest.skip("no FC1 timings at batch 1 for the unpruned and the 90%-neuron-pruned layer in this run")
    dense, structured = min(unpruned, key=unpruned.get), min(narrow, key=narrow.get)
    speedup = unpruned[dense] / narrow[structured]
    if speedup < STRUCTURED_SPEEDUP_BATCH_1:
        pytest.xfail(f"goal not met on {cpu_model()}: {speedup:.2f}x < {STRUCTURED_SPEEDUP_BATCH_1}x (unpruned "
                     f"{dense} {unpruned[dense] * 1e3:.3f} ms, 90% of neurons removed {structured} "
                     f"{narrow[structured] * 1e3:.3f} ms)")


ACCURACY_GOALS = {0.95: 0.990, 0.99: 0.985}  # issue 11: the best method's dense accuracy, whole test set
WHOLE_TEST_SET = 10_000


@pytest.mark.claims
def test_best_method_reaches_the_accuracy_goals(all_models, suite):
    """Issue 11's accuracy goals for the best pruning method of this run, judged on the whole test set (the
    methods and paper profiles); an xfail naming each gap where unmet. Median over seeds per method: with
    one seed, the test set's own sampling error is about 0.1 point at 99%."""
    import statistics

    if suite.eval_images < WHOLE_TEST_SET:
        pytest.skip(f"accuracy goals are judged on the whole test set ({suite.eval_images} images evaluated)")
    measured = {ratio: goal for ratio, goal in ACCURACY_GOALS.items() if ratio in suite.ratios}
    if not measured:
        pytest.skip(f"none of the goal ratios {sorted(ACCURACY_GOALS)} is in this run")
    found, misses = [], []
    for ratio, goal in sorted(measured.items()):
        by_method: dict[str, list[float]] = {}
        for model in all_models:
            if model.spec.ratio == ratio:
                by_method.setdefault(model.spec.method, []).append(model.record["accuracy"]["dense"])
        method, accuracy = max(((m, statistics.median(a)) for m, a in by_method.items()), key=lambda item: item[1])
        found.append(f"{ratio:.0%}: {method} {accuracy:.2%}")
        if accuracy < goal:
            misses.append(f"{ratio:.0%}: best {method} {accuracy:.2%} < {goal:.1%} (gap {(goal - accuracy) * 100:.2f} pt)")
    if misses:
        pytest.xfail(f"accuracy goal not met with {suite.settings.retrain_steps} training steps after the baseline: "
                     + "; ".join(misses) + f" (best per ratio: {'; '.join(found)})")
