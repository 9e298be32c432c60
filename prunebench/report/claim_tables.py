"""The paper's claims in the report: the findings in plain sentences that open it, the one-screen summary, a
section per claim beside the figure it rests on, and the appendix table of every subject.

Subjects are named in words with their units (``subject_title``), never by their keys. The p of a rank
correlation is shown exact, computed from the claim's stored points (``claim_p``): the stored p is scipy's t
approximation, which reads 0 for a perfect rank order although no p of n points falls below 2/n!.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.report.figure_files import ACCURACY_CLAIM_FIGURE, SIZE_CLAIM_FIGURE, TIME_CLAIM_FIGURE, figure_link
from prunebench.report.markdown import (
    MISSING,
    accuracy_text,
    mib_text,
    ms_text,
    p_clause,
    p_text,
    parse_timing_key,
    subject_title,
    table,
)
from prunebench.report.paper_tables import PAPER_TIME_KEYS
from prunebench.results.keys import ratio_key
from prunebench.results.readers import dig, median_of, percent
from prunebench.verdicts.claims import ALPHA, CLAIMS, MIN_POINTS, THRESHOLD_RATIO
from prunebench.verdicts.evidence import RANGE_TITLES, RANGES, baseline_step_1, for_method, methods_in
from prunebench.verdicts.expected import PROTOCOL_NOT_GATED
from prunebench.verdicts.paper import published_row
from prunebench.verdicts.stats import EXACT_P_MAX_POINTS, exact_spearman_p, holm, medians_by_ratio

# The subjects the summary shows per claim: the paper's own measures.
SUMMARY_SUBJECTS = {"a": ("size:step_3",), "b": ("accuracy:dense",),
                    "c": tuple(f"time:{key}" for key in PAPER_TIME_KEYS), "d": ("size:step_3",)}
VERDICTS = ("supported", "refuted", "inconclusive")

SCHEMA_1_NOTE = ("**Note:** these results are schema 1, written before per-image correctness and raw timing "
                 "rounds were kept. Claims (a) and (d) are judged anew from them; the equivalence verdicts of (b) "
                 "and (c) cannot be, and read inconclusive with that reason. Rerun the suite to judge them.")
LARGEST_CHANGE = ("The change shown is the one at the ratio whose 90% interval reaches furthest from no change "
                  "(named after \"at\"); the verdict needs every ratio's interval within the margin.")


def with_current_claims(results: dict) -> dict:
    """Results whose claims follow the current rules: older results (schema 1) are judged anew from their
    own data, against the expectations of their profile."""
    if results.get("schema_version", 1) >= 2:
        return results
    from prunebench.results import paths
    from prunebench.verdicts.claims import load_expectations
    from prunebench.verdicts.judging import evaluate_claims

    expectations = load_expectations(paths.expectations_file(results["profile"]["name"]))
    return {**results, "claims": evaluate_claims(results, expectations)}


def first_method(results: dict) -> dict:
    """The run as its report's claims and paper sections show it: the first method's models (the paper's
    one-shot where it ran, ``methods_in``) and the baselines, with that method's claims under the current rules."""
    method = methods_in(results)[0]
    results = with_current_claims(for_method(results, method))
    return {**results, "claims": [claim for claim in results["claims"] if claim.get("method", method) == method]}


# ---- numbers of a claim, for people --------------------------------------------------------------------

def claim_p(claim: dict) -> tuple[float | None, bool]:
    """(p of the claim's rank correlation, whether it is exact): exact from its stored points up to
    ``EXACT_P_MAX_POINTS`` of them, else the stored t approximation."""
    exact = exact_spearman_p(claim.get("x") or [], claim.get("y") or [])
    return (exact, True) if exact is not None else (claim.get("p"), False)


def p_cell(claim: dict) -> str:
    p, exact = claim_p(claim)
    return p_text(p) if exact or p is None else f"{p_text(p)} (t approx.)"


def family_key(claim: dict) -> tuple[str, str, str]:
    """The claims one Holm adjustment runs over: one claim and range of one method."""
    return claim.get("method", DEFAULT_METHOD), claim["id"], claim["range"]


def holm_by_family(claims: Sequence[dict]) -> list[float | None]:
    """Per claim, its ``claim_p`` Holm-adjusted over its family (``family_key``), as the verdicts adjust theirs."""
    adjusted: list[float | None] = [None] * len(claims)
    for family in dict.fromkeys(map(family_key, claims)):
        members = [index for index, claim in enumerate(claims) if family_key(claim) == family]
        for index, p in zip(members, holm([claim_p(claims[index])[0] for index in members])):
            adjusted[index] = p
    return adjusted


