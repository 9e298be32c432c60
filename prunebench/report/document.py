"""Markdown report and figures from a results dict alone (never from models or caches).

Reading only the results dict means a report can be rebuilt from a results.json kept from any run, and
that every number in it was measured in that run. The paper's published values (prunebench.verdicts.paper) are
shown beside ours; where the paper's text gives none (accuracy and time are in table images), the report
says so instead of filling a number in.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)

from prunebench.results import atomic  # noqa: E402
from prunebench.results.keys import (
    TimingKey,  # noqa: E402
    ratio_key,
)
from prunebench.verdicts.claims import (  # noqa: E402
    PROTOCOL_NOT_GATED,
    RANGE_TITLES,
    RANGES,
    baseline_step_1,
    for_method,
    method_of,
    methods_in,
    onset,
)
from prunebench.verdicts.paper import CLAIM_SHORT, FC_TOTALS, MIB, ORIGINAL_SIZE_MIB, PAPER_RATIOS, paper_row  # noqa: E402
from prunebench.verdicts.stats import crossover

# The paper's two networks at its evaluation batch size: its dense and its sparse prediction time.
PAPER_TIME_KEYS = tuple(str(TimingKey(engine, "cpu", "network", 32)) for engine in ("tf-dense", "tf-sparse"))
# The subjects the summary shows per claim: the paper's own measures.
SUMMARY_SUBJECTS = {"a": ("size:step_3",), "b": ("accuracy:dense",),
                    "c": tuple(f"time:{key}" for key in PAPER_TIME_KEYS), "d": ("size:step_3",)}
MISSING = "—"
IMAGE_ONLY = "(table image only)"
NO_TIMINGS = "No timings in these results (benchmarks disabled or skipped)."
FIGURES = ("fig5_size.png", "fig6_accuracy.png", "fig7_time.png", "formats_size.png", "engines_time.png")
METHODS_FIGURE = "methods_frontier.png"  # only when the results hold a method besides the paper's one-shot

Getter = Callable[[dict], Any]


# ---- reading the results dict -------------------------------------------------------------------------

def models_by_ratio(results: dict) -> dict[float, list[dict]]:
    """The models grouped by ratio (all seeds together), in increasing ratio."""
    groups: dict[float, list[dict]] = {}
    for model in results["models"]:
        groups.setdefault(ratio_key(model["ratio"]), []).append(model)
    return dict(sorted(groups.items()))


def median_of(models: Iterable[dict], get: Getter) -> float | None:
    """Median over seeds of ``get(model)``, ignoring models that did not measure it."""
    values = [value for value in map(get, models) if value is not None]
    return float(statistics.median(values)) if values else None


def dig(*keys: str) -> Getter:
    """A getter for a nested value, None where any level is missing or None."""
    def get(model: dict) -> Any:
        value: Any = model
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value
    return get


def parse_timing_key(key: str) -> tuple[str, str, str, str]:
    """``<engine>/<device>/<scope>/batch=<n>`` → (engine, device, scope, batch as text)."""
    parsed = TimingKey.parse(key)
    return parsed.engine, parsed.device, parsed.scope, str(parsed.batch)


def engine_sparsity(results: dict) -> dict[str, bool]:
    """Whether each engine exploits sparsity, as the engine registry recorded it in the results (older
    results, which did not record it, ask the registry itself)."""
    recorded = results.get("engines")
    if recorded:
        return {name: bool(entry["sparse"]) for name, entry in recorded.items()}
    from prunebench.model.engines import ENGINES

    return {name: engine.sparse for name, engine in ENGINES.items()}


def timing_keys(groups: dict[float, list[dict]]) -> list[str]:
    return sorted({key for models in groups.values() for model in models for key in model["timings"]})


def fc1_groups(results: dict) -> dict[float, list[dict]]:
    """FC1 timings live beside the models (FC1 is timed on the baseline's kernel pruned at its own ratios)."""
    return {float(entry["ratio"]): [entry] for entry in sorted(results.get("fc1", []), key=lambda e: e["ratio"])}


# ---- markdown helpers ---------------------------------------------------------------------------------

def cell(value: float | None, spec: str = ".4g") -> str:
    return MISSING if value is None else format(value, spec)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def percent(ratio: float) -> str:
    return f"{ratio * 100:g}%"


def identity(value: Any) -> Any:
    return value


def mib(value: float | None) -> float | None:
    return None if value is None else value / MIB


def ms(value: float | None) -> float | None:
    return None if value is None else value * 1e3


# ---- sections -----------------------------------------------------------------------------------------

def header_section(results: dict) -> str:
    profile, machine = results["profile"], results["machine"]
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in results["phases"].items())
    return (
        "## The run\n\n"
        f"Created {results['created']}. Profile **{profile['name']}**: "
        + ", ".join(f"{key} = {value}" for key, value in sorted(profile.items()) if key != "name") + ".\n\n"
        f"Machine: {machine.get('cpu')}, {machine.get('threads')} threads, GPUs: {machine.get('gpus') or 'none'}; "
        f"TensorFlow {machine.get('tensorflow')}, Python {machine.get('python')}.\n\n"
        f"Phase wall times: {phases or MISSING}.\n\n"
        "Measured values are medians over seeds; [min–max] over seeds is given when there are several. "
        f"The paper's accuracy and time columns exist only as table images, shown here as {IMAGE_ONLY}.\n"
    )


