"""The paper's claims in the report: the one-screen summary that opens it and the conclusions table of every
subject, with each verdict's effect, margin and reason."""

from __future__ import annotations

from collections.abc import Sequence

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.report.markdown import MISSING, cell, table
from prunebench.report.paper_tables import PAPER_TIME_KEYS
from prunebench.verdicts.claims import CLAIMS
from prunebench.verdicts.evidence import RANGE_TITLES, RANGES
from prunebench.verdicts.expected import PROTOCOL_NOT_GATED

# The subjects the summary shows per claim: the paper's own measures.
SUMMARY_SUBJECTS = {"a": ("size:step_3",), "b": ("accuracy:dense",),
                    "c": tuple(f"time:{key}" for key in PAPER_TIME_KEYS), "d": ("size:step_3",)}


SCHEMA_1_NOTE = ("**Note:** these results are schema 1, written before per-image correctness and raw timing "
                 "rounds were kept. Claims (a) and (d) are judged anew from them; the equivalence verdicts of (b) "
                 "and (c) cannot be, and read inconclusive with that reason. Rerun the suite to judge them.")


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


def verdict_text(claim: dict | None) -> str:
    """A verdict, with why it is not gated; a run off its profile's protocol says so once, above the table."""
    if claim is None:
        return MISSING
    reason = claim.get("not_gated_because") or "no expectation recorded"
    gate = "" if claim.get("gated", True) or reason.startswith(PROTOCOL_NOT_GATED) else f" (not gated: {reason})"
    return f"**{claim['verdict']}**{gate}"


def summary_section(results: dict, methods: Sequence[str] = (), models: int | None = None) -> str:
    """One screen first: per claim, the paper's statement, the verdicts over its range and beyond, the
    effect with its interval, the margin and the reason. With several ``methods``, ``results`` is the first
    method's part and ``models`` the count over all of them."""
    claims = results["claims"]
    margins = results.get("margins") or {}
    noise = (results.get("noise") or {}).get("machine")
    head = [
        "# prunebench report\n",
        f"Profile **{results['profile']['name']}**, "
        + (f"{models} models of {len(methods)} pruning methods (this summary and the paper's tables show "
           f"{methods[0]}'s {len(results['models'])})" if len(methods) > 1 else f"{len(results['models'])} models")
        + f", machine {results['machine'].get('cpu')}"
        f" ({results['machine'].get('threads')} threads, GPUs: {results['machine'].get('gpus') or 'none'})."
        + (f" Margins: accuracy ±{margins['accuracy'] * 100:g} pt, time ±{margins['time'] * 100:g}%."
           if margins else "")
        + (f" Timing noise of this run: median IQR/median {noise * 100:.1f}%." if noise is not None else "") + "\n",
    ]
    if results.get("schema_version", 1) < 2:
        head.append(SCHEMA_1_NOTE + "\n")
    off_protocol = next((claim["not_gated_because"] for claim in claims
                         if (claim.get("not_gated_because") or "").startswith(PROTOCOL_NOT_GATED)), None)
    if off_protocol:
        head.append(f"No verdict here is gated: the {off_protocol}.\n")
    if not claims:
        return "\n".join(head) + "\nNo claims were evaluated in these results.\n"
    by_key = {(claim["id"], claim["range"], claim["subject"]): claim for claim in claims}
    rows = []
    for claim_id, subjects in SUMMARY_SUBJECTS.items():
        for subject in subjects:
            paper, beyond = (by_key.get((claim_id, name, subject)) for name in RANGES)
            main = paper or beyond
            if main is None:
                continue
            rows.append([f"({claim_id}) {CLAIMS[claim_id].short}", f"`{subject}`", verdict_text(paper),
                         verdict_text(beyond), CLAIMS[main["id"]].effect_text(main),
                         CLAIMS[main["id"]].margin_text(main), main.get("basis", "")])
    counts = []
    for claim_id in SUMMARY_SUBJECTS:
        for name in RANGES:
            verdicts = [claim["verdict"] for claim in claims if claim["id"] == claim_id and claim["range"] == name]
            if verdicts:
                tally = ", ".join(f"{verdicts.count(v)} {v}" for v in ("supported", "refuted", "inconclusive")
                                  if verdicts.count(v))
                counts.append(f"({claim_id}) over {RANGE_TITLES[name]}: {len(verdicts)} subjects, {tally}")
    return ("\n".join(head) + "\n## Summary: the paper's claims\n\n"
            + table(["claim", "subject", f"over {RANGE_TITLES['paper']}", RANGE_TITLES["beyond"],
                     "effect [90% CI] (paper's range)", "margin", "reason (paper's range)"], rows)
            + "\nEvery subject (formats, engines, batch sizes) is in the conclusions table below: "
            + "; ".join(counts) + ".\n")


def conclusions_section(results: dict) -> str:
    claims = results["claims"]
    if not claims:
        return "## Conclusions\n\nNo claims were evaluated in these results.\n"
    several = len({claim.get("method", DEFAULT_METHOD) for claim in claims}) > 1
    rows = [[*([claim.get("method", DEFAULT_METHOD)] if several else []),
             f"({claim['id']})", RANGE_TITLES[claim["range"]], f"`{claim['subject']}`", verdict_text(claim),
             CLAIMS[claim["id"]].effect_text(claim), CLAIMS[claim["id"]].margin_text(claim), cell(claim["rho"], ".3f"),
             MISSING if claim["ci"] is None else f"[{claim['ci'][0]:.3f}, {claim['ci'][1]:.3f}]",
             cell(claim["p"], ".3g"), str(claim["n"]), claim.get("basis", ""),
             claim["expected"] or MISSING, claim["reason"] or MISSING]
            for claim in claims]
    rules = sorted({(claim["id"], claim["rule"]) for claim in claims})
    return ("## Conclusions\n\nEvery subject over each range. (a) and (d) are decided by the correlation and the "
            "reference size; (b) and (c) by equivalence tests with the stated margins, with Spearman rho, its 95% "
            "CI and p (over the pruned models; the baseline is not a point) shown for description.\n\n"
            + table([*(["method"] if several else []), "claim", "range", "subject", "verdict", "effect [90% CI]",
                     "margin", "rho", "95% CI", "p", "n", "basis", "expected", "reason"], rows)
            + "\nRules: " + "; ".join(f"({claim_id}) {rule}" for claim_id, rule in rules) + ".\n")