def basis_text(claim: dict, holm_p: float | None) -> str:
    """Why the verdict is what it is, in the report's units: a correlation with its exact Holm-adjusted p (and
    a warning where that p would not carry the verdict), a size reference in MiB; else the stored basis."""
    basis = claim.get("basis") or ""
    if claim["id"] == "a" and claim.get("rho") is not None and claim["n"] >= MIN_POINTS and holm_p is not None:
        text = f"rho = {claim['rho']:.2f}, Holm-adjusted {p_clause(holm_p)}" + (
            "" if claim_p(claim)[1] else " (t approx.)")
        if claim["verdict"] != "inconclusive" and holm_p >= ALPHA:
            text += f" (not significant at {ALPHA:g}: the stored t approximation carried this verdict)"
        return text
    reference = claim.get("reference")
    if reference is not None:
        basis = basis.replace(f"{reference:g}", f"{mib_text(reference)} MiB")
    return basis


def effect_text(claim: dict) -> str:
    """The claim's effect with its interval: rho with its p for (a), else the claim's own wording."""
    if claim["id"] == "a" and claim.get("rho") is not None:
        return f"rho {claim['rho']:.2f}, {p_clause(claim_p(claim)[0])}" + ("" if claim_p(claim)[1] else " (t approx.)")
    return CLAIMS[claim["id"]].effect_text(claim)


@dataclass
class Notes:
    """Texts many rows share, written once under a table and referred to by number."""

    texts: list[str] = field(default_factory=list)

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"

    def written(self) -> str:
        return "".join(f"\n[{number}] {text}\n" for number, text in enumerate(self.texts, 1))


def verdict_text(claim: dict | None, notes: Notes) -> str:
    """A verdict, with a note on why it is not gated; a run off its profile's protocol says so once, above."""
    if claim is None:
        return MISSING
    reason = claim.get("not_gated_because") or "no expectation recorded"
    gated = claim.get("gated", True) or reason.startswith(PROTOCOL_NOT_GATED)
    return f"**{claim['verdict']}**" + ("" if gated else f" (not gated {notes.mark('not gated: ' + reason)})")


def range_phrase(name: str) -> str:
    """A range as a sentence names it: over the paper's ratios, or beyond them."""
    return RANGE_TITLES[name] if name == "beyond" else f"over {RANGE_TITLES[name]}"


def tally(claims: Sequence[dict]) -> str:
    """How many subjects each verdict has, e.g. ``13 subjects: 12 supported, 1 refuted``."""
    verdicts = [claim["verdict"] for claim in claims]
    counts = ", ".join(f"{verdicts.count(verdict)} {verdict}" for verdict in VERDICTS if verdicts.count(verdict))
    return f"{len(verdicts)} subject{'' if len(verdicts) == 1 else 's'}: {counts}"


# ---- the opening: findings and summary -----------------------------------------------------------------

def header_lines(results: dict, methods: Sequence[str], models: int | None) -> str:
    """The title and what was run where; with several ``methods``, ``results`` is the first method's part and
    ``models`` the count over all of them."""
    margins = results.get("margins") or {}
    noise = (results.get("noise") or {}).get("machine")
    machine = results["machine"]
    lines = [
        "# prunebench report\n",
        f"Profile **{results['profile']['name']}**, "
        + (f"{models} models of {len(methods)} pruning methods (the claims and the paper's tables show "
           f"{methods[0]}'s {len(results['models'])})" if len(methods) > 1 else f"{len(results['models'])} models")
        + f", machine {machine.get('cpu')} ({machine.get('threads')} threads, GPUs: {machine.get('gpus') or 'none'})."
        + (f" Margins: accuracy ±{margins['accuracy'] * 100:g} pt, time ±{margins['time'] * 100:g}%."
           if margins else "")
        + (f" Timing noise of this run: median IQR/median {noise * 100:.1f}%." if noise is not None else "") + "\n",
    ]
    if results.get("schema_version", 1) < 2:
        lines.append(SCHEMA_1_NOTE + "\n")
    off_protocol = next((claim["not_gated_because"] for claim in results["claims"]
                         if (claim.get("not_gated_because") or "").startswith(PROTOCOL_NOT_GATED)), None)
    if off_protocol:
        lines.append(f"No verdict here is gated: the {off_protocol}.\n")
    return "\n".join(lines)


def claim_index(claims: Sequence[dict]) -> dict[tuple[str, str, str], dict]:
    return {(claim["id"], claim["range"], claim["subject"]): claim for claim in claims}


