"""The paper's four claims as a registry of objects, one class per claim behind one interface (``Claim``).

Each carries everything about its claim: the paper's statement and a short form for tables; its ``rule``,
the text every verdict carries and the one place the rule is written out (docs/verdicts.md says why each
rule is as it is); the kind of subject it is judged on; what its rule needs of the ratios measured
(``need``); how it judges one subject (``judge``); what it is expected to conclude (``expectation``); and
how a report states its effect and margin. prunebench.verdicts.judging judges a run on all of them.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from typing import Any

from prunebench.prune.policy import DEFAULT_PRUNED
from prunebench.results.keys import ratio_key
from prunebench.results.readers import engine_records, percent
from prunebench.verdicts.equivalence import Interval, equivalence_verdict
from prunebench.verdicts.evidence import (
    Case,
    accuracy_intervals,
    baseline_step_1,
    fewest_rounds,
    margins_of,
    measures,
    subject_noise,
    time_intervals,
)
from prunebench.verdicts.expected import derived_time_expectation, machine_table, read_expectations, recorded
from prunebench.verdicts.stats import medians_by_ratio, onset

ALPHA = 0.05
MIN_POINTS = 5
THRESHOLD_RATIO = 0.5
MISSING = "—"  # what a report shows for an effect or margin a claim does not have


def number_text(value: float | None) -> str:
    """A statistic in a failure message: four significant digits, or None."""
    return "None" if value is None else f"{value:.4g}"


def _ratios_text(ratios: list[float]) -> str:
    listed = f" ({', '.join(f'{ratio:g}' for ratio in ratios)})" if ratios else ""
    return f"{len(ratios)} ratio{'' if len(ratios) == 1 else 's'}{listed}"


class Claim(ABC):
    """The interface of every claim. ``kind`` names the subjects it is judged on (``size``, ``accuracy``,
    ``time``); ``machine_gated`` claims have an expectation derived per subject, which a machine may override."""

    id: str
    statement: str
    short: str
    rule: str
    kind: str
    machine_gated = False

    def subjects(self, results: dict) -> list[str]:
        return [subject for subject in measures(results) if subject.split(":")[0] == self.kind]

    def need(self, ratio_range: str, ratios: list[float]) -> str | None:
        """What the rule needs of the ratios measured in one range that ``ratios`` lack; None when they are
        enough. A rule asked to judge less would return a verdict the data cannot carry."""
        if not ratios:
            return f"({self.id}) needs a pruned ratio in the range; has none"
        return None

    @abstractmethod
    def judge(self, case: Case) -> dict[str, Any]:
        """Verdict, basis and the claim's own statistics; ``not_judged_because`` where the need is unmet."""

    def expectation(self, expectations: dict, case: Case, machine: str) -> tuple[dict, str | None]:
        """(expected entry, why it is not gated; None when gated): the ``claims`` table, on any machine."""
        entry = recorded(expectations.get("claims", {}), self.id, case.ratio_range, case.subject, case.method)
        return entry or {}, None

    @abstractmethod
    def effect_text(self, record: dict) -> str:
        """A judged claim's effect with its interval, in the claim's own unit."""

    def margin_text(self, record: dict) -> str:
        return MISSING

    def undecided(self, record: dict) -> bool:
        """Whether a gated verdict that differs from its expectation leaves the claim undecided rather than
        failed: only where noise can decide it, which contradicts nothing."""
        return False

    def details(self, record: dict) -> list[str]:
        """Lines of the claim's own statistics for a failure message."""
        return []


def _distinct(ratios: list[float]) -> list[float]:
    return sorted({ratio_key(ratio) for ratio in ratios})


