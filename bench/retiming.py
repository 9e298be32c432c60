"""More rounds for undecided gated time subjects, before the claims are judged for the last time.

A gated (c) subject whose interval still straddles the margin gets more interleaved rounds from the session's
retimers (``SessionState.retimers``, registered by ``bench/test_inference.py``): the half-width falls as
1/sqrt(rounds). ``RETIME_BUDGET_S`` each and ``RETIME_TOTAL_S`` in all keep a noisy run from doubling the
claims phase; at the quick profile's few ms a round, 20 s buys hundreds of rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

RETIME_BUDGET_S = 20.0
RETIME_TOTAL_S = 60.0


def retime(keys: Iterable[str], retimers: dict[str, Callable[[float], None]]) -> bool:
    """More interleaved rounds for each timing key that has a retimer, ``RETIME_BUDGET_S`` each while the
    budgets granted stay within ``RETIME_TOTAL_S`` (a retimer keeps to its budget); whether any ran (the
    session's timings then changed)."""
    granted = 0.0
    for key in keys:
        budget = min(RETIME_BUDGET_S, RETIME_TOTAL_S - granted)
        if key in retimers and budget > 0:
            retimers[key](budget)
            granted += budget
    return granted > 0


def final_results(session_state) -> dict:
    """The run's results with its claims judged after the undecided gated time subjects were retimed; the
    retimers are then dropped (they hold every engine built for the network benchmarks)."""
    from prunebench.suite.finish import assemble
    from prunebench.verdicts.judging import undecided_timing_keys

    results = assemble(session_state)
    if retime(undecided_timing_keys(results["claims"]), session_state.retimers):
        results = assemble(session_state)
    session_state.retimers.clear()
    return results
