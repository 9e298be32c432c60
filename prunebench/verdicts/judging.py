"""Judging a run on the paper's claims (``evaluate_claims``), and what the suite makes of each verdict.

Every claim of ``CLAIMS`` is judged on every subject of its kind, over each range separately (the paper's
ratios, and those beyond them), per pruning method: each method's pruned models against the shared
baselines, every record carrying its ``method``. Beside each verdict stand Spearman's rho, its p (Holm-
adjusted over the subjects of one claim and range) and a bootstrap interval of rho: descriptive for the
claims that are not judged by them, since the paper spoke of correlation.

A claim whose rule's need is unmet is ``judged: False`` (verdict inconclusive, ``not_judged_because`` with
the counts); ``narrowed`` when only the run's ratios, narrowed from its profile's, left the need unmet.
Each verdict is held to its claim's expectation (``gated``) unless there is none or the run is off its
profile's protocol (``not_gated_because``); ``claim_outcome`` and ``summary_counts`` say what the suite
makes of it: passed, failed, undecided (a gated time verdict too noisy to decide), not judged or not gated.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import stats

from prunebench.results import paths
from prunebench.results.keys import ratio_key
from prunebench.results.machine import machine_class
from prunebench.results.profiles import PROFILES
from prunebench.verdicts.claims import CLAIMS, Claim, TimeUnchanged, load_expectations, number_text
from prunebench.verdicts.evidence import (
    RANGE_TITLES,
    RANGES,
    Case,
    for_method,
    machine_noise,
    methods_in,
    points,
    range_of,
)
from prunebench.verdicts.expected import PROTOCOL_NOT_GATED, protocol_overrides
from prunebench.verdicts.stats import BOOTSTRAP_SEED, exact_spearman_p, holm_adjusted

BOOTSTRAP_RESAMPLES = 1999


def spearman(x: Iterable[float], y: Iterable[float]) -> dict[str, Any]:
    """Spearman rho, two-sided p and bootstrap 95% CI of rho; all None when the data cannot rank. The p is exact
    up to ``stats.EXACT_P_MAX_POINTS`` points (scipy's t approximation reads 0 for a perfect order of a few points,
    where the exact p cannot fall below 2/n!), the t approximation above."""
    x, y = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"rho": None, "p": None, "n": n, "ci": None}
    result = stats.spearmanr(x, y)
    with warnings.catch_warnings():
        # Perfectly monotone data resamples to a constant rho; the percentile interval is then [rho, rho].
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        interval = stats.bootstrap((x, y), _rank_correlation, paired=True, vectorized=True, method="percentile",
                                   n_resamples=BOOTSTRAP_RESAMPLES, random_state=BOOTSTRAP_SEED).confidence_interval
    ci = [float(interval.low), float(interval.high)]
    exact = exact_spearman_p(x, y)
    return {"rho": float(result.statistic), "p": float(result.pvalue) if exact is None else exact, "n": n,
            "ci": None if any(np.isnan(ci)) else ci}


def _rank_correlation(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman rho along ``axis`` (Pearson of mid-ranks), vectorized for the bootstrap; NaN if constant."""
    rank_x = stats.rankdata(x, axis=axis)
    rank_y = stats.rankdata(y, axis=axis)
    rank_x = rank_x - rank_x.mean(axis=axis, keepdims=True)
    rank_y = rank_y - rank_y.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank_x * rank_y).sum(axis=axis) / np.sqrt((rank_x**2).sum(axis=axis) * (rank_y**2).sum(axis=axis))


def claim_subjects(results: dict) -> list[tuple[str, str, str]]:
    """(claim id, range, subject) triples evaluated for ``results``, in report order; a range is judged
    only where the results hold pruned models in it."""
    ranges = [name for name in RANGES if any(model["ratio"] > 0 and range_of(model["ratio"]) == name
                                             for model in results["models"])]
    return [(claim.id, name, subject) for claim in CLAIMS.values() for name in ranges
            for subject in claim.subjects(results)]


def narrowed_ratios(profile: dict) -> str | None:
    """How a run's ratios differ from those of its named profile (``--ratios``); None when they do not or
    the profile is not one of ``PROFILES``. A claim such a run cannot judge is the run's choice, not a fault."""
    own = PROFILES.get(profile.get("name"))
    ratios = sorted({ratio_key(ratio) for ratio in profile.get("ratios", ())})
    if own is None or ratios == sorted({ratio_key(ratio) for ratio in own["ratios"]}):
        return None
    return f"ratios {', '.join(f'{r:g}' for r in ratios)} (the {profile['name']} profile's: " \
           f"{', '.join(f'{r:g}' for r in own['ratios'])})"


