"""The comparison as text or markdown: one list of sections (title, paragraphs, table) rendered either way.

The report dict (``command.compare``) holds every number; this only chooses what a reader sees first. Long
tables of relative times show, without ``--show all``, the ``MAX_ROWS`` largest changes: what moved matters,
the full list is in ``--format json``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from prunebench.compare.claims import claim_name, effect_text
from prunebench.compare.compression import value_text
from prunebench.compare.stats import MIN_BASELINE_RUNS
from prunebench.prune.methods import DEFAULT_METHOD

DETECTABLE_CAP = 1000.0  # a detectable slowdown above this is shown as '>x1000'
MAX_ROWS = 20  # rows of a relative-time table shown without --show all (largest changes first)

Table = tuple[list[str], list[list[str]]]
Section = tuple[str, list[str], Table | None]


def render_text(report: dict, show_all: bool = False) -> str:
    out = []
    for title, paragraphs, table in _sections(report, show_all):
        out += [title, "=" * len(title) if title == "prunebench compare" else "-" * len(title), *paragraphs]
        if table:
            header, rows = table
            widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
            out.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
            out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        out.append("")
    return "\n".join(out)


def render_markdown(report: dict, show_all: bool = False) -> str:
    out = []
    for index, (title, paragraphs, table) in enumerate(_sections(report, show_all)):
        out.append(("## " if index == 0 else "### ") + title + "\n")
        if title == "Result" and report["failures"]:
            out += [paragraphs[0] + "\n", "```", *paragraphs[1:], "```", ""]
            continue
        out += [paragraph.replace("|", "\\|") + "\n" for paragraph in paragraphs]
        if table:
            header, rows = table
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
            out.append("")
    return "\n".join(out)


def _sections(report: dict, show_all: bool) -> list[Section]:
    """(title, paragraphs, table or None) in order; rendered as text or markdown."""
    return [_heading(report), _compression(report), _claims(report), *_timings(report, show_all),
            _speedups(report, show_all), _crossovers(report), _bandwidth(report, show_all), _result(report)]


def _machine(side: dict) -> str:
    return f"{side['cpu']}, " + (", ".join(side["gpus"]) if side["gpus"] else "no GPU")


def _heading(report: dict) -> Section:
    def run(side: dict) -> str:
        return (f"{side['path']} ({side['profile']} profile, {side['created']}, {_machine(side)}, "
                f"TF {side['tensorflow']})")

    return ("prunebench compare", [f"base: {run(report['base'])}", f"new:  {run(report['new'])}",
                                   f"fails on: {', '.join(report['settings']['fail_on']) or 'nothing'}"], None)


def _compression(report: dict) -> Section:
    comp = report["compression"]
    # A method column only when a changed model is of another method than the paper's (baselines have none).
    by_method = any(item["method"] not in (None, DEFAULT_METHOD) for item in comp["changes"])
    rows = [[*([item["method"] or ""] if by_method else []), f"{item['ratio']:g}",
             "" if item["seed"] is None else str(item["seed"]), item["measure"],
             value_text(item["base"]), value_text(item["new"])] for item in comp["changes"]]
    methods = comp["methods"]
    of_methods = f" ({len(methods)} pruning methods: {', '.join(methods)})" if len(methods) > 1 else ""
    return ("Compression (deterministic measures, compared exactly)", [
        f"{comp['compared']} measures of {comp['models']} models{of_methods} compared "
        f"(accuracy to {comp['accuracy_tolerance_images']} of {comp['eval_images']} test images): "
        + (f"{len(comp['changes'])} changed" if comp["changes"] else "no change"), *comp["notes"]],
        ([*(["method"] if by_method else []), "ratio", "seed", "measure", "base", "new"], rows) if rows else None)


def _claims(report: dict) -> Section:
    claims = report["claims"]
    rows = [[claim_name(item["id"], item["subject"], item["range"], item["method"]), item["base"]["verdict"],
             item["new"]["verdict"], effect_text(item["base"]), effect_text(item["new"])] for item in claims["changes"]]
    changed = f"{len(claims['changes'])} verdicts changed" if claims["changes"] else "no verdict changed"
    return ("Claims", [f"{claims['compared']} claims matched by id, subject, range and method: {changed}",
                       *claims["notes"]],
            (["claim", "base", "new", "base effect [95% CI]", "new effect [95% CI]"], rows) if rows else None)


def _timings(report: dict, show_all: bool) -> list[Section]:
    if report["timings"] is None:
        return [("Timings", [
            f"Absolute times were not compared: the machine classes differ ({_machine(report['base'])} vs "
            f"{_machine(report['new'])}). Only quantities that carry over between machines follow: speedups over "
            "tf-dense, FC1 crossovers and time relative to the measured bandwidth. No time verdict is given."], None)]
    return [_families(report), _benchmarks(report["timings"], show_all)]


def _families(report: dict) -> Section:
    timings = report["timings"]
    runs, counts, pairs = timings["baseline_runs"], timings["family_counts"], timings.get("interleaved_pairs")
    adjust = "Holm-adjusted " if timings["p_adjust"] == "holm" else ""
    paragraphs = [
        f"Same machine class: {len(timings['benchmarks'])} benchmarks in {len(timings['families'])} families "
        f"(engine/device/scope/batch), "
        + (f"over {pairs} interleaved pairs of runs (base, new, base, new, ...; made back to back)." if pairs else
           f"against {runs} baseline run{'s' if runs != 1 else ''}"
           + (f" ({', '.join(report['history'])} and base)" if report.get("history") else "") + ".")]
    tally = (f"families: slower {counts['slower']}, faster {counts['faster']}, unchanged {counts['unchanged']}, "
             f"not judged {counts['not judged']}")
    gates = f"{adjust}p < {timings['alpha']}, and beyond x{timings['factor']:.2f}"
    if pairs:
        paragraphs.append(
            f"{tally} (rule: each pair's shift of the family, new against its base, paired t over the pairs with "
            f"{pairs - 1} df, {gates}; 'spread' is the pairs' spread of the shift, 'detectable' the smallest "
            "slowdown these pairs could flag).")
    elif runs < MIN_BASELINE_RUNS:
        paragraphs.append(
            "Time not judged: one baseline run cannot tell a change of the code from a shift of the run (whole "
            "engines move together between runs on shared machines). Give two or more baselines of this machine "
            "class: BASE... NEW, or --against latest with --history N.")
    else:
        paragraphs.append(
            f"{tally} (rule: the new run's shift of each family against the baseline runs' spread of it, t with "
            f"{runs - 1} df, {gates}; 'detectable' is the smallest slowdown these baselines could flag).")
    if timings.get("noisy_run"):
        paragraphs.append(timings["noisy_run"][0].upper() + timings["noisy_run"][1:] + ".")
    if report.get("history_dropped"):
        paragraphs.append(f"baselines of another machine class left out: {', '.join(report['history_dropped'])}")
    rounds = timings["raw_rounds"]
    paragraphs.append(f"raw rounds: base {rounds['base'] or 'none'}; new {rounds['new'] or 'none'}")
    if any(timings["only_in"].values()):
        paragraphs.append(f"benchmarks only in base: {timings['only_in']['base']}, "
                          f"only in new: {timings['only_in']['new']}")
    rows = [[family["family"], str(family["benchmarks"]), _times(family["factor"]), _times(family["spread"]),
             "n/a" if family["t"] is None else f"{family['t']:.2f}", _p(family["p_adjusted"]),
             _detectable(family["detectable_factor"]), family["verdict"]] for family in timings["families"]]
    header = ["family", "benchmarks", "shift", "spread", "t", "p adj", "detectable", "verdict"]
    return (f"Timings ({'interleaved pairs' if pairs else 'between runs'}, per family)", paragraphs,
            (header, rows) if rows else None)


def _benchmarks(timings: dict, show_all: bool) -> Section:
    adjust = "Holm-adjusted " if timings["p_adjust"] == "holm" else ""
    shown = [row for row in timings["benchmarks"] if show_all or row["verdict"] in ("slower", "faster")]
    shown, hidden = _limit(shown, "factor", show_all)
    notes = [f"{len(shown)} benchmarks shown" + (" (all)" if show_all else " (those of a changed family that moved "
             "beyond the factor themselves)") + f"; p is the within-run Mann-Whitney U on the raw rounds, {adjust}"
             "a description that gates nothing."]
    if hidden:
        notes.append(f"{hidden} more not shown (--show all, or --format json)")
    rows = [[row["benchmark"], _ms(row["base_median_s"]), _ms(row["new_median_s"]), _times(row["factor"]),
             _p(row["p_adjusted"]), f"{row['rounds'][0]}/{row['rounds'][1]}", row["verdict"]] for row in shown]
    header = ["benchmark", "base ms", "new ms", "factor", "within-run p adj", "rounds", "verdict"]
    return ("Timings per benchmark (against base)", notes, (header, rows) if rows else None)


def _relative_table(rows: list[dict], factor: float, show_all: bool, header: list[str],
                    cells: Callable[[dict], list[str]]) -> tuple[str, list[str], Table | None]:
    """A table of relative times (speedups, time x bandwidth): how many rows moved beyond ``factor``, a note
    on the rows not shown, and the table: every row with --show all, else the moved ones, largest first
    (``MAX_ROWS`` of them). ``cells`` gives a row's base and new values, under ``header``."""
    moved = [row for row in rows if row["beyond_factor"]]
    shown, hidden = _limit(rows if show_all else moved, "change", show_all)
    summary = f"{len(moved)} moved beyond x{factor:.2f}" if moved else f"none moved beyond x{factor:.2f}"
    more = [f"the {MAX_ROWS} largest changes shown; {hidden} more with --show all or --format json"] if hidden else []
    table = [[row["benchmark"], *cells(row), f"{row['change']:.3f}"] for row in shown]
    return summary, more, (["benchmark", *header, "change"], table) if table else None