class SizeFalls(Claim):
    """(a) an association: Spearman's rho of size against ratio, Holm-adjusted over the subjects of the
    claim and range; sizes are deterministic, so with few points their per-ratio medians decide."""

    id = "a"
    statement = "The pruning ratio is positively correlated with the compression: model size falls as the ratio rises."
    short = "size falls as the ratio rises"
    rule = (f"Holm-adjusted Spearman p; supported iff p < {ALPHA} and rho < 0, refuted iff p < {ALPHA} and rho > 0 "
            f"or the size is constant, else inconclusive; under {MIN_POINTS} points: per-ratio medians strictly "
            "falling (supported) or never falling (refuted)")
    kind = "size"

    def need(self, ratio_range: str, ratios: list[float]) -> str | None:
        distinct = _distinct(ratios)
        if len(distinct) < 2:  # one ratio with 5 seeds has constant x and would read "refuted"
            return (f"(a) needs 2 distinct ratios in the range (a trend: the rho test on {MIN_POINTS} or more "
                    f"points, else per-ratio medians over 2 or more ratios); has {_ratios_text(distinct)}")
        return super().need(ratio_range, distinct)

    def judge(self, case: Case) -> dict[str, Any]:
        need = self.need(case.ratio_range, case.x)
        if need:
            return {"not_judged_because": need}
        verdict, basis = self.verdict(case.rho, case.p_holm, len(case.x), medians_by_ratio(case.x, case.y))
        return {"verdict": verdict, "basis": basis, "not_judged_because": None}

    @staticmethod
    def verdict(rho: float | None, p: float | None, n: int,
                medians: dict[float, float] | None = None) -> tuple[str, str]:
        """Verdict and basis from rho and its (adjusted) p over n points, or under ``MIN_POINTS`` points
        from the per-ratio ``medians``."""
        if n < MIN_POINTS:
            if medians is None or len(medians) < 2:
                return "inconclusive", f"n too small ({n} < {MIN_POINTS}) and fewer than two ratios"
            sizes = list(medians.values())
            steps = [later - earlier for earlier, later in zip(sizes, sizes[1:])]
            if all(step < 0 for step in steps):
                return "supported", (f"per-ratio sizes strictly fall over {len(sizes)} ratios "
                                     f"(n = {n} < {MIN_POINTS}: no rho test)")
            if all(step >= 0 for step in steps):
                return "refuted", f"per-ratio sizes never fall over {len(sizes)} ratios"
            return "inconclusive", f"per-ratio sizes fall and rise over {len(sizes)} ratios (n = {n} < {MIN_POINTS})"
        if rho is None or p is None:
            return "refuted", "the measure does not change with the ratio at all (constant data)"
        if p >= ALPHA:
            return "inconclusive", f"no significant correlation (p = {p:.3g} >= {ALPHA})"
        if rho < 0:
            return "supported", f"significant negative correlation (rho = {rho:.3f}, p = {p:.3g})"
        return "refuted", f"significant correlation of the wrong sign (rho = {rho:.3f}, p = {p:.3g})"

    def effect_text(self, record: dict) -> str:
        return MISSING if record["rho"] is None else f"rho {record['rho']:.2f}"


class Unchanged(Claim):
    """An absence claim as an equivalence test (prunebench.verdicts.equivalence): at every ratio the
    measure differs from the unpruned model's by less than a margin the run stated before measuring."""

    measure: str  # its margin's name in the results' ``margins``
    log_scale: bool  # whether the effect is a ratio (band [1/(1+m), 1+m]) rather than a difference (+-m)

    @abstractmethod
    def intervals(self, case: Case) -> tuple[dict[float, Interval], str | None]:
        """Per ratio, the effect and its interval; or why there are none."""

    def own_fields(self, case: Case) -> dict[str, Any]:
        """Fields of the claim's own beside the intervals."""
        return {}

    @abstractmethod
    def more_data(self, case: Case, factor: float) -> str:
        """How much more data would bring the widest interval inside the margin, if the effect is smaller."""

    def undecided_note(self, case: Case, fields: dict, reached: float, margin: float) -> str:
        """What would decide an inconclusive verdict, by the 1/sqrt(n) law."""
        if not math.isfinite(reached) or reached <= 0:
            return ""
        return self.more_data(case, (reached / margin) ** 2)

    def judge(self, case: Case) -> dict[str, Any]:
        margin = margins_of(case.results)[self.measure]
        intervals, missing = self.intervals(case)
        need = self.need(case.ratio_range, case.x)
        fields: dict[str, Any] = {"margin": margin, "scale": "ratio" if self.log_scale else "difference",
                                  "per_ratio": [{"ratio": ratio, "effect": iv.effect, "low": iv.low, "high": iv.high}
                                                for ratio, iv in intervals.items()], **self.own_fields(case)}
        if missing:
            return {**fields, "verdict": "inconclusive", "basis": missing, "effect": None, "interval": None,
                    "margin_reached": None, "not_judged_because": need or missing}
        verdict, basis, reached = equivalence_verdict(intervals, margin, self.log_scale)
        center = 1.0 if self.log_scale else 0.0
        # The effect shown for the subject: the ratio whose interval reaches furthest from no change.
        worst = max(intervals, key=lambda ratio: max(abs(intervals[ratio].low - center),
                                                     abs(intervals[ratio].high - center)))
        if verdict == "inconclusive":
            basis += self.undecided_note(case, fields, reached, margin)
        return {**fields, "verdict": verdict, "basis": basis, "effect": intervals[worst].effect,
                "effect_ratio": worst, "interval": intervals[worst].as_list(), "margin_reached": reached,
                "not_judged_because": need}

    def details(self, record: dict) -> list[str]:
        if "margin" not in record:
            return []
        return [f"  margin = {record['margin']:g}, reached = {number_text(record.get('margin_reached'))}",
                *(f"    ratio {row['ratio']:g}: effect {row['effect']:.5g}, 90% CI [{row['low']:.5g}, "
                  f"{row['high']:.5g}]" for row in record["per_ratio"])]


