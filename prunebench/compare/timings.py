"""Timings: what changed between the runs' times.

Same machine class: each timing family's shift (``judge_families``), judged against the baseline runs' spread
of it or pair by pair over interleaved runs (``prunebench.compare.stats``), with the per-benchmark medians and
within-run p that describe it (``compare_times``). Across machines only what carries over is compared, and
nothing fails: speed relative to ``tf-dense`` in the same run, the FC1 crossover ratios, and time x the
bandwidth measured in the same run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from prunebench.compare.reading import ModelKey, TimingIdent, is_number, model_name, model_order, timing_entries
from prunebench.compare.stats import (
    ALPHA,
    FACTOR,
    MIN_BASELINE_RUNS,
    VERDICTS,
    between_run_test,
    beyond_factor,
    detectable_factor,
    mann_whitney_p,
    median_ratio,
    min_attainable_p,
    paired_runs_test,
    time_verdict,
)
from prunebench.errors import UsageError
from prunebench.results.keys import TimingKey
from prunebench.results.machine import machine_class
from prunebench.results.readers import best_dense, engine_sparsity, fc1_entries
from prunebench.verdicts.stats import crossover, holm

REFERENCE_ENGINE = "tf-dense"  # the engine every speedup is relative to


def label(ident: TimingIdent) -> str:
    """A timing identity (``reading.timing_entries``) as one line names it."""
    if ident.kind == "model":
        return f"{model_name(_model(ident))} {ident.key}"
    return f"{ident.kind} ratio={ident.ratio:g} {ident.key}"


def _model(ident: TimingIdent) -> ModelKey:
    return ModelKey(ident.method, ident.ratio, ident.seed)


def same_machine_class(base: dict, new: dict) -> bool:
    return machine_class(base.get("machine")) == machine_class(new.get("machine"))


def compare_times(base: dict, new: dict, base_rounds: dict, new_rounds: dict, *, history: Sequence[dict] = (),
                  earlier_new: Sequence[dict] = (), factor: float = FACTOR, alpha: float = ALPHA,
                  p_adjust: str = "holm") -> dict:
    """Same machine class. Verdicts per timing family, between runs: the new run against the baseline runs
    ``history`` + ``base``; or, given ``earlier_new`` (one per ``history`` run, each made right after it),
    the interleaved pairs ``zip(history + base, earlier_new + new)`` by a paired test (``prunebench.compare.stats``).
    Per benchmark: both medians against ``base``, the factor and the within-run Mann-Whitney p on the raw
    rounds, which describes and gates nothing."""
    before, after = timing_entries(base), timing_entries(new)
    rows = []
    for ident in sorted(set(before) & set(after), key=_sort_ident):
        old, now = base_rounds.get(ident), new_rounds.get(ident)
        row = {"benchmark": label(ident), "family": ident.key, "base_median_s": float(before[ident]["median_s"]),
               "new_median_s": float(after[ident]["median_s"]), "p": None, "p_adjusted": None,
               "rounds": [len(old) if old else before[ident].get("rounds"),
                          len(now) if now else after[ident].get("rounds")]}
        if old and now:
            row["factor"] = median_ratio(old, now)
            row["p"] = mann_whitney_p(old, now)
            if min_attainable_p(len(old), len(now)) >= alpha:
                row["note"] = f"{len(old)} vs {len(now)} rounds cannot reach p < {alpha}"
        else:
            row["factor"] = row["new_median_s"] / row["base_median_s"] if row["base_median_s"] else None
            missing = " and ".join(side for side, rounds in (("base", old), ("new", now)) if not rounds)
            row["note"] = f"no raw rounds in {missing}: no within-run p"
        rows.append(row)
    # Benchmarks whose rounds cannot reach alpha at all stay out of Holm's family (Tarone).
    testable = [None if "cannot reach" in row.get("note", "") else row["p"] for row in rows]
    for row, p in zip(rows, holm(testable) if p_adjust == "holm" else testable, strict=True):
        row["p_adjusted"] = p
    interleaved = bool(earlier_new)
    if interleaved and len(earlier_new) != len(history):
        raise UsageError(f"interleaved runs come in pairs: {len(history) + 1} base runs, {len(earlier_new) + 1} new")
    # A disturbed new run says nothing against stored baselines; in a pair, its base run shares the episode.
    noisy = None if interleaved else noisier_than_baselines([*history, base], new)
    families = judge_families([*history, base], [*earlier_new, new], paired=interleaved, factor=factor,
                              alpha=alpha, p_adjust=p_adjust, judge=noisy is None)
    verdicts = {family["family"]: family["verdict"] for family in families}
    for row in rows:
        verdict = verdicts.get(row["family"], "not judged")
        moved = row["factor"] is not None and (row["factor"] > factor if verdict == "slower"
                                               else row["factor"] < 1 / factor)
        if verdict in ("slower", "faster") and not moved:
            verdict = "unchanged"  # its family moved, this benchmark did not (by the factor)
        row["verdict"] = verdict
    counts = {verdict: sum(row["verdict"] == verdict for row in rows) for verdict in VERDICTS}
    family_counts = {verdict: sum(family["verdict"] == verdict for family in families) for verdict in VERDICTS}
    only = {side: len(set(a) - set(b)) for side, a, b in (("base", before, after), ("new", after, before))}
    return {"benchmarks": rows, "families": families, "counts": counts, "family_counts": family_counts,
            "baseline_runs": len(history) + 1, "interleaved_pairs": len(history) + 1 if interleaved else None,
            "noisy_run": noisy, "only_in": only, "factor": factor, "alpha": alpha,
            "p_adjust": p_adjust}


def noisier_than_baselines(baseline_runs: Sequence[dict], new: dict) -> str | None:
    """Why the new run is not judged on time, or None. A run whose machine noise (the median IQR/median of
    its timings, ``noise.machine``) exceeds that of every baseline run was disturbed in a way the baselines
    never were, so their spread says nothing about it: rerun it rather than judge it."""
    def noise(results: dict) -> float | None:
        value = results["noise"].get("machine") if isinstance(results.get("noise"), dict) else None
        return float(value) if is_number(value) else None

    now, before = noise(new), [noise(run) for run in baseline_runs]
    if now is None or None in before or len(before) < MIN_BASELINE_RUNS or now <= max(before):
        return None
    return (f"the new run's machine noise (IQR/median {now:.3f}) exceeds every baseline run's "
            f"(at most {max(before):.3f}): a disturbed run; time not judged, rerun it")


def judge_families(baseline_runs: Sequence[dict], new_runs: Sequence[dict], *, paired: bool = False,
                   factor: float = FACTOR, alpha: float = ALPHA, p_adjust: str = "holm",
                   judge: bool = True) -> list[dict]:
    """The time test of every timing family over the benchmarks that all runs timed: the last of
    ``new_runs`` against ``baseline_runs`` (``between_run_test``), or with ``paired`` the runs pair by pair
    (``paired_runs_test``). None is judged when ``judge`` is false: the families are listed only."""
    medians = [_medians(run) for run in baseline_runs]
    news = [_medians(run) for run in (new_runs if paired else new_runs[-1:])]
    members: dict[str, list[TimingIdent]] = {}
    for ident in sorted(news[-1], key=_sort_ident):
        if all(run.get(ident, 0) > 0 for run in [*medians, *news]):
            members.setdefault(ident.key, []).append(ident)
    families = []
    for family, idents in sorted(members.items()):
        logs = [[math.log(run[i]) for i in idents] for run in medians]
        test = None
        if judge:
            test = (paired_runs_test(logs, [[math.log(run[i]) for i in idents] for run in news]) if paired
                    else between_run_test(logs, [math.log(news[-1][i]) for i in idents]))
        families.append({"family": family, "benchmarks": len(idents), "baseline_runs": len(medians),
                         "basis": f"{len(medians)} interleaved pairs" if paired else f"{len(medians)} baseline runs",
                         "factor": math.exp(test["d"]) if test else None,
                         "spread": math.exp(test["s"]) if test else None,
                         "scale": test["scale"] if test else None, "df": test["df"] if test else None,
                         "t": test["t"] if test else None, "p": test["p"] if test else None})
    pvalues = [family["p"] for family in families]
    judged = sum(p is not None for p in pvalues)
    for family, p in zip(families, holm(pvalues) if p_adjust == "holm" else pvalues, strict=True):
        family["p_adjusted"] = p
        family["verdict"] = "not judged" if p is None else time_verdict(family["factor"], p, factor=factor, alpha=alpha)
        family["detectable_factor"] = (None if p is None else detectable_factor(
            family["scale"], family["df"], judged if p_adjust == "holm" else 1, factor=factor, alpha=alpha))
    return families


def time_line(family: dict) -> str:
    return (f"time: {family['family']} {family['verdict']} x{family['factor']:.3f} over {family['benchmarks']} "
            f"benchmarks (against {family['basis']}: spread x{family['spread']:.3f}, "
            f"t {family['t']:.2f}, p_adj {family['p_adjusted']:.2g})")


def _sort_ident(ident: TimingIdent) -> tuple:
    """Models in ``reading.model_order``, FC1 sections by ratio; then the timing key."""
    if ident.kind == "model":
        return ident.kind, *model_order(_model(ident)), ident.key
    return ident.kind, False, "", ident.ratio, -1, ident.key


def _medians(results: dict) -> dict[TimingIdent, float]:
    return {ident: float(entry["median_s"]) for ident, entry in timing_entries(results).items()}


def compare_speedups(base: dict, new: dict, factor: float = FACTOR) -> dict:
    """Each engine's speedup over ``tf-dense`` measured in the same run, model (or FC1 ratio), device,
    scope and batch: carries over between machines (both sides of the ratio moved with the machine)."""
    before, after = _medians(base), _medians(new)
    rows, missing_reference = [], 0
    for ident in sorted(set(before) & set(after), key=_sort_ident):
        timing = TimingKey.parse(ident.key)
        if timing.engine == REFERENCE_ENGINE:
            continue
        reference = ident._replace(key=str(replace(timing, engine=REFERENCE_ENGINE)))
        if reference not in before or reference not in after:
            missing_reference += 1
            continue
        old, now = before[reference] / before[ident], after[reference] / after[ident]
        change = now / old
        rows.append({"benchmark": label(ident), "base_speedup": old, "new_speedup": now, "change": change,
                     "beyond_factor": beyond_factor(change, factor)})
    return {"rows": rows, "missing_reference": missing_reference}


def crossovers(results: dict, ratios: set[float]) -> dict[tuple[str, str, str], float | None]:
    """Per (device, batch, sparse engine): smallest FC1 ratio (among ``ratios``) from which the engine is at
    least as fast as the best dense engine at every larger ratio."""
    ordered = sorted(ratios)
    entries = fc1_entries(results, "fc1")
    table: dict[tuple[str, str], dict[str, list[float | None]]] = {}  # engine's times in ratio order
    for position, ratio in enumerate(ordered):
        for key, timing in ((entries.get(ratio) or {}).get("timings") or {}).items():
            parsed = TimingKey.parse(key)
            times = table.setdefault((parsed.device, str(parsed.batch)), {})
            times.setdefault(parsed.engine, [None] * len(ordered))[position] = float(timing["median_s"])
    found = {}
    for (device, batch), times in table.items():
        sparse = _sparse_engines(results, times)
        best = best_dense(times, sparse)
        for engine, row in times.items():
            if sparse[engine]:
                found[(device, batch, engine)] = crossover(ordered, row, best)
    return found


def _sparse_engines(results: dict, engines: Iterable[str]) -> dict[str, bool]:
    """Which of ``engines`` exploit sparsity (``engine_sparsity``); an engine the results know nothing of
    counts as dense, so it is never reported as a sparse engine's crossover."""
    recorded = engine_sparsity(results)
    return {engine: recorded.get(engine, False) for engine in engines}