def _speedups(report: dict, show_all: bool) -> Section:
    speed = report["speedups"]
    summary, more, table = _relative_table(
        speed["rows"], report["settings"]["factor"], show_all, ["base speedup", "new speedup"],
        lambda row: [f"{row['base_speedup']:.3g}x", f"{row['new_speedup']:.3g}x"])
    paragraphs = [f"{len(speed['rows'])} engine timings relative to tf-dense of the same run: {summary}"]
    if speed["rows"]:
        widest = max(speed["rows"], key=lambda row: abs(_log(row["change"])))
        paragraphs.append(f"largest change: {widest['benchmark']} speedup {widest['base_speedup']:.3g}x -> "
                          f"{widest['new_speedup']:.3g}x (x{widest['change']:.3f})")
    paragraphs += more
    if speed["missing_reference"]:
        paragraphs.append(f"{speed['missing_reference']} timings have no tf-dense reference in both runs")
    return "Speedup over tf-dense (same run, ratio, batch and scope)", paragraphs, table


def _crossovers(report: dict) -> Section:
    rows = [[row["device"], row["batch"], row["engine"], _crossing(row["base"]), _crossing(row["new"]),
             "changed" if row["changed"] else ""] for row in report["crossovers"]]
    return ("FC1 crossover (smallest ratio from which the sparse engine is at least as fast as the best dense engine)",
            [] if rows else ["no FC1 timings in both runs"],
            (["device", "batch", "engine", "base", "new", ""], rows) if rows else None)