def with_spread(models: list[dict], get: Getter, spec: str, scale: Callable = identity) -> str:
    """Median over seeds, with the [min–max] range when the seeds differ."""
    values = [scale(value) for value in map(get, models) if value is not None]
    if not values:
        return MISSING
    text = format(statistics.median(values), spec)
    if len(values) > 1 and min(values) != max(values):
        text += f" [{min(values):{spec}}–{max(values):{spec}}]"
    return text


def ratio_section(ratio: float, models: list[dict], baseline: list[dict]) -> str:
    """One of Tables 4–9 (or an extra ratio): per-variable thresholds and counts, then size, accuracy, time."""
    paper = paper_row(ratio)
    title = (f"### Table {paper.table}: pruning ratio {percent(ratio)} (paper §{paper.section})" if paper
             else f"### Pruning ratio {percent(ratio)} (not in the paper)")
    if not models:
        return f"{title}\n\nNot measured in this run.\n"

    def published(values: dict[str, Any] | None, name: str) -> str:
        return str(values[name]) if values and name in values else MISSING

    names = sorted({name for model in models for name in model["variables"]} | set(paper.thresholds if paper else ()))
    variable_rows = [[name,
                      with_spread(models, dig("variables", name, "threshold"), ".9g"),
                      published(paper and paper.thresholds, name),
                      with_spread(models, dig("variables", name, "total"), ".0f"),
                      published(paper and FC_TOTALS, name),
                      with_spread(models, dig("variables", name, "nonzero"), ".0f"),
                      published(paper and paper.nonzero, name)]
                     for name in names]

    def measure_row(label: str, original: Getter, pruned: Getter, spec: str, scale: Callable,
                    paper_original: str, paper_pruned: str) -> list[str]:
        return [label, with_spread(baseline, original, spec, scale), paper_original,
                with_spread(models, pruned, spec, scale), paper_pruned]

    image = IMAGE_ONLY if paper else MISSING
    measure_rows = [
        measure_row("model size (MiB): original step_1, pruned step_3", dig("sizes", "step_1"),
                    dig("sizes", "step_3"), ".3g", mib, f"{ORIGINAL_SIZE_MIB:g}",
                    f"{paper.size_mib:g}" if paper else MISSING),
        *[measure_row(f"accuracy, {kind}", dig("accuracy", kind), dig("accuracy", kind), ".4f", identity,
                      image, image) for kind in ("dense", "sparse")],
        *[measure_row(f"time {key} (ms)", dig("timings", key, "median_s"), dig("timings", key, "median_s"),
                      ".3g", ms, image, image) for key in PAPER_TIME_KEYS],
    ]
    return (f"{title}\n\n{len(models)} seed(s).\n\n"
            + table(["variable", "threshold", "paper threshold", "total", "paper total", "nonzero",
                     "paper nonzero"], variable_rows) + "\n"
            + table(["measure", "original (measured)", "original (paper)", f"pruned {percent(ratio)} (measured)",
                     f"pruned {percent(ratio)} (paper)"], measure_rows))


SCHEMA_1_NOTE = ("**Note:** these results are schema 1, written before per-image correctness and raw timing "
                 "rounds were kept. Claims (a) and (d) are judged anew from them; the equivalence verdicts of (b) "
                 "and (c) cannot be, and read inconclusive with that reason. Rerun the suite to judge them.")


def with_current_claims(results: dict) -> dict:
    """Results whose claims follow the current rules: older results (schema 1) are judged anew from their
    own data, against the expectations of their profile."""
    if results.get("schema_version", 1) >= 2:
        return results
    from prunebench.results import paths
    from prunebench.verdicts.claims import evaluate_claims, load_expectations

    expectations = load_expectations(paths.expectations_file(results["profile"]["name"]))
    return {**results, "claims": evaluate_claims(results, expectations)}