class AccuracyUnchanged(Unchanged):
    """(b) per ratio, accuracy minus the baseline's on the same test images, pooled over seeds; the margin
    is in accuracy (0.01 = 1 percentage point)."""

    id = "b"
    statement = "The pruning ratio is not correlated with prediction accuracy."
    short = "accuracy does not change with the ratio"
    rule = ("equivalence: per ratio, accuracy minus the baseline's on the same images (pooled over seeds), 90% "
            "bootstrap CI; supported iff every CI lies within +-margin, refuted iff one lies wholly outside")
    kind = "accuracy"
    measure = "accuracy"
    log_scale = False

    def intervals(self, case: Case) -> tuple[dict[float, Interval], str | None]:
        return accuracy_intervals(case.results, case.ratio_range)

    def more_data(self, case: Case, factor: float) -> str:
        seeds = len(case.results["profile"].get("seeds") or [0])
        return (f"; about {math.ceil(seeds * factor)} seeds (now {seeds}) would narrow it enough, "
                "if the effect is smaller")

    def effect_text(self, record: dict) -> str:
        if record.get("effect") is None:
            return MISSING
        low, high = record["interval"]
        return (f"{record['effect'] * 100:+.2f} pt [{low * 100:+.2f}, {high * 100:+.2f}] "
                f"at {percent(record['effect_ratio'])}")

    def margin_text(self, record: dict) -> str:
        return MISSING if "margin" not in record else f"±{record['margin'] * 100:g} pt"


class TimeUnchanged(Unchanged):
    """(c) per ratio, the median time over the unpruned model's on the same engine, batch and device, from
    interleaved rounds pooled over seeds; the margin is relative (0.10: within [1/1.1, 1.1]). Whether the
    time can stay depends on the engine's work, so its expectation is derived per subject."""

    id = "c"
    statement = "The pruning ratio is not correlated with prediction time."
    short = "prediction time does not change with the ratio"
    rule = ("equivalence: per ratio, median time over the unpruned model's (same engine, batch, device; "
            "interleaved rounds, pooled over seeds), 90% bootstrap CI; supported iff every CI lies within "
            "[1/(1+m), 1+m], refuted iff one lies wholly outside")
    kind = "time"
    measure = "time"
    log_scale = True
    machine_gated = True

    @staticmethod
    def timing_key(subject: str) -> str:
        """The timing key of a time subject (``time:<key>``), as the suite's benchmarks and retimers are keyed."""
        return subject.removeprefix("time:")

    def intervals(self, case: Case) -> tuple[dict[float, Interval], str | None]:
        return time_intervals(case.results, case.ratio_range, self.timing_key(case.subject))

    def own_fields(self, case: Case) -> dict[str, Any]:
        return {"noise": subject_noise(case.results, self.timing_key(case.subject))}

    def more_data(self, case: Case, factor: float) -> str:
        rounds = fewest_rounds(case.results, self.timing_key(case.subject))
        return f"; about {math.ceil(rounds * factor)} interleaved rounds (now {rounds}) would, if the effect is smaller"

    def undecided_note(self, case: Case, fields: dict, reached: float, margin: float) -> str:
        note = super().undecided_note(case, fields, reached, margin)
        if fields["noise"] is not None:
            note += f" (noise decided it: rounds spread {fields['noise'] * 100:.0f}% IQR/median)"
        return note

    def expectation(self, expectations: dict, case: Case, machine: str) -> tuple[dict, str | None]:
        """The entry of the first ``machines`` pattern matching this machine class, if it names the subject;
        else the one derived from the engine's work."""
        table = machine_table(expectations.get("machines", {}), machine) or {}
        entry = recorded(table, self.id, case.ratio_range, case.subject, case.method)
        if entry is not None:
            return entry, None
        return derived_time_expectation(case.subject, case.method, max(case.x, default=0.0),
                                        case.results["profile"].get("variables", DEFAULT_PRUNED),
                                        margins_of(case.results)["time"], engine_records(case.results))

    def undecided(self, record: dict) -> bool:
        """Judged, inconclusive and not leaning against its expectation (``wrong_side``)."""
        return (record.get("judged", True) and record["expected"] is not None and record["verdict"] == "inconclusive"
                and not self.wrong_side(record))

    def wrong_side(self, record: dict) -> bool:
        """Whether an inconclusive verdict leans against its expectation: a point estimate outside the
        margin where "supported" is expected, or every one inside it where "refuted" is."""
        inside = [1 / (1 + record["margin"]) < row["effect"] < 1 + record["margin"] for row in record["per_ratio"]]
        return not all(inside) if record["expected"] == "supported" else all(inside)

    def effect_text(self, record: dict) -> str:
        if record.get("effect") is None:
            return MISSING
        low, high = record["interval"]
        noise = "" if record.get("noise") is None else f"; rounds' IQR/median {record['noise'] * 100:.1f}%"
        return f"{record['effect']:.3f}x [{low:.3f}, {high:.3f}] at {percent(record['effect_ratio'])}{noise}"

    def margin_text(self, record: dict) -> str:
        return MISSING if "margin" not in record else f"±{record['margin'] * 100:g}%"