def _bandwidth(report: dict, show_all: bool) -> Section:
    band = report["bandwidth"]
    if band["note"]:
        return "Time x measured bandwidth", [band["note"]], None
    summary, more, table = _relative_table(
        band["rows"], report["settings"]["factor"], show_all, ["base MB", "new MB"],
        lambda row: [f"{row['base_bytes'] / 1e6:.4g}", f"{row['new_bytes'] / 1e6:.4g}"])
    changes = [row["change"] for row in band["rows"] if row["change"]]
    base, new = band["bandwidth_bytes_per_s"]
    paragraph = (f"bandwidth {base / 1e9:.3g} GB/s (base), {new / 1e9:.3g} GB/s (new); {len(band['rows'])} timings: "
                 + summary + (f"; median change x{statistics.median(changes):.3f}" if changes else ""))
    return "Time x measured bandwidth (MB the machine could read meanwhile)", [paragraph, *more], table


def _result(report: dict) -> Section:
    if report["failures"]:
        return "Result", [f"FAILED: {len(report['failures'])} failing items", *report["failures"]], None
    fail_on = ", ".join(report["settings"]["fail_on"]) or "nothing"
    return "Result", [f"PASSED: nothing that fails on {fail_on} changed"], None


def _limit(rows: list[dict], field: str, show_all: bool) -> tuple[list[dict], int]:
    """Without --show all, the MAX_ROWS rows whose ``field`` (a ratio) is farthest from 1, in table order."""
    if show_all or len(rows) <= MAX_ROWS:
        return rows, 0
    keep = {id(row) for row in sorted(rows, key=lambda row: -abs(_log(row[field])))[:MAX_ROWS]}
    return [row for row in rows if id(row) in keep], len(rows) - MAX_ROWS


def _log(value: float | None) -> float:
    return 0.0 if not value or value <= 0 else math.log(value)


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"x{value:.3f}"


def _detectable(value: float | None) -> str:
    """The smallest detectable slowdown; beyond x1000 the baselines are too noisy for the number to matter."""
    return f">x{DETECTABLE_CAP:.0f}" if value is not None and value > DETECTABLE_CAP else _times(value)


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.4g}"


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def _crossing(ratio: float | None) -> str:
    return "never" if ratio is None else f"{ratio:g}"