def verdicts_phrase(paper: dict | None, beyond: dict | None) -> str:
    """The verdict on one subject over each range, e.g. ``inconclusive over the paper's ratios (10-90%),
    supported beyond the paper``."""
    return ", ".join(f"{claim['verdict']} {range_phrase(claim['range'])}" for claim in (paper, beyond) if claim)


def size_finding(paper: dict | None, beyond: dict | None, claims: Sequence[dict]) -> str | None:
    """(a): how far the paper's checkpoint shrinks, and how many size subjects agree in each range."""
    if paper is None and beyond is None:
        return None
    found = [claim for claim in (paper, beyond) if claim]
    sizes = medians_by_ratio([x for claim in found for x in claim["x"]], [y for claim in found for y in claim["y"]])
    ratios = list(sizes)
    shrink = (f" The step_3 checkpoint goes from {mib_text(sizes[ratios[0]])} MiB at {percent(ratios[0])} to "
              f"{mib_text(sizes[ratios[-1]])} MiB at {percent(ratios[-1])}." if len(ratios) > 1 else "")
    agree = "; ".join(f"{range_phrase(claim['range'])}, "
                      f"{tally([other for other in claims if family_key(other) == family_key(claim)])}"
                      for claim in found)
    return (f"**(a) {CLAIMS['a'].short}:** {verdicts_phrase(paper, beyond)}.{shrink} Over every size subject "
            f"(storage formats): {agree}.")


def accuracy_finding(paper: dict | None, beyond: dict | None) -> str | None:
    """(b): the largest change of accuracy over each range, against the margin."""
    parts = [f"{claim['verdict']} {range_phrase(claim['range'])} (largest change "
             f"{CLAIMS['b'].effect_text(claim)}, margin {CLAIMS['b'].margin_text(claim)})"
             for claim in (paper, beyond) if claim is not None]
    return f"**(b) {CLAIMS['b'].short}:** " + "; ".join(parts) + "." if parts else None


def time_finding(index: dict, claims: Sequence[dict]) -> str | None:
    """(c): the paper's two networks, each as a factor of the unpruned time, and every engine's tally."""
    parts = []
    for key in PAPER_TIME_KEYS:
        claim = index.get(("c", "paper", f"time:{key}")) or index.get(("c", "beyond", f"time:{key}"))
        if claim is None or claim.get("effect") is None:
            continue
        factor, (low, high) = claim["effect"], claim["interval"]
        faster = f", {1 / factor:.1f}x faster" if high < 1 / (1 + claim["margin"]) else ""
        parts.append(f"{parse_timing_key(key)[0]} {claim['verdict']}, {factor:.3f}x the unpruned time at "
                     f"{percent(claim['effect_ratio'])} (90% CI {low:.3f}x to {high:.3f}x{faster})")
    if not parts:
        return None
    paper = [claim for claim in claims if claim["id"] == "c" and claim["range"] == "paper"]
    return (f"**(c) {CLAIMS['c'].short}:** at batch 32, " + "; ".join(parts)
            + (f". Over every engine and batch size on the paper's ratios, {tally(paper)}." if paper else "."))


def compression_finding(paper: dict | None, beyond: dict | None, results: dict) -> str | None:
    """(d): where the paper's checkpoint breaks even with the unpruned one."""
    if paper is None and beyond is None:
        return None
    reference = baseline_step_1(results)
    even = [claim["break_even"] for claim in (paper, beyond) if claim and claim.get("break_even") is not None]
    where = (f" The step_3 checkpoint is smaller than the unpruned {mib_text(reference)} MiB step_1 checkpoint from "
             f"{percent(min(even))} on." if even and reference is not None else "")
    return f"**(d) {CLAIMS['d'].short}:** {verdicts_phrase(paper, beyond)}.{where}"


def findings_section(results: dict) -> str:
    """A few sentences that say which claims hold and by how much, generated from the verdicts."""
    claims = results["claims"]
    if not claims:
        return "## Findings\n\nNo claims were evaluated in these results.\n"
    index = claim_index(claims)

    def pair(claim_id: str, subject: str) -> tuple[dict | None, dict | None]:
        return index.get((claim_id, "paper", subject)), index.get((claim_id, "beyond", subject))

    sentences = [size_finding(*pair("a", "size:step_3"), claims), accuracy_finding(*pair("b", "accuracy:dense")),
                 time_finding(index, claims), compression_finding(*pair("d", "size:step_3"), results)]
    return "## Findings\n\n" + "".join(f"- {sentence}\n" for sentence in sentences if sentence)