def evaluate_claims(results: dict, expectations: dict) -> list[dict]:
    """The ``claims`` entries of the results schema, one per (method, claim id, range, subject): each method
    is judged on its own pruned models against the shared baselines, the paper's method first."""
    return [claim for method in methods_in(results)
            for claim in _evaluate_method(for_method(results, method), expectations, method)]


def _evaluate_method(results: dict, expectations: dict, method: str) -> list[dict]:
    """The claims of one method's results (``for_method``)."""
    triples = claim_subjects(results)
    data = {triple: points(results, triple[2], triple[1]) for triple in triples}
    correlations = {triple: spearman(*data[triple]) for triple in triples}
    adjusted: dict[tuple[str, str, str], float | None] = {}
    for family in {(claim_id, name) for claim_id, name, _ in triples}:
        adjusted.update(holm_adjusted({triple: correlations[triple]["p"] for triple in triples
                                       if triple[:2] == family}))
    machine = str(machine_class(results["machine"]))
    overrides = protocol_overrides(results["profile"])
    records = []
    for triple in triples:
        claim_id, ratio_range, subject = triple
        claim = CLAIMS[claim_id]
        case = Case(results, ratio_range, subject, method, *data[triple], correlations[triple]["rho"],
                    adjusted[triple])
        extra = {"p_holm": adjusted[triple], **claim.judge(case)}
        extra.update(_judged_fields(claim, case, extra.pop("not_judged_because")))
        if not extra["judged"]:
            extra.update(verdict="inconclusive", basis=f"not judged: {extra['not_judged_because']}")
        expected, not_gated_because = (({}, PROTOCOL_NOT_GATED + ", ".join(overrides)) if overrides
                                       else claim.expectation(expectations, case, machine))
        records.append({"id": claim_id, "range": ratio_range, "subject": subject, "method": method,
                        "statement": claim.statement, "rule": claim.rule, **correlations[triple],
                        "expected": expected.get("verdict"), "reason": expected.get("reason"),
                        "gated": not_gated_because is None, "not_gated_because": not_gated_because,
                        "machine_class": machine, "x": case.x, "y": case.y, **extra})
    return records


def _judged_fields(claim: Claim, case: Case, need: str | None) -> dict[str, Any]:
    """``judged``, ``not_judged_because`` with the counts the run had, and ``narrowed``: whether only the
    run's ratios, narrowed from its profile's, leave the need unmet (the run's choice, not a fault)."""
    if need is None:
        return {"judged": True, "not_judged_because": None, "narrowed": False}
    profile = case.results["profile"]
    seeds, count = len(profile.get("seeds") or ()), len(case.x)
    need += f" ({seeds} seed{'' if seeds == 1 else 's'}, {count} point{'' if count == 1 else 's'})"
    design = [ratio for ratio in profile.get("ratios", ()) if range_of(ratio) == case.ratio_range]
    narrowed = narrowed_ratios(profile) if claim.need(case.ratio_range, design) else None
    return {"judged": False, "not_judged_because": need + (f"; the run's {narrowed}" if narrowed else ""),
            "narrowed": narrowed is not None}


# ---- outcomes: what the suite makes of a judged claim --------------------------------------------------

OUTCOMES = ("passed", "failed", "undecided", "not judged", "not gated")
# More than this share of the gated time subjects undecided fails the run: a run that cannot decide most
# of what it gates has not tested the claim, however little each undecided subject contradicts.
MAX_UNDECIDED_SHARE = 0.5


def claim_outcome(claim: dict) -> str:
    """One of ``OUTCOMES`` for one claim, before the run-wide limit on undecided ones (``too_noisy``).

    not judged: a run narrowed to fewer ratios than its profile's left the rule's need unmet (a full
    profile run never gets here: there a claim not judged is held to its expectation like any other).
    undecided: a gated time verdict, judged but inconclusive, whose point estimates do not lean against the
    expectation (``TimeUnchanged.undecided``): noise decided it, which contradicts nothing."""
    if not claim.get("judged", True) and claim.get("narrowed"):
        return "not judged"
    if not claim["gated"]:
        return "not gated"
    if claim["expected"] is not None and claim["verdict"] == claim["expected"]:
        return "passed"
    return "undecided" if CLAIMS[claim["id"]].undecided(claim) else "failed"


