"""Goals (prunebench/verdicts/goals.py): each measure gives the committed runs' noted values, and every gate
can fail."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from prunebench.report.goals_table import goals_table
from prunebench.results.contract import load_results
from prunebench.verdicts.goals import GOALS
from prunebench.verdicts.paper import MIB

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAPER = "paper-run-2026-11-28"
METHODS_10K = "methods-10k-run-2026-11-29"
STRUCTURED = "structured-run-2026-11-28"
RACES = "fc1-races-2026-12-03"  # three sessions of FC1 alone, the speedup goals raced (session-N.json)
RACE_SESSIONS = [f"{RACES}/session-{number}" for number in (1, 2, 3)]
BY_ID = {goal.id: goal for goal in GOALS}


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    found = {name: load_results(DOCS / name / "results.json") for name in (PAPER, METHODS_10K, STRUCTURED)}
    return found | {name: load_results(DOCS / f"{name}.json") for name in RACE_SESSIONS}


# (run, goal, value its measure gives, or None where the run holds no such data), as the runs' notes say
NOTED = [
    (PAPER, "size-90", 1.280),  # bitmask+shuffle+zstd
    (PAPER, "fc1-batch-1-parity-from-90", 0.990),  # tflite-sparse 1.01x tflite-dense's time at 90%
    (PAPER, "fc1-batch-1-5x-at-99", 3.43),
    (PAPER, "fc1-batch-32-1.5x-from-90", 1.02),
    (PAPER, "fc1-blocks-batch-1-5x-at-99", None),  # FC1 in blocks was timed from the methods runs on
    (PAPER, "structured-fc1-90-batch-1-5x", None),
    (PAPER, "accuracy-95", 0.9815),
    (PAPER, "accuracy-99", 0.9518),
    (METHODS_10K, "size-90", 1.293),
    (METHODS_10K, "fc1-batch-1-parity-from-90", 0.994),  # README: no faster than dense at 90%
    (METHODS_10K, "fc1-batch-1-5x-at-99", 3.69),
    (METHODS_10K, "fc1-blocks-batch-1-parity-from-90", 1.14),
    (METHODS_10K, "fc1-blocks-batch-1-5x-at-99", 10.9),
    (METHODS_10K, "structured-fc1-90-batch-1-5x", 5.79),
    (METHODS_10K, "accuracy-95", 0.9921),  # gradual-global; gradual's 99.11% is the README's example
    (METHODS_10K, "accuracy-99", 0.9895),  # gradual-global
    (STRUCTURED, "structured-fc1-90-batch-1-5x", 5.07),
    (RACE_SESSIONS[0], "fc1-blocks-batch-1-5x-at-99", 9.95),  # paired: the median per-round ratio of a race
    (RACE_SESSIONS[1], "fc1-blocks-batch-1-parity-from-90", 1.33),
    (RACE_SESSIONS[2], "fc1-blocks-batch-1-parity-from-90", 1.16),
    (RACE_SESSIONS[2], "structured-fc1-90-batch-1-5x", 4.21),
    (RACE_SESSIONS[0], "size-90", None),  # FC1 alone: no pruned model
]


@pytest.mark.parametrize("run, goal_id, noted", NOTED, ids=[f"{run[:12]}-{goal}" for run, goal, _ in NOTED])
def test_measure_gives_the_committed_runs_noted_value(runs, run, goal_id, noted):
    measurement = BY_ID[goal_id].measure(runs[run])
    if noted is None:
        assert measurement is None
    else:
        assert measurement.value == pytest.approx(noted, rel=0.005), measurement.detail


def test_the_best_method_names_itself_and_the_others():
    results = load_results(DOCS / METHODS_10K / "results.json")
    detail = BY_ID["accuracy-95"].measure(results).detail
    assert detail.startswith("gradual-global, of ") and "gradual 99.11%" in detail


def test_met_and_unmet_goals_of_the_committed_runs(runs):
    def met(run: str) -> set[str]:
        return {goal.id for goal in GOALS if (m := goal.judge(runs[run])) is not None and goal.met(m)}

    assert met(PAPER) == {"size-90"}
    assert met(METHODS_10K) == {"size-90", "fc1-blocks-batch-1-parity-from-90", "fc1-blocks-batch-1-5x-at-99",
                                "structured-fc1-90-batch-1-5x", "accuracy-95", "accuracy-99"}
    assert met(STRUCTURED) == {"size-90", "structured-fc1-90-batch-1-5x"}
    for session in RACE_SESSIONS:  # weight-by-weight parity at batch 1 comes and goes (0.98x-1.01x): not asserted
        assert {"fc1-blocks-batch-1-parity-from-90", "fc1-blocks-batch-1-5x-at-99"} <= met(session)
        assert not met(session) & {"fc1-batch-1-5x-at-99", "fc1-batch-32-1.5x-from-90", "structured-fc1-90-batch-1-5x"}


def _cited_runs(runs: dict[str, dict], goal) -> list[dict]:
    """The runs a gate's source names: a run's folder, or a folder of sessions (its lowest reading is the level)."""
    folder = goal.gate.source.split()[0].removeprefix("docs/")
    return [run for name, run in runs.items() if name.split("/")[0] == folder]


def test_every_gate_sits_at_the_lowest_level_its_cited_runs_measured(runs):
    """A gate's level is the lowest reading (to its 3 digits) of the runs it cites, each of which meets the goal."""
    for goal in (goal for goal in GOALS if goal.gate is not None):
        measurements = [goal.measure(run) for run in _cited_runs(runs, goal)]
        assert measurements and all(goal.met(m) for m in measurements), goal.id
        assert min(m.value for m in measurements) == pytest.approx(goal.gate.level, rel=0.005), goal.id