class CompressionFromHalf(Claim):
    """(d) an onset: per-ratio medians over seeds against the baseline's median step_1 size (the paper's
    optimizer-laden checkpoint). Beyond the paper every ratio is above the threshold: that side alone is
    judged. ``break_even`` is the smallest ratio from which every median is below the reference."""

    id = "d"
    statement = ("Compression takes effect only from a pruning ratio of 50%: below it the model is not smaller "
                 "than the original.")
    short = "compression only from 50%"
    rule = (f"per-ratio medians over seeds vs the baseline's median step_1 size: supported iff every ratio < "
            f"{THRESHOLD_RATIO} is >= it and every ratio >= {THRESHOLD_RATIO} is below it, refuted otherwise; "
            f"over the paper's range not judged without ratios on both sides of {THRESHOLD_RATIO}")
    kind = "size"

    def need(self, ratio_range: str, ratios: list[float]) -> str | None:
        distinct = _distinct(ratios)
        both = any(r < THRESHOLD_RATIO for r in distinct) and any(r >= THRESHOLD_RATIO for r in distinct)
        if ratio_range == "paper" and not both:
            return (f"(d) over the paper's range needs ratios on both sides of {THRESHOLD_RATIO}; "
                    f"has {_ratios_text(distinct)}")
        return super().need(ratio_range, distinct)

    def judge(self, case: Case) -> dict[str, Any]:
        reference = baseline_step_1(case.results)
        medians = medians_by_ratio(case.x, case.y)
        fields = {"reference": reference, "break_even": None if reference is None else
                  onset(list(medians), [size < reference for size in medians.values()])}
        need = self.need(case.ratio_range, case.x) or (
            None if reference is not None else "(d) needs the baseline's step_1 size; there is none")
        if need:
            return {**fields, "not_judged_because": need}
        verdict, basis = self.verdict(medians, reference, both_sides=case.ratio_range == "paper")
        return {**fields, "verdict": verdict, "basis": basis, "not_judged_because": None}

    @staticmethod
    def verdict(medians: dict[float, float], reference: float | None, both_sides: bool = True) -> tuple[str, str]:
        """Verdict and basis on per-ratio median sizes against ``reference``; ``both_sides``: a ratio on
        each side of the threshold is needed."""
        if not medians:
            return "inconclusive", "no ratio measured"
        if reference is None:
            return "inconclusive", "no baseline step_1 size to compare against"
        below = {ratio: size for ratio, size in medians.items() if ratio < THRESHOLD_RATIO}
        above = {ratio: size for ratio, size in medians.items() if ratio >= THRESHOLD_RATIO}
        if both_sides and (not below or not above):
            return "inconclusive", f"no ratio measured on one side of {THRESHOLD_RATIO}"
        early = [ratio for ratio, size in below.items() if size < reference]
        late = [ratio for ratio, size in above.items() if size >= reference]
        if early:
            return "refuted", f"already smaller than the reference {reference:g} at ratio(s) {early}"
        if late:
            return "refuted", f"not smaller than the reference {reference:g} at ratio(s) {late}"
        if not below:
            return "supported", (f"smaller than the reference {reference:g} at every ratio measured "
                                 f"(all >= {THRESHOLD_RATIO})")
        return "supported", f"not smaller below {THRESHOLD_RATIO}, smaller from {THRESHOLD_RATIO} on"

    def effect_text(self, record: dict) -> str:
        return MISSING if record.get("break_even") is None else f"break-even at {percent(record['break_even'])}"

    def details(self, record: dict) -> list[str]:
        if "break_even" not in record:
            return []
        return [f"  reference = {number_text(record['reference'])}, break-even ratio = {record['break_even']}"]


CLAIMS: dict[str, Claim] = {claim.id: claim for claim in
                            (SizeFalls(), AccuracyUnchanged(), TimeUnchanged(), CompressionFromHalf())}


def load_expectations(path: str | os.PathLike) -> dict[str, Any]:
    """A profile's expectations file (prunebench.verdicts.expected), its keys checked against ``CLAIMS``:
    claims judged on any machine in its ``claims`` table, machine-gated ones only under ``machines``."""
    return read_expectations(path, tuple(CLAIMS), tuple(key for key, claim in CLAIMS.items() if claim.machine_gated))