def summary_section(results: dict) -> str:
    """One screen: per claim and subject of the paper's, the verdicts over its ratios and beyond, the largest
    change with its interval, the margin and why."""
    claims = results["claims"]
    if not claims:
        return "## Summary: the paper's claims\n\nNo claims were evaluated in these results.\n"
    index, notes = claim_index(claims), Notes()
    adjusted = dict(zip(map(id, claims), holm_by_family(claims)))
    rows = []
    for claim_id, subjects in SUMMARY_SUBJECTS.items():
        for subject in subjects:
            paper, beyond = (index.get((claim_id, name, subject)) for name in RANGES)
            main = paper or beyond
            if main is None:
                continue
            rows.append([f"({claim_id}) {CLAIMS[claim_id].short}", subject_title(subject),
                         verdict_text(paper, notes), verdict_text(beyond, notes), effect_text(main),
                         CLAIMS[claim_id].margin_text(main), basis_text(main, adjusted[id(main)])])
    counts = [f"({claim_id}) {range_phrase(name)}, {tally(found)}" for claim_id in SUMMARY_SUBJECTS
              for name in RANGES if (found := [c for c in claims if c["id"] == claim_id and c["range"] == name])]
    return ("## Summary: the paper's claims\n\n"
            + table(["claim", "subject", f"over {RANGE_TITLES['paper']}", RANGE_TITLES["beyond"],
                     "largest change [90% CI] (the paper's ratios)", "margin", "why (the paper's ratios)"], rows)
            + notes.written() + f"\n{LARGEST_CHANGE}\n\nEvery subject (formats, engines, batch sizes) is in the "
            "appendix: " + "; ".join(counts) + ".\n")


# ---- a section per claim, beside its figure --------------------------------------------------------------

def verdict_lines(claims: Sequence[dict], claim_id: str, subject: str, adjusted: dict[int, float | None]) -> str:
    """Per range, the verdict on one subject and why."""
    lines = [f"- {range_phrase(claim['range'])}: **{claim['verdict']}**, "
             f"{basis_text(claim, adjusted[id(claim)])}"
             for claim in claims if claim["id"] == claim_id and claim["subject"] == subject]
    return "".join(line + "\n" for line in lines)


def per_ratio(claims: Sequence[dict], subject: str) -> dict[float, dict]:
    """The per-ratio effects and intervals of one subject over every range, by ratio."""
    return {ratio_key(row["ratio"]): row for claim in claims if claim["subject"] == subject
            for row in claim.get("per_ratio") or []}


def points_text(row: dict | None) -> str:
    """A per-ratio change of accuracy and its interval, in percentage points."""
    return MISSING if row is None else f"{row['effect'] * 100:+.2f} [{row['low'] * 100:+.2f}, {row['high'] * 100:+.2f}]"


def factor_text(row: dict | None) -> str:
    """A per-ratio time over the unpruned model's and its interval, as a factor."""
    return MISSING if row is None else f"{row['effect']:.3f}x [{row['low']:.3f}, {row['high']:.3f}]"


def size_claims_section(results: dict, groups: dict[float, list[dict]], adjusted: dict[int, float | None]) -> str:
    claims = results["claims"]
    reference = baseline_step_1(results)
    rows = []
    for ratio, models in groups.items():
        if ratio == 0:
            continue
        size = median_of(models, dig("sizes", "step_3"))
        row = published_row(results, ratio)
        rows.append([percent(ratio), mib_text(size), MISSING if row is None else f"{row.size_mib:g}",
                     MISSING if None in (size, reference) else ("smaller" if size < reference else "not smaller")])
    return (f"### (a) {CLAIMS['a'].short}; (d) {CLAIMS['d'].short}\n\n" + figure_link(SIZE_CLAIM_FIGURE)
            + "\nThe paper's file, the step_3 checkpoint, per ratio (MiB, median over seeds):\n\n"
            + table(["ratio", "measured", "the paper", f"vs the unpruned step_1 ({mib_text(reference)} MiB)"], rows)
            + f"\n(a), the step_3 checkpoint:\n\n{verdict_lines(claims, 'a', 'size:step_3', adjusted)}"
            + f"\n(d), threshold {percent(THRESHOLD_RATIO)}:\n\n{verdict_lines(claims, 'd', 'size:step_3', adjusted)}")


def accuracy_claim_section(results: dict, groups: dict[float, list[dict]], adjusted: dict[int, float | None]) -> str:
    claims = results["claims"]
    changes = per_ratio(claims, "accuracy:dense")
    rows = [[percent(ratio), accuracy_text(median_of(models, dig("accuracy", "dense"))),
             points_text(changes.get(ratio))] for ratio, models in groups.items()]
    return (f"### (b) {CLAIMS['b'].short}\n\n" + figure_link(ACCURACY_CLAIM_FIGURE)
            + "\nDense test accuracy per ratio (median over seeds) and its change from the unpruned model on the "
              "same images (pt, 90% CI):\n\n" + table(["ratio", "accuracy", "change [90% CI] (pt)"], rows)
            + "\n" + verdict_lines(claims, "b", "accuracy:dense", adjusted))


