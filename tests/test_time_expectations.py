"""Claim (c)'s expectation derived from the engine registry (prunebench.verdicts.expected): it holds on any
machine class, follows the engine's work, and can fail."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from factories import fabricate_results

from prunebench.model.constants import WORK_CONVERTER, WORK_DENSE, WORK_NONZEROS
from prunebench.results import paths
from prunebench.verdicts.claims import load_expectations
from prunebench.verdicts.expected import kernel_macs, predicted_work_ratio, work_expectation
from prunebench.verdicts.judging import claim_outcome, evaluate_claims

RENAMED = "Intel Xeon Platinum 8375C"
PAPER_SPARSE = ("tf-dense", "tf-sparse")


def _with_batch_1(results: dict, engines=PAPER_SPARSE, device: str = "cpu") -> dict:
    """The fabricated results with each engine also timed at batch 1 (and on ``device``): the batch-32 rounds."""
    results = copy.deepcopy(results)
    for model in results["models"]:
        for engine in engines:
            rounds = model["timings"][f"{engine}/cpu/network/batch=32"]
            for batch in (1, 32):
                model["timings"][f"{engine}/{device}/network/batch={batch}"] = copy.deepcopy(rounds)
    return results


def _time_claims(results: dict, expectations: dict | None = None) -> dict:
    expectations = load_expectations(paths.expectations_file("quick")) if expectations is None else expectations
    return {(claim["range"], claim["subject"], claim["method"]): claim
            for claim in evaluate_claims(results, expectations) if claim["id"] == "c"}


def test_kernel_macs_follow_the_weight_shapes():
    from prunebench.model.constants import weight_shapes

    macs = kernel_macs(weight_shapes())
    assert macs == {"w_conv1": 28 * 28 * 5 * 5 * 1 * 32, "w_conv2": 14 * 14 * 5 * 5 * 32 * 64,
                    "w_fc1": 3136 * 1024, "w_fc2": 1024 * 10}
    assert predicted_work_ratio(0.9, ("w_fc1", "w_fc2"), weight_shapes()) == pytest.approx(0.791, abs=1e-3)
    assert predicted_work_ratio(0.3, ("w_fc1", "w_fc2"), weight_shapes()) == pytest.approx(0.930, abs=1e-3)
    # conv kernels run dense on every nonzeros engine, so pruning them changes no predicted work
    assert predicted_work_ratio(0.9, ("w_conv2",), weight_shapes()) == 1.0


@pytest.mark.parametrize("cpu", ["AMD EPYC 7B13", RENAMED])
def test_time_claims_stay_gated_on_any_machine_class(cpu):
    results = _with_batch_1(fabricate_results())
    results["machine"]["cpu"] = cpu
    claims = _time_claims(results)
    for batch in (1, 32):
        dense = claims[("paper", f"time:tf-dense/cpu/network/batch={batch}", "oneshot")]
        sparse = claims[("paper", f"time:tf-sparse/cpu/network/batch={batch}", "oneshot")]
        assert dense["machine_class"] == f"{cpu} / no GPU"
        assert dense["gated"] and dense["expected"] == "supported" and claim_outcome(dense) == "passed"
        assert sparse["gated"] and sparse["expected"] == "refuted" and claim_outcome(sparse) == "passed"
        assert "predicted work 0.791x" in sparse["reason"]


def test_a_dense_engine_slower_when_pruned_fails_its_gate():
    """The gate can fail: tf-dense whose pruned models at 90% take 1.5x the unpruned model's time."""
    results = _with_batch_1(fabricate_results())
    results["machine"]["cpu"] = RENAMED
    for model in results["models"]:
        if model["ratio"] == 0.9:
            for key, timing in model["timings"].items():
                if key.startswith("tf-dense/"):
                    timing["samples_s"] = [1.5 * value for value in timing["samples_s"]]
                    timing["median_s"] = float(np.median(timing["samples_s"]))
    for batch in (1, 32):
        claim = _time_claims(results)[("paper", f"time:tf-dense/cpu/network/batch={batch}", "oneshot")]
        assert claim["gated"] and claim["expected"] == "supported"
        assert claim["verdict"] == "refuted" != claim["expected"] and claim_outcome(claim) == "failed"


def test_gpu_subjects_follow_the_same_rule():
    claims = _time_claims(_with_batch_1(fabricate_results(), device="gpu"))
    assert claims[("paper", "time:tf-dense/gpu/network/batch=1", "oneshot")]["expected"] == "supported"
    assert claims[("paper", "time:tf-sparse/gpu/network/batch=32", "oneshot")]["expected"] == "refuted"


def test_a_range_whose_predicted_work_stays_inside_the_margin_has_no_expectation():
    claims = _time_claims(fabricate_results(ratios=(0.0, 0.1, 0.3)))
    sparse = claims[("paper", "time:tf-sparse/cpu/network/batch=32", "oneshot")]
    assert not sparse["gated"] and sparse["expected"] is None
    assert "predicted work 0.930x" in sparse["not_gated_because"] and "inside" in sparse["not_gated_because"]
    assert claims[("paper", "time:tf-dense/cpu/network/batch=32", "oneshot")]["expected"] == "supported"


