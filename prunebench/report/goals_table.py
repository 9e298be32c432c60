"""The project's goals as a markdown table: for the report, and for the session's terminal summary (conftest.py).

The goals are judged in ``prunebench.verdicts.goals``; this writes their judgements, so it holds no rule of its
own: each row is the measurement, met or the gap to the target, the gate and what measures the goal.
"""

from __future__ import annotations

from prunebench.report.markdown import MISSING, table
from prunebench.verdicts.goals import Judgement, judge_goals
from prunebench.verdicts.paper import is_paper_network


def status_text(judgement: Judgement) -> str:
    """Met, or the gap to the target, or why these results do not measure the goal."""
    goal, measurement = judgement.goal, judgement.measurement
    if measurement is None:
        return "not measured: " + ("; ".join(judgement.not_defined) or f"no {goal.where} in these results")
    return "**met**" if judgement.met else f"**not met**: {goal.unit.gap(measurement.value, goal.target)}"


def gate_text(judgement: Judgement) -> str:
    """The gate, and whether it holds on these results or why it does not apply to them."""
    goal = judgement.goal
    if goal.gate is None:
        return "none (not met in the current committed runs)"
    head = f"{'≤' if goal.at_most else '≥'} {goal.unit.text(goal.gate_limit())}"
    if judgement.gate_not_applied:
        return f"{head}; not applied here: {'; '.join(judgement.gate_not_applied)}"
    if judgement.gate is None:
        return f"{head}; not measured here"
    return f"{head}: {'holds' if judgement.gate.passed else '**fails**'}"


def goals_table(results: dict) -> str:
    """Every goal on ``results``: measurement, met or the gap, its gate, and what measures it."""
    rows = []
    for judgement in judge_goals(results):
        goal, measurement = judgement.goal, judgement.measurement
        measured = MISSING if measurement is None else f"{goal.unit.text(measurement.value)} ({measurement.detail})"
        where = "; ".join(filter(None, (goal.where, goal.needs.describe())))
        rows.append([f"`{goal.id}`: {goal.statement}", measured, status_text(judgement), gate_text(judgement), where])
    return table(["goal", "measured", "status", "gate", "measured from"], rows)


def goals_section(results: dict) -> str:
    """The project's own targets beyond the paper, each met or with its gap, measured from these results; one
    line for a run of another network (every goal's level is the paper CNN's)."""
    if not is_paper_network(results):
        return ("## Goals beyond the paper\n\nThe project's goals (prunebench/verdicts/goals.py) are levels measured "
                f"on the paper's CNN; this run is of {results['profile']['workload']}, so none is measured here.\n")
    return ("## Goals beyond the paper\n\nTargets this project set (prunebench/verdicts/goals.py), measured from these "
            "results over every method and seed; FC1 is timed in every profile. A goal the committed runs meet is "
            "gated at its measured level less a margin for noise (bench/test_goals.py), on runs that measure it "
            "under the same conditions.\n\n" + goals_table(results))