def time_claim_section(results: dict, groups: dict[float, list[dict]], adjusted: dict[int, float | None]) -> str:
    claims = results["claims"]
    keys = [key for key in PAPER_TIME_KEYS if any(claim["subject"] == f"time:{key}" for claim in claims)]
    changes = {key: per_ratio(claims, f"time:{key}") for key in keys}
    rows = [[percent(ratio), *[cell for key in keys for cell in (
                ms_text(median_of(models, dig("timings", key, "median_s"))), factor_text(changes[key].get(ratio)))]]
            for ratio, models in groups.items()]
    header = [title for key in keys for title in (f"{parse_timing_key(key)[0]} (ms)", "over unpruned [90% CI]")]
    verdicts = "".join(f"\n{parse_timing_key(key)[0]}:\n\n" + verdict_lines(claims, "c", f"time:{key}", adjusted)
                       for key in keys)
    return (f"### (c) {CLAIMS['c'].short}\n\n" + figure_link(TIME_CLAIM_FIGURE)
            + "\nThe figure shows every engine timed on the whole network; the table the paper's two networks at "
              "batch 32, CPU: median ms per batch, and the time over the unpruned model's (90% CI):\n\n"
            + (table(["ratio", *header], rows) if keys else "Not timed in this run.\n") + verdicts)


def claim_sections(results: dict, groups: dict[float, list[dict]]) -> str:
    """Each claim beside the figure it rests on, over the paper's subjects; the rest are in the appendix."""
    if not results["claims"]:
        return ""
    adjusted = dict(zip(map(id, results["claims"]), holm_by_family(results["claims"])))
    return "\n".join(["## The claims, one by one\n", size_claims_section(results, groups, adjusted),
                      accuracy_claim_section(results, groups, adjusted), time_claim_section(results, groups, adjusted)])


# ---- the appendix: every subject ---------------------------------------------------------------------------

def conclusions_appendix(results: dict) -> str:
    """Every claim on every subject over each range, with the statistics behind it; the texts rows share
    (expectations, why a verdict is not gated) as numbered notes under the table."""
    claims = results["claims"]
    title = "## Appendix: every subject\n\n"
    if not claims:
        return title + "No claims were evaluated in these results.\n"
    several = len({claim.get("method", DEFAULT_METHOD) for claim in claims}) > 1
    notes = Notes()
    rows = []
    for claim, holm_p in zip(claims, holm_by_family(claims)):
        rho = MISSING if claim["rho"] is None else f"{claim['rho']:.2f}" + (
            "" if claim["ci"] is None else f" [{claim['ci'][0]:.2f}, {claim['ci'][1]:.2f}]")
        expected = MISSING if claim["expected"] is None else claim["expected"] + (
            f" {notes.mark(claim['reason'])}" if claim["reason"] else "")
        rows.append([*([claim.get("method", DEFAULT_METHOD)] if several else []), f"({claim['id']})",
                     RANGE_TITLES[claim["range"]], subject_title(claim["subject"]), verdict_text(claim, notes),
                     CLAIMS[claim["id"]].effect_text(claim), rho, p_cell(claim), str(claim["n"]),
                     basis_text(claim, holm_p), expected])
    rules = sorted({(claim["id"], claim["rule"]) for claim in claims})
    margins = {CLAIMS[claim["id"]].margin_text(claim) for claim in claims} - {MISSING}
    return (title + "Every subject over each range. (a) and (d) are decided by the correlation and the reference "
            "size; (b) and (c) by equivalence tests"
            + (f" with margins {', '.join(sorted(margins))}" if margins else "")
            + ". Spearman's rho (with its bootstrap 95% CI where one exists) and its two-sided p are over the "
            f"pruned models (the baseline is not a point); p is exact, from all n! orderings, up to n = "
            f"{EXACT_P_MAX_POINTS}, else scipy's t approximation. {LARGEST_CHANGE}\n\n"
            + table([*(["method"] if several else []), "claim", "range", "subject", "verdict", "effect [90% CI]",
                     "rho [95% CI]", "p", "n", "why", "expected"], rows)
            + notes.written()
            + "\nRules: " + "; ".join(f"({claim_id}) {rule}" for claim_id, rule in rules) + ".\n")