def test_a_goal_without_a_gate_is_unmet_where_last_measured(runs):
    """An ungated goal is unmet in the latest committed runs that measure it (the races measure every speedup)."""
    latest = [PAPER, METHODS_10K, *RACE_SESSIONS]
    for goal in (goal for goal in GOALS if goal.gate is None):
        measured = [m for run in latest if (m := goal.judge(runs[run])) is not None]
        assert measured and not goal.met(measured[-1]), goal.id


def test_the_gates_hold_on_the_runs_they_apply_to(runs):
    for run in runs.values():
        for goal in GOALS:
            measurement = goal.judge(run)
            if goal.gate is not None and measurement is not None and not goal.gate_missing(run["profile"]):
                assert goal.check_gate(measurement).passed, goal.check_gate(measurement).text


def _at(results: dict, section: str, ratio: float) -> dict:
    return next(entry for entry in results[section] if entry["ratio"] == ratio)


def _slower_race(results: dict, scope: str, ratio: float, factor: float) -> dict:
    """The results with the race of ``scope`` at ``ratio`` run with its subject ``factor`` times slower."""
    doctored = copy.deepcopy(results)
    race = next(row for row in doctored["fc1_races"] if (row["scope"], row["ratio"]) == (scope, ratio))
    race["subject_median_s"] *= factor
    race["speedup"] /= factor
    race["speedup_quartiles"] = [value / factor for value in race["speedup_quartiles"]]
    return doctored


def _grow_models(results: dict, ratio: float, model_bytes: int) -> dict:
    doctored = copy.deepcopy(results)
    for model in doctored["models"]:
        if model["ratio"] == ratio:
            for row in model["formats"].values():
                row["model_bytes"] = max(row["model_bytes"], model_bytes)
    return doctored


def _lower_accuracy(results: dict, ratio: float, accuracy: float) -> dict:
    doctored = copy.deepcopy(results)
    for model in doctored["models"]:
        if model["ratio"] == ratio:
            model["accuracy"]["dense"] = accuracy
    return doctored