def test_converter_and_unregistered_engines_are_not_gated_saying_why():
    results = _with_batch_1(fabricate_results(), engines=("tf-dense",))
    for model in results["models"]:
        model["timings"]["tflite-sparse/cpu/network/batch=32"] = model["timings"]["tf-dense/cpu/network/batch=32"]
    claims = _time_claims(results)
    converter = claims[("paper", "time:tflite-sparse/cpu/network/batch=32", "oneshot")]
    assert not converter["gated"] and "converter decides per kernel" in converter["not_gated_because"]
    unknown = claims[("paper", "time:numpy-csr/cpu/network/batch=32", "oneshot")]
    assert not unknown["gated"] and "the results do not record its work" in unknown["not_gated_because"]


def test_removing_whole_neurons_makes_every_engine_faster():
    """A structured model runs as a narrower dense network on every engine, tf-dense included."""
    results = fabricate_results()
    for model in results["models"]:
        if model["ratio"] > 0:
            model["method"] = "structured"
    dense = _time_claims(results)[("paper", "time:tf-dense/cpu/network/batch=32", "structured")]
    assert dense["expected"] == "refuted" and "removes whole fc1 neurons" in dense["reason"]


def test_a_machine_pattern_overrides_the_derived_expectation():
    override = {"verdict": "inconclusive", "reason": "measured on this machine"}
    expectations = {"machines": {"Intel Xeon* / no GPU": {"c:time:tf-sparse/cpu/network/batch=32": override}}}
    results = fabricate_results()
    results["machine"]["cpu"] = RENAMED
    assert _time_claims(results, expectations)[("paper", "time:tf-sparse/cpu/network/batch=32", "oneshot")][
        "expected"] == "inconclusive"
    results["machine"]["cpu"] = "AMD EPYC 7B13"
    assert _time_claims(results, expectations)[("paper", "time:tf-sparse/cpu/network/batch=32", "oneshot")][
        "expected"] == "refuted"


def test_work_expectation_covers_every_kind_of_work():
    assert work_expectation(WORK_DENSE, False, 0.9, 0.79, 0.1, "e")[0]["verdict"] == "supported"
    assert work_expectation(WORK_NONZEROS, False, 0.9, 0.79, 0.1, "e")[0]["verdict"] == "refuted"
    assert work_expectation(WORK_NONZEROS, False, 0.3, 0.93, 0.1, "e")[0] == {}
    assert work_expectation(WORK_CONVERTER, False, 0.9, 0.79, 0.1, "e")[0] == {}
    assert work_expectation(WORK_CONVERTER, True, 0.9, 0.79, 0.1, "e")[0]["verdict"] == "refuted"


def test_registry_engines_all_have_a_rule():
    from prunebench.model.constants import WORKS
    from prunebench.model.engines import ENGINES

    assert {engine.work for engine in ENGINES.values()} <= set(WORKS)


def test_retiming_grants_each_undecided_key_its_budget_within_the_runs():
    from bench.retiming import RETIME_BUDGET_S, RETIME_TOTAL_S, retime

    granted = []
    retimers = {key: granted.append for key in ("a", "b", "c", "d")}
    assert retime(["a", "x", "b", "c", "d"], retimers)
    assert granted == [RETIME_BUDGET_S] * 3 and sum(granted) == RETIME_TOTAL_S  # "x" has no retimer; "d" no time left
    assert not retime(["x"], retimers)


def test_time_claims_are_items_only_where_the_engine_runs(monkeypatch):
    from types import SimpleNamespace

    from bench.params import benchmarks_off
    from bench.test_claims import engine_devices

    engine = SimpleNamespace(devices=("cpu", "gpu"),
                             unavailable_reason=lambda d: "TensorFlow sees no GPU" if d == "gpu" else None)
    assert engine_devices("tf-dense", engine) == (["cpu"], "tf-dense on gpu: TensorFlow sees no GPU")
    assert (engine_devices("scipy-csr", SimpleNamespace(devices=("cpu",), unavailable_reason=lambda d: None))
            == (["cpu"], None))
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    options = {"benchmark_disable": True, "benchmark_enable": False, "benchmark_skip": False, "dist": "no"}
    config = SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    assert "--benchmark-disable" in benchmarks_off(config)
    options["benchmark_disable"] = False
    assert benchmarks_off(config) is None


def test_results_that_record_each_engines_work_are_judged_without_tensorflow():
    """A run records its engines' work (suite.finish.registry_engine_facts), so compare, merge and report judge its
    time claims from the JSON alone; only results of an older suite ask the registry, which loads TensorFlow."""
    import subprocess
    import sys

    script = """
import json, sys
from pathlib import Path
from prunebench.results import paths
from prunebench.verdicts.claims import load_expectations
from prunebench.verdicts.judging import evaluate_claims
results = json.loads(Path(sys.argv[1]).read_text())
for name, record in results["engines"].items():
    record["work"] = "dense" if name.endswith("dense") else "converter" if name == "tflite-sparse" else "nonzeros"
claims = evaluate_claims(results, load_expectations(paths.expectations_file("paper")))
print(sum(claim["gated"] for claim in claims if claim["id"] == "c"), "tensorflow" in sys.modules)
"""
    run = Path(__file__).resolve().parents[1] / "docs" / "paper-run-2026-11-28" / "results.json"
    out = subprocess.run([sys.executable, "-c", script, str(run)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    gated, tensorflow = out.stdout.split()
    assert int(gated) > 0 and tensorflow == "False"