def too_noisy(claims: Iterable[dict]) -> str | None:
    """Why the run's undecided time subjects fail it (more than ``MAX_UNDECIDED_SHARE`` of the gated,
    judged time subjects), or None."""
    outcomes = [claim_outcome(claim) for claim in claims if CLAIMS[claim["id"]].machine_gated and claim["gated"]
                and claim.get("judged", True)]
    undecided = outcomes.count("undecided")
    if undecided <= MAX_UNDECIDED_SHARE * len(outcomes):
        return None
    return (f"{undecided} of {len(outcomes)} gated time subjects undecided, more than "
            f"{MAX_UNDECIDED_SHARE:.0%}: the run was too noisy to gate (c)")


def undecided_timing_keys(claims: Iterable[dict]) -> list[str]:
    """Timing keys of the undecided time subjects, once each (both ranges and every method share one), in
    claim order: what more interleaved rounds could decide."""
    return list(dict.fromkeys(TimeUnchanged.timing_key(claim["subject"]) for claim in claims
                              if claim_outcome(claim) == "undecided"))


def missing_claim(claim_key: tuple[str, str, str, str], timed_keys: set[str]) -> tuple[str, str]:
    """What a claim the suite expected but the results lack means: ("skip", why) for a time claim whose
    network benchmark was not run in this session (deselected), else ("fail", what is missing)."""
    claim_id, ratio_range, subject, method = claim_key
    if subject.startswith("time:") and TimeUnchanged.timing_key(subject) not in timed_keys:
        return "skip", f"{subject}: its network benchmark was deselected in this run, so nothing was timed"
    return "fail", (f"claim ({claim_id}) over {RANGE_TITLES[ratio_range]} on {subject}, method {method}, is missing "
                    "from the results: the run measured no such subject or no pruned model in the range")


def summary_counts(claims: list[dict]) -> dict[str, Any]:
    """Per outcome the number of claims, as the suite's claim tests end: undecided ones count as failed
    when the run is ``too_noisy``. ``undecided_noise`` maps each undecided subject to its rounds'
    IQR/median; ``too_noisy`` says why the run failed on them, or is None."""
    noisy = too_noisy(claims)
    counts: dict[str, Any] = dict.fromkeys(OUTCOMES, 0)
    undecided = {}
    for claim in claims:
        outcome = claim_outcome(claim)
        if outcome == "undecided":
            undecided[f"({claim['id']})@{claim['range']} {claim['subject']} [{claim['method']}]"] = claim.get("noise")
        counts["failed" if outcome == "undecided" and noisy else outcome] += 1
    return {**counts, "undecided_noise": undecided, "too_noisy": noisy}


def format_claim_failure(claim: dict) -> str:
    """Multi-line account of a claim whose verdict differs from the expected one (an assertion message)."""
    ci = "None" if claim["ci"] is None else f"[{claim['ci'][0]:.3f}, {claim['ci'][1]:.3f}]"
    lines = [
        f"claim ({claim['id']}) over {RANGE_TITLES[claim['range']]} on {claim['subject']}: expected "
        f"{claim['expected']}, measured {claim['verdict']} (machine class {claim['machine_class']})",
        f"  statement: {claim['statement']}",
        f"  rule: {claim['rule']}",
        f"  basis: {claim.get('basis')}",
        f"  expected because: {claim['reason']}",
        f"  rho = {number_text(claim['rho'])}, p = {number_text(claim['p'])} (Holm-adjusted "
        f"{number_text(claim.get('p_holm'))}), n = {claim['n']}, 95% CI of rho = {ci}",
        *CLAIMS[claim["id"]].details(claim),
        "  data (ratio, value):",
    ]
    lines.extend(f"    {x:g}\t{y:.6g}" for x, y in zip(claim["x"], claim["y"]))
    return "\n".join(lines)


def with_claims(results: dict) -> dict:
    """The results with their claims judged anew against their profile's expectations (and the run's noise
    figure beside them): what a run writes, and what ``prunebench merge`` recomputes."""
    expectations = load_expectations(paths.expectations_file(results["profile"]["name"]))
    return {**results, "noise": {"machine": machine_noise(results)},
            "claims": evaluate_claims(results, expectations)}