# (goal, run, doctoring that pushes the measurement past the gate)
PUSHED = [
    ("size-90", PAPER, lambda r: _grow_models(r, 0.9, int(1.46 * MIB))),
    ("fc1-blocks-batch-1-parity-from-90", RACE_SESSIONS[2], lambda r: _slower_race(r, "fc1-blocks", 0.9, 2.1)),
    # LiteRT's block kernel lost: the sparse call runs about as fast as the dense one
    ("fc1-blocks-batch-1-5x-at-99", RACE_SESSIONS[0], lambda r: _slower_race(r, "fc1-blocks", 0.99, 9.0)),
    ("accuracy-95", METHODS_10K, lambda r: _lower_accuracy(r, 0.95, 0.9890)),
    ("accuracy-99", METHODS_10K, lambda r: _lower_accuracy(r, 0.99, 0.9860)),
]


@pytest.mark.parametrize("goal_id, run, push", PUSHED, ids=[goal for goal, _, _ in PUSHED])
def test_a_gate_fails_below_its_level(runs, goal_id, run, push):
    goal = BY_ID[goal_id]
    assert goal.check_gate(goal.measure(runs[run])).passed
    check = goal.check_gate(goal.measure(push(runs[run])))
    assert not check.passed
    assert goal_id in check.text and goal.gate.source in check.text


def test_every_gate_is_proved_able_to_fail():
    assert {goal for goal, _, _ in PUSHED} == {goal.id for goal in GOALS if goal.gate is not None}


def test_a_size_past_the_goal_is_unmet_with_its_gap(runs):
    goal = BY_ID["size-90"]
    measurement = goal.judge(_grow_models(runs[PAPER], 0.9, int(1.5 * MIB)))
    assert not goal.met(measurement)
    assert goal.unit.gap(measurement.value, goal.target) == "0.050 MiB too large"


def test_gates_apply_only_to_the_protocol_their_level_was_measured_under(runs):
    paper = runs[PAPER]
    accuracy = BY_ID["accuracy-99"].gate_missing(paper["profile"])
    assert accuracy == ["retrain_steps is 2000, needs 10000", "method gradual-global not in the run"]
    quick = {**paper["profile"], "name": "quick", "ratios": [0.1, 0.3, 0.5, 0.7, 0.8, 0.9], "eval_images": 2000}
    assert BY_ID["size-90"].gate_missing(quick) == []
    assert BY_ID["fc1-blocks-batch-1-5x-at-99"].gate_missing(quick) == []
    assert BY_ID["accuracy-95"].gate_missing(quick)[:2] == [
        "ratio 95% not in the run", "eval_images is 2000, needs 10000"]
    one_variable = {**quick, "variables": ["w_fc1"]}
    assert BY_ID["size-90"].gate_missing(one_variable) == [
        "variables is ['w_fc1'], needs ['w_fc1', 'w_fc2']"]


def test_an_accuracy_on_part_of_the_test_set_is_not_judged(runs):
    part = {**runs[METHODS_10K], "profile": {**runs[METHODS_10K]["profile"], "eval_images": 2000}}
    assert BY_ID["accuracy-95"].judge(part) is None
    assert BY_ID["accuracy-95"].measure(part) is not None  # the measure is there; the goal is not defined on it


def test_goals_table_lists_every_goal_with_status_and_gate(runs):
    text = goals_table(runs[PAPER])
    assert text.count("\n") == len(GOALS) + 2
    assert ("| `fc1-batch-1-parity-from-90`: FC1 at batch 1, pruned weight by weight: the best sparse engine at "
            "least as fast as the best dense one from 90% | 0.99x (at 90%: tflite-sparse 0.0686 ms vs tflite-dense "
            "0.0679 ms; 90% 0.99x, 95% 1.26x, 99% 3.43x) | **not met**: sparse needs to be 1.01x faster |") in text
    assert "| **met** | ≤ 1.306 MiB: holds |" in text
    assert ("not measured: no FC1 timings without neurons at batch 1 in these results | none (not met in the "
            "current committed runs)") in text
    assert "**not met**: 3.32 pt short | ≥ 98.65%; not applied here: retrain_steps is 2000, needs 10000" in text
