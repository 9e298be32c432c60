"""Beyond the paper: the storage formats' own promise, and the gates of the project's goals
(prunebench/verdicts/goals.py), checked on this run's results (these run last, beside the claims).

An unmet goal is no test here: it is in report.md's goals table with its gap. A met goal's gate is asserted
wherever this run measures its quantity under the conditions its level was measured under; a gate that does not
apply to this run's profile, ratios or methods has no test item (one skip says why when none applies).
"""

from __future__ import annotations

import pytest

from prunebench.results.readers import smallest_lossless
from prunebench.verdicts.goals import GOALS


def pytest_generate_tests(metafunc):
    if "gated_goal" not in metafunc.fixturenames:
        return
    from bench.session import suite_config
    from prunebench.model.engines import ENGINES

    suite = suite_config(metafunc.config)
    profile = suite.profile_record()
    every_engine = set(suite.fc1_engines) == set(ENGINES)  # time levels are the best of every engine's
    gated = [goal for goal in GOALS if goal.gate is not None and not goal.gate_missing(profile)
             and (every_engine or not goal.gate.every_engine)]
    if not gated:  # one skip saying why, not pytest's "empty parameter set"
        from bench.params import skipped_params

        reasons = dict.fromkeys(reason for goal in GOALS if goal.gate is not None
                                for reason in goal.gate_missing(profile))
        metafunc.parametrize("gated_goal", skipped_params(1, "no goal's gate applies to this run: "
                                                          + ("; ".join(reasons) or "this run times not every engine")))
        return
    metafunc.parametrize("gated_goal", gated, ids=[goal.id for goal in gated])


@pytest.mark.claims
def test_best_lossless_format_beats_the_entropy_bound_and_dense(all_models):
    pruned = [m.record for m in all_models if m.spec.ratio > 0]
    for record in pruned:
        pruned_bytes, name = smallest_lossless(record["formats"], "pruned_bytes")
        bound = record["entropy_bound"]["pruned_bytes"]
        assert pruned_bytes <= bound, f"ratio {record['ratio']}: best {name} {pruned_bytes} B > bound {bound} B"
        model_bytes, name = smallest_lossless(record["formats"])
        dense = record["formats"]["dense-float32"]["model_bytes"]
        assert model_bytes < dense, f"ratio {record['ratio']}: best {name} {model_bytes} B >= dense {dense} B"


@pytest.mark.claims
def test_goal_gate(gated_goal, run_results):
    """A met goal does not fall below its gate (its measured level less the stated margin for noise)."""
    measurement = gated_goal.judge(run_results)
    if measurement is None:  # only when benchmarks were disabled, deselected or split across xdist workers
        pytest.skip(f"{gated_goal.id}: no {gated_goal.where} in this run's results (benchmarks disabled, "
                    "deselected or run under xdist)")
    check = gated_goal.check_gate(measurement)
    assert check.passed, check.text