def _fc1_ratios(results: dict) -> set[float]:
    return set(fc1_entries(results, "fc1"))


def compare_crossovers(base: dict, new: dict) -> list[dict]:
    common = _fc1_ratios(base) & _fc1_ratios(new)
    before, after = crossovers(base, common), crossovers(new, common)
    return [{"device": device, "batch": batch, "engine": engine, "base": before.get((device, batch, engine)),
             "new": after.get((device, batch, engine)),
             "changed": before.get((device, batch, engine)) != after.get((device, batch, engine))}
            for device, batch, engine in sorted(set(before) | set(after),
                                                key=lambda k: (k[0], int(k[1]) if k[1].isdigit() else 1e9, k[2]))]


def compare_bandwidth(base: dict, new: dict, factor: float = FACTOR) -> dict:
    """Time x the bandwidth measured in the same run: the bytes the machine could have read meanwhile."""
    bandwidths = base.get("bandwidth_bytes_per_s"), new.get("bandwidth_bytes_per_s")
    if not all(bandwidths):
        return {"rows": [], "note": "not compared: a run has no measured bandwidth"}
    before, after = _medians(base), _medians(new)
    rows = []
    for ident in sorted(set(before) & set(after), key=_sort_ident):
        old, now = before[ident] * bandwidths[0], after[ident] * bandwidths[1]
        change = now / old if old else None
        rows.append({"benchmark": label(ident), "base_bytes": old, "new_bytes": now, "change": change,
                     "beyond_factor": beyond_factor(change, factor)})
    return {"rows": rows, "bandwidth_bytes_per_s": list(bandwidths), "note": None}