def effect_text(claim: dict) -> str:
    """A claim's effect with its interval, in the claim's own unit."""
    if claim["id"] == "d":
        return MISSING if claim.get("break_even") is None else f"break-even at {percent(claim['break_even'])}"
    if claim["id"] == "a":
        return MISSING if claim["rho"] is None else f"rho {claim['rho']:.2f}"
    if claim.get("effect") is None:
        return MISSING
    low, high = claim["interval"]
    at = f" at {percent(claim['effect_ratio'])}"
    if claim["id"] == "b":
        return f"{claim['effect'] * 100:+.2f} pt [{low * 100:+.2f}, {high * 100:+.2f}]{at}"
    noise = "" if claim.get("noise") is None else f"; rounds' IQR/median {claim['noise'] * 100:.1f}%"
    return f"{claim['effect']:.3f}x [{low:.3f}, {high:.3f}]{at}{noise}"


def margin_text(claim: dict) -> str:
    if "margin" not in claim:
        return MISSING
    return f"±{claim['margin'] * 100:g} pt" if claim["id"] == "b" else f"±{claim['margin'] * 100:g}%"


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
        + (f" Margins: accuracy ±{margins['accuracy'] * 100:g} pt, time ±{margins['time'] * 100:g}%." if margins else "")
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
            rows.append([f"({claim_id}) {CLAIM_SHORT[claim_id]}", f"`{subject}`", verdict_text(paper), verdict_text(beyond),
                         effect_text(main), margin_text(main), main.get("basis", "")])
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
    several = len({claim.get("method", "oneshot") for claim in claims}) > 1
    rows = [[*([claim.get("method", "oneshot")] if several else []),
             f"({claim['id']})", RANGE_TITLES[claim["range"]], f"`{claim['subject']}`", verdict_text(claim),
             effect_text(claim), margin_text(claim), cell(claim["rho"], ".3f"),
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


def goals_section(results: dict) -> str:
    """The project's own targets beyond the paper, each met or with its gap, measured from these results."""
    from prunebench.verdicts.goals import goals_table  # goals reads the results through this module's helpers

    return ("## Goals beyond the paper\n\nTargets this project set (prunebench/verdicts/goals.py), measured from these "
            "results over every method and seed; FC1 is timed in every profile. A goal the committed runs meet is "
            "gated at its measured level less a margin for noise (bench/test_goals.py), on runs that measure it "
            "under the same conditions.\n\n" + goals_table(results))


def size_series(results: dict) -> dict[str, Getter]:
    """Every stored size of the whole model by name: the checkpoint, each format, the entropy bound."""
    formats = sorted({fmt for model in results["models"] for fmt in model["formats"]})
    series = {"step_3 checkpoint": dig("sizes", "step_3")}
    series.update({fmt: dig("formats", fmt, "model_bytes") for fmt in formats})
    for kind in ("dense", "sparse"):  # LiteRT deployment files, when measured
        if any(model["sizes"].get(f"tflite_{kind}") for model in results["models"]):
            series[f"tflite-{kind} file"] = dig("sizes", f"tflite_{kind}")
    series["entropy bound"] = dig("entropy_bound", "model_bytes")
    return series


def formats_section(results: dict, groups: dict[float, list[dict]]) -> str:
    formats = sorted({fmt for model in results["models"] for fmt in model["formats"]})
    if not formats:
        return "## Storage formats\n\nNo storage formats were measured in these results.\n"
    columns = {"dense float32 weights": dig("sizes", "weights_dense"), **size_series(results)}
    model_rows = [[percent(ratio), *[cell(median_of(models, get), ".0f") for get in columns.values()]]
                  for ratio, models in groups.items()]
    pruned = {**{fmt: dig("formats", fmt, "pruned_bytes") for fmt in formats},
              "entropy bound": dig("entropy_bound", "pruned_bytes")}
    pruned_rows = [[percent(ratio), *[cell(median_of(models, get), ".0f") for get in pruned.values()]]
                   for ratio, models in groups.items()]
    baseline = groups.get(0.0, [])
    references = {"baseline dense float32 weights": median_of(baseline, dig("sizes", "weights_dense")),
                  "baseline step_1 checkpoint (paper's original)": baseline_step_1(results)}
    pruned_ratios = [ratio for ratio in groups if ratio > 0]
    break_even_rows = []
    for name, get in size_series(results).items():
        sizes = [median_of(groups[ratio], get) for ratio in pruned_ratios]
        row = [name]
        for reference in references.values():
            measured = [(ratio, size) for ratio, size in zip(pruned_ratios, sizes) if size is not None]
            start = None if reference is None else onset([r for r, _ in measured], [s < reference for _, s in measured])
            row.append(MISSING if reference is None or not measured else
                       percent(start) if start is not None else "never (within measured ratios)")
        break_even_rows.append(row)
    return ("## Storage formats\n\nWhole-model bytes (median over seeds):\n\n"
            + table(["ratio", *columns], model_rows)
            + "\nBytes of the pruned variables alone:\n\n" + table(["ratio", *pruned], pruned_rows)
            + "\nBreak-even: smallest ratio from which the whole model is smaller than the reference "
            + "(" + ", ".join(f"{name} = {cell(size, '.0f')} bytes" for name, size in references.items()) + "):\n\n"
            + table(["size", *[f"vs {name}" for name in references]], break_even_rows))


def timing_groups(groups: dict[float, list[dict]]) -> dict[tuple[str, str, str], list[str]]:
    """Timing keys grouped by (device, scope, batch): the engines that can be compared with each other."""
    comparable: dict[tuple[str, str, str], list[str]] = {}
    for key in timing_keys(groups):
        engine, device, scope, batch = parse_timing_key(key)
        comparable.setdefault((device, scope, batch), []).append(key)
    return comparable


def engine_medians(groups: dict[float, list[dict]], keys: list[str]) -> dict[str, list[float | None]]:
    """Per engine, its median time at each ratio (seconds)."""
    return {parse_timing_key(key)[0]: [median_of(models, dig("timings", key, "median_s")) for models in groups.values()]
            for key in keys}


def engines_section(groups: dict[float, list[dict]], sparse: dict[str, bool], title: str, what: str) -> str:
    timing = timing_groups(groups)
    if not timing:
        return f"## {title}\n\n{NO_TIMINGS}\n"
    ratios = list(groups)
    parts = [f"## {title}\n\n{what} Median time per call (ms, median over seeds). Crossover: smallest ratio "
             "from which a sparse engine is at least as fast as the best dense engine at every larger ratio.\n"]
    for (device, scope, batch), keys in timing.items():
        medians = engine_medians(groups, keys)
        rows = [[percent(ratio), *[cell(ms(times[i]), ".3g") for times in medians.values()]]
                for i, ratio in enumerate(ratios)]
        dense = [times for engine, times in medians.items() if not sparse[engine]]
        best_dense = [min((t[i] for t in dense if t[i] is not None), default=None) for i in range(len(ratios))]
        crossings = [f"{engine}: " + (MISSING if not dense else
                                      percent(start) if (start := crossover(ratios, times, best_dense)) is not None
                                      else "never (within measured ratios)")
                     for engine, times in medians.items() if sparse[engine]]
        parts.append(f"### {device}, {scope}, batch {batch}\n\n" + table(["ratio", *medians], rows)
                     + "\nCrossover vs best dense engine: " + ("; ".join(crossings) or "no sparse engine") + "\n")
    return "\n".join(parts)


def bandwidth_section(results: dict, groups: dict[float, list[dict]]) -> str:
    """``groups`` are the FC1 entries; each holds ``fc1_bytes`` per timing key (bytes that call reads)."""
    bandwidth = results.get("bandwidth_bytes_per_s")
    fc1_keys = [key for key in timing_keys(groups) if parse_timing_key(key)[2] == "fc1"]
    if not bandwidth or not fc1_keys or not any(model.get("fc1_bytes") for models in groups.values()
                                                 for model in models):
        return ("## FC1 memory-bandwidth bound\n\nNot available: needs the measured bandwidth, fc1 timings and "
                "the bytes each engine reads for FC1.\n")
    rows = []
    for ratio, models in groups.items():
        for key in fc1_keys:
            engine, _, _, batch = parse_timing_key(key)
            measured = median_of(models, dig("timings", key, "median_s"))
            fc1_bytes = median_of(models, dig("fc1_bytes", key))
            if measured is None or fc1_bytes is None:
                continue
            bound = fc1_bytes / bandwidth
            rows.append([percent(ratio), engine, batch, cell(fc1_bytes, ".0f"), cell(ms(measured), ".3g"),
                         cell(ms(bound), ".3g"), cell(measured / bound, ".3g")])
    return (f"## FC1 memory-bandwidth bound\n\nBandwidth {bandwidth / 1e9:.3g} GB/s; a call cannot be faster "
            "than reading its bytes once.\n\n"
            + table(["ratio", "engine", "batch", "bytes read", "measured (ms)", "bound (ms)", "measured / bound"],
                    rows))


# ---- figures ------------------------------------------------------------------------------------------

def save_figure(figure: plt.Figure, path: Path) -> Path:
    with atomic.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path


def message_figure(path: Path, title: str, message: str) -> Path:
    """A figure that states why it has no data, so a missing plot is never silent."""
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.set_title(title)
    axes.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    axes.set_axis_off()
    return save_figure(figure, path)


def grouped_bars(path: Path, title: str, ylabel: str, ratios: list[float],
                 series: dict[str, list[float | None]], zoom: bool = False) -> Path:
    """Bars per ratio, one bar per series side by side, like the paper's Figures 5–7."""
    series = {label: values for label, values in series.items() if any(v is not None for v in values)}
    if not ratios or not series:
        return message_figure(path, title, "No data for this figure in these results.")
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(series)
    for index, (label, values) in enumerate(series.items()):
        positions = [i + (index - (len(series) - 1) / 2) * width for i in range(len(ratios))]
        axes.bar(positions, [float("nan") if v is None else v for v in values], width, label=label)
    axes.set_xticks(range(len(ratios)), [percent(ratio) for ratio in ratios])
    axes.set(title=title, xlabel="pruning ratio", ylabel=ylabel)
    if zoom:  # accuracies differ in the third decimal; bars from 0 would hide that
        low = min(v for values in series.values() for v in values if v is not None)
        axes.set_ylim(bottom=max(0.0, low - 0.01))
    axes.legend(fontsize="small")
    figure.tight_layout()
    return save_figure(figure, path)


def line_panels(path: Path, title: str, ylabel: str, panels: dict[str, dict[str, tuple[list, list]]]) -> Path:
    """One log-y panel per entry, one line per series (x = ratio)."""
    panels = {name: lines for name, lines in panels.items() if lines}
    if not panels:
        return message_figure(path, title, "No data for this figure in these results.")
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes_list = plt.subplots(rows, columns, figsize=(6 * columns + 3, 4.5 * rows), squeeze=False)
    styles = [(color, marker) for marker in "os^D" for color in plt.get_cmap("tab10").colors]
    for axes, (name, lines) in zip(axes_list.flat, panels.items()):
        for (label, (xs, ys)), (color, marker) in zip(lines.items(), styles):
            axes.plot(xs, ys, marker=marker, color=color, label=label)
        axes.set(title=name, xlabel="pruning ratio", ylabel=ylabel, yscale="log")
        axes.grid(True, which="major", alpha=0.3)
    for axes in list(axes_list.flat)[len(panels):]:
        axes.set_visible(False)
    handles = {}
    for axes in axes_list.flat:  # one legend for the figure, outside the panels
        for handle, label in zip(*axes.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    figure.legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    figure.suptitle(title)
    figure.tight_layout()
    return save_figure(figure, path)


def present(ratios: list[float], values: list[float | None]) -> tuple[list, list]:
    """The (x, y) pairs where y was measured."""
    pairs = [(x, y) for x, y in zip(ratios, values) if y is not None]
    return [x for x, _ in pairs], [y for _, y in pairs]


def write_figures(results: dict, groups: dict[float, list[dict]], figures_dir: Path) -> list[Path]:
    baseline = groups.get(0.0, [])
    pruned = {ratio: models for ratio, models in groups.items() if ratio > 0}
    ratios = list(pruned)

    def pruned_series(get: Getter, scale: Callable = identity) -> list[float | None]:
        return [None if (value := median_of(models, get)) is None else scale(value) for models in pruned.values()]

    def baseline_series(get: Getter, scale: Callable = identity) -> list[float | None]:
        value = median_of(baseline, get)
        return [None if value is None else scale(value)] * len(ratios)

    paths = [
        grouped_bars(figures_dir / "fig5_size.png", "Model size (Figure 5)", "MiB", ratios, {
            "original (step_1)": baseline_series(dig("sizes", "step_1"), mib),
            "pruned (step_3)": pruned_series(dig("sizes", "step_3"), mib),
            "paper, pruned (step_3)": [paper.size_mib if (paper := paper_row(r)) else None for r in ratios]}),
        grouped_bars(figures_dir / "fig6_accuracy.png", "Test accuracy (Figure 6)", "accuracy", ratios, {
            "original": baseline_series(dig("accuracy", "dense")),
            "pruned, dense": pruned_series(dig("accuracy", "dense")),
            "pruned, sparse": pruned_series(dig("accuracy", "sparse"))}, zoom=True),
        grouped_bars(figures_dir / "fig7_time.png", "Prediction time (Figure 7)", "ms per batch of 32", ratios, {
            f"{label} {parse_timing_key(key)[0]}": series(dig("timings", key, "median_s"), ms)
            for key in PAPER_TIME_KEYS
            for label, series in (("original", baseline_series), ("pruned", pruned_series))}),
    ]
    all_ratios = list(groups)
    paths.append(line_panels(figures_dir / "formats_size.png", "Whole-model size by storage format", "bytes", {
        "model bytes": {name: present(all_ratios, [median_of(models, get) for models in groups.values()])
                        for name, get in size_series(results).items()
                        if any(median_of(models, get) is not None for models in groups.values())}}))
    paths.append(line_panels(figures_dir / "engines_time.png", "Time per call by engine", "seconds", {
        f"{device} {scope} batch {batch}": {engine: present(list(source), times)
                                            for engine, times in engine_medians(source, keys).items()}
        for source in (groups, fc1_groups(results))
        for (device, scope, batch), keys in timing_groups(source).items()}))
    return paths


def fc_sparsity(model: dict) -> float | None:
    """Share of zeros over all pruned variables together (what a global ranking holds exact)."""
    total = sum(row["total"] for row in model["variables"].values())
    return None if not total else 1.0 - model["nonzero"] / total


def methods_section(results: dict, methods: list[str]) -> str:
    """The frontier: accuracy against sparsity per pruning method, each with the same training budget."""
    baseline = [model for model in results["models"] if model["ratio"] == 0]
    by_method = {method: models_by_ratio({"models": [m for m in results["models"] if method_of(m) == method]})
                 for method in methods}
    ratios = sorted({ratio for groups in by_method.values() for ratio in groups})
    accuracy = dig("accuracy", "dense")
    tfmot = {float(row["ratio"]): row["accuracy"] for row in (results.get("references") or {}).get("tfmot-gradual", [])}
    extra = ["tfmot (gradual's reference)"] if tfmot else []
    rows = [["0% (baseline)", *[with_spread(baseline, accuracy, ".4f")] * len(methods), *[""] * len(extra)]]
    rows += [[percent(ratio), *[with_spread(by_method[m].get(ratio, []), accuracy, ".4f") for m in methods],
              *([cell(tfmot.get(ratio), ".4f")] if tfmot else [])] for ratio in ratios]
    before = [[percent(ratio), *[with_spread(by_method[m].get(ratio, []), dig("accuracy", "before_retrain"), ".4f")
                                 for m in methods]] for ratio in ratios]
    sizes = [[percent(ratio), *[best_lossless_size(by_method[m].get(ratio, [])) for m in methods]] for ratio in ratios]
    places = sorted({parse_timing_key(key)[1::2] for model in results["models"] for key in model.get("timings") or {}
                     if parse_timing_key(key)[2] == "network"})
    time_tables = ""
    for device, batch in places:
        time_rows = [[percent(0.0), *[fastest_network(baseline, device, batch)] * len(methods)]]
        time_rows += [[percent(ratio), *[fastest_network(by_method[m].get(ratio, []), device, batch) for m in methods]]
                      for ratio in ratios]
        time_tables += (f"\nWhole network, {device}, batch {batch}: the fastest engine's median ms (and the "
                        "engine):\n\n" + table(["ratio", *methods], time_rows))
    budget_rows = []
    for method in methods:
        models = [model for groups in by_method[method].values() for model in groups]
        budgets = sorted({model.get("train_steps_after_baseline") for model in models} - {None})
        schedule = next((model.get("schedule") for model in models if model.get("schedule")), None) or {}
        params = ", ".join(f"{key} {value}" for key, value in sorted(schedule.items()) if key != "events")
        events = len(schedule.get("events", [])) or 1
        budget_rows.append([method, ", ".join(map(str, budgets)) or MISSING, str(events),
                            params or "ranking layer (the paper's one-shot)"])
    return ("## Pruning methods: accuracy against sparsity\n\nDense test accuracy (median over seeds) of each "
            "method at each ratio. Every method trains the same number of steps after the baseline, so a "
            "difference comes from the method, not from more training.\n\n"
            + table(["ratio", *methods, *extra], rows)
            + ("\ntfmot: TF Model Optimization's prune_low_magnitude with gradual's schedule, from the same "
               "baseline, batches and budget, but a fresh Adam (bench/test_tfmot_reference.py).\n" if tfmot else "")
            + "\nAccuracy just after the last pruning event, before the training that follows it:\n\n"
            + table(["ratio", *methods], before)
            + "\nWhole-model size in the smallest lossless storage format (median MiB over seeds; the format "
              "of the first seed):\n\n" + table(["ratio", *methods], sizes)
            + time_tables
            + "\nBudgets and schedules:\n\n"
            + table(["method", "training steps after the baseline", "pruning events", "schedule"], budget_rows)
            + f"\n![{Path(METHODS_FIGURE).stem}](figures/{METHODS_FIGURE})\n")


def fastest_network(models: list[dict], device: str, batch: str) -> str:
    """The fastest engine's whole-network median ms at (device, batch), as the median over ``models``."""
    medians: dict[str, list[float]] = {}
    for model in models:
        for key, timing in (model.get("timings") or {}).items():
            engine, where, scope, size = parse_timing_key(key)
            if (where, scope, size) == (device, "network", batch):
                medians.setdefault(engine, []).append(timing["median_s"])
    if not medians:
        return MISSING
    engine = min(medians, key=lambda name: statistics.median(medians[name]))
    return f"{cell(ms(statistics.median(medians[engine])), '.3g')} ({engine})"


def best_lossless_size(models: list[dict]) -> str:
    """The smallest lossless format's whole-model MiB (median over ``models``) and that format's name."""
    from prunebench.prune.formats import FORMATS

    def smallest(model: dict) -> tuple[int, str] | None:
        sizes = [(row["model_bytes"], name) for name, row in model["formats"].items()
                 if name in FORMATS and FORMATS[name].lossless]
        return min(sizes, default=None)

    found = [best for best in map(smallest, models) if best is not None]
    if not found:
        return MISSING
    return f"{statistics.median(size for size, _ in found) / MIB:.3g} ({found[0][1]})"


def methods_figure(results: dict, methods: list[str], path: Path) -> Path:
    """Accuracy against fc sparsity, one line per method, distinct colour and marker each."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    styles = list(zip(plt.get_cmap("tab10").colors, "osD^vP*Xph"))
    for (color, marker), method in zip(styles, methods):
        groups = models_by_ratio({"models": [m for m in results["models"] if method_of(m) == method]})
        xs = [median_of(models, fc_sparsity) for models in groups.values()]
        ys = [median_of(models, dig("accuracy", "dense")) for models in groups.values()]
        xs, ys = present(xs, ys)
        axes.plot([x * 100 for x in xs], [y * 100 for y in ys], marker=marker, color=color, label=method)
    baseline = median_of([m for m in results["models"] if m["ratio"] == 0], dig("accuracy", "dense"))
    if baseline is not None:
        axes.axhline(baseline * 100, color="black", linestyle="--", linewidth=1, label="unpruned baseline")
    axes.set(title="Accuracy against fc sparsity, per pruning method (same training budget)",
             xlabel="sparsity of the pruned variables (%)", ylabel="test accuracy (%)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return save_figure(figure, path)


def fc1_times(entry: dict | None, sparse: dict[str, bool], want_sparse: bool, device: str, scope: str,
              batch: str) -> dict[str, float]:
    """Median seconds per engine of an FC1 entry's timings at (device, scope, batch), sparse engines or dense."""
    found = {}
    for key, timing in ((entry or {}).get("timings") or {}).items():
        engine, where, kind, size = parse_timing_key(key)
        if (where, kind, size) == (device, scope, batch) and sparse.get(engine) == want_sparse:
            found[engine] = timing["median_s"]
    return found


def structured_fc1_section(results: dict, sparse: dict[str, bool]) -> str:
    """FC1 with whole neurons removed (a narrower dense layer) beside the unpruned best dense FC1 and the
    best unstructured sparse engine at the same ratio: what structure buys over sparsity."""
    title = "## FC1 with whole neurons removed (structured)\n\n"
    entries = {float(entry["ratio"]): entry for entry in results.get("fc1_neurons") or []}
    unstructured = {float(entry["ratio"]): entry for entry in results.get("fc1") or []}
    if not any(entry.get("timings") for entry in entries.values()):
        return title + NO_TIMINGS + "\n"
    by_place: dict[tuple[str, str], dict[float, dict[str, float]]] = {}
    for ratio, entry in entries.items():
        for key, timing in entry["timings"].items():
            engine, device, _, batch = parse_timing_key(key)
            by_place.setdefault((device, batch), {}).setdefault(ratio, {})[engine] = timing["median_s"]

    def best(entry: dict | None, device: str, batch: str, want_sparse: bool) -> float | None:
        return min(fc1_times(entry, sparse, want_sparse, device, "fc1", batch).values(), default=None)

    parts = [title + "The seed-0 baseline's w_fc1 without the given share of its neurons (smallest incoming L2 "
             "norm), stored as the narrower dense layer it is, on the dense engines. Median ms per call; speedup "
             "over the best dense engine on the unpruned 3136x1024 layer; beside it, the best sparse engine on "
             "the same ratio pruned by magnitude (unstructured).\n"]
    for (device, batch), ratios in sorted(by_place.items()):
        engines = sorted({engine for times in ratios.values() for engine in times})
        reference = best(unstructured.get(0.0), device, batch, False)
        rows = []
        for ratio in sorted(ratios):
            times = ratios[ratio]
            fastest = min(times.values())
            rows.append([percent(ratio), str(entries[ratio].get("units", MISSING)),
                         *[cell(ms(times.get(engine)), ".3g") for engine in engines],
                         MISSING if reference is None else f"{reference / fastest:.2f}x",
                         cell(ms(best(unstructured.get(ratio), device, batch, True)), ".3g")])
        parts.append(f"### {device}, batch {batch}\n\n" + table(
            ["ratio", "neurons", *engines, "speedup vs unpruned best dense", "best sparse (unstructured) ms"], rows))
    return "\n".join(parts)


def blocks_fc1_section(results: dict, sparse: dict[str, bool]) -> str:
    """FC1 pruned in 1x4 blocks on the sparse engines, beside the best dense engine and the best sparse engine
    on the same ratio pruned weight by weight: what block structure buys the sparse kernels."""
    title = "## FC1 pruned in 1x4 blocks\n\n"
    entries = {float(entry["ratio"]): entry for entry in results.get("fc1_blocks") or []}
    unstructured = {float(entry["ratio"]): entry for entry in results.get("fc1") or []}
    if not any(entry.get("timings") for entry in entries.values()):
        return title + NO_TIMINGS + "\n"
    places = sorted({parse_timing_key(key)[1::2] for entry in entries.values() for key in entry["timings"]})
    parts = [title + "The seed-0 baseline's w_fc1 pruned in blocks of one output by four consecutive inputs "
             "(smallest mean magnitude first, as the blocks-1x4 method prunes), on the sparse engines. Median ms "
             "per call; the speedup is over the best dense engine at the same ratio (test_fc1); beside it, the "
             "best sparse engine on the same ratio pruned weight by weight.\n"]
    for device, batch in places:
        blocked = {ratio: fc1_times(entry, sparse, True, device, "fc1-blocks", batch) for ratio, entry in entries.items()}
        engines = sorted({engine for times in blocked.values() for engine in times})
        rows = []
        for ratio in sorted(entries):
            fastest = min(blocked[ratio].values(), default=None)
            reference = min(fc1_times(unstructured.get(ratio), sparse, False, device, "fc1", batch).values(), default=None)
            weightwise = min(fc1_times(unstructured.get(ratio), sparse, True, device, "fc1", batch).values(), default=None)
            rows.append([percent(ratio), *[cell(ms(blocked[ratio].get(engine)), ".3g") for engine in engines],
                         cell(ms(reference), ".3g"),
                         MISSING if None in (fastest, reference) else f"{reference / fastest:.2f}x",
                         cell(ms(weightwise), ".3g")])
        parts.append(f"### {device}, batch {batch}\n\n" + table(
            ["ratio", *engines, "best dense ms", "speedup of the best block engine", "best sparse (unstructured) ms"],
            rows))
    return "\n".join(parts)


def write_report(results: dict, out_dir: Path) -> list[Path]:
    """Write report.md and the figures under ``out_dir``; return the paths written.

    With several pruning methods the paper's sections (its tables, figures and summary) show the paper's
    one-shot method (else the first method); the conclusions list every method's claims, and a methods
    section and figure draw the frontier."""
    out_dir = Path(out_dir)
    methods = methods_in(results)
    everything = results
    results = for_method(results, methods[0])
    groups = models_by_ratio(results)
    baseline = groups.get(0.0, [])
    ratios = sorted({ratio for ratio in groups if ratio > 0} | set(PAPER_RATIOS))
    results = with_current_claims(results)
    claims = results["claims"] if len(methods) == 1 else everything["claims"]  # every method's, for the conclusions
    results = {**results, "claims": [claim for claim in claims if claim.get("method", methods[0]) == methods[0]]}
    sparse = engine_sparsity(results)
    figures = write_figures(results, groups, out_dir / "figures")
    extra = []
    if methods != ["oneshot"]:
        figures.append(methods_figure(everything, methods, out_dir / "figures" / METHODS_FIGURE))
        extra.append(methods_section(everything, methods))
    sections = [
        summary_section(results, methods, len(everything["models"])),
        header_section(results),
        "## Tables 4–9: the paper's experiments beside ours\n",
        *[ratio_section(ratio, groups.get(ratio, []), baseline) for ratio in ratios],
        *extra,
        conclusions_section({**results, "claims": claims}),
        goals_section(everything),
        formats_section(results, groups),
        engines_section(groups, sparse, "Inference engines: the whole network", "Each pruned, retrained model."),
        engines_section(fc1_groups(results), sparse, "Inference engines: FC1 alone",
                        "The seed-0 baseline's w_fc1 (3136x1024) pruned by magnitude at each ratio."),
        bandwidth_section(results, fc1_groups(results)),
        structured_fc1_section(results, sparse),
        blocks_fc1_section(results, sparse),
        "## Figures\n\n" + "\n".join(f"![{path.stem}](figures/{path.name})" for path in figures) + "\n",
    ]
    report = out_dir / "report.md"
    atomic.write_text(report, "\n".join(sections))
    return [report, *figures]
