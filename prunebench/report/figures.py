"""The report's figures, written as PNG files: the figures the claims rest on (each effect against the ratio
with its 90% interval, the margin shaded and the paper's ratios marked), the paper's Figures 5–7 with our
values, sizes by storage format, times by engine and the methods' frontier. A figure without data says so
instead of being left out.

The data each figure draws is prepared by small pure functions (``interval_series``, ``margin_band``,
``paper_span``, ``frontier_limits``), so what a figure shows is tested without drawing it. Every series
takes its fixed style from ``styles``; sizes are in MiB and times in ms, as in the tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from prunebench.report.figure_files import (  # noqa: E402
    ACCURACY_CLAIM_FIGURE,
    ENGINES_FIGURE,
    FIG5,
    FIG6,
    FIG7,
    FORMATS_FIGURE,
    SIZE_CLAIM_FIGURE,
    TIME_CLAIM_FIGURE,
)
from prunebench.report.markdown import SCOPE_TITLES, mib, ms, parse_timing_key, significant  # noqa: E402
from prunebench.report.paper_tables import PAPER_TIME_KEYS  # noqa: E402
from prunebench.report.storage import size_series  # noqa: E402
from prunebench.report.styles import (  # noqa: E402
    CHECKPOINT,
    ENGINE_STYLES,
    METHOD_STYLES,
    SIZE_STYLES,
    Style,
    registry_order,
    style_of,
)
from prunebench.report.timings import engine_medians, timing_groups  # noqa: E402
from prunebench.results import atomic  # noqa: E402
from prunebench.results.keys import ratio_key  # noqa: E402
from prunebench.results.readers import dig, fc1_groups, median_of, models_by_ratio, percent  # noqa: E402
from prunebench.verdicts.claims import THRESHOLD_RATIO  # noqa: E402
from prunebench.verdicts.evidence import baseline_step_1, margins_of, method_of  # noqa: E402
from prunebench.verdicts.goals import ACCURACY, GOALS  # noqa: E402
from prunebench.verdicts.paper import (  # noqa: E402
    ORIGINAL_SIZE_MIB,
    PAPER_RATIOS,
    is_paper_network,
    paper_row,
    published_row,
)

NO_DATA = "No data for this figure in these results."
PAPER_RANGE_LABEL = "the paper's ratios (10–90%)"
MARGIN_COLOUR, PAPER_RANGE_COLOUR = "#2ca02c", "#dddddd"
# The frontier's axis reaches this far below the lowest reference line (a goal or the baseline): far enough
# for every method that trained as long as the others, not for one that collapsed, which is clipped instead.
FRONTIER_SPAN_PT = 5.0
GOAL_LINES = (":", "-.", (0, (1, 3)))


# ---- the data each figure draws (pure) -------------------------------------------------------------------

@dataclass(frozen=True)
class IntervalSeries:
    """Per ratio, an effect and its 90% interval, in the unit the figure draws."""

    ratios: list[float]
    effects: list[float]
    lows: list[float]
    highs: list[float]


def interval_series(claims: Sequence[dict], subject: str, scale: float = 1.0) -> IntervalSeries | None:
    """One subject's per-ratio effects and 90% intervals over every range of its claim records (times
    ``scale``), in increasing ratio; None where the records hold none (results without raw data)."""
    rows = sorted({ratio_key(row["ratio"]): row for claim in claims if claim["subject"] == subject
                   for row in claim.get("per_ratio") or []}.items())
    if not rows:
        return None
    return IntervalSeries([ratio for ratio, _ in rows], [row["effect"] * scale for _, row in rows],
                          [row["low"] * scale for _, row in rows], [row["high"] * scale for _, row in rows])


def error_bars(series: IntervalSeries, ratios: Sequence[float]) -> list[list[float]]:
    """How far each ratio's interval reaches below and above its effect (0 where it has none): the error
    bars that draw the 90% interval of a change about a measured value."""
    reach = {ratio_key(ratio): (effect - low, high - effect)
             for ratio, effect, low, high in zip(series.ratios, series.effects, series.lows, series.highs)}
    pairs = [reach.get(ratio_key(ratio), (0.0, 0.0)) for ratio in ratios]
    return [[below for below, _ in pairs], [above for _, above in pairs]]


def margin_band(margin: float, log_scale: bool, scale: float = 1.0) -> tuple[float, float]:
    """The band an effect must stay within to read "unchanged": [1/(1+m), 1+m] for a ratio of times,
    ±m (times ``scale``) for a difference."""
    return (1 / (1 + margin), 1 + margin) if log_scale else (-margin * scale, margin * scale)


def paper_span(ratios: Sequence[float]) -> tuple[float, float] | None:
    """Where the paper's ratios lie on a categorical axis of ``ratios`` (positions ±0.5), None if none."""
    inside = [index for index, ratio in enumerate(ratios) if ratio_key(ratio) in PAPER_RATIOS]
    return None if not inside else (inside[0] - 0.5, inside[-1] + 0.5)


def frontier_limits(values: Sequence[float], references: Sequence[float]) -> tuple[float, float]:
    """The frontier's y range (accuracy %): every reference line and every value down to
    ``FRONTIER_SPAN_PT`` below the lowest reference; a value further down is clipped (drawn at the edge)."""
    floor = min(references) - FRONTIER_SPAN_PT
    shown = [value for value in values if value >= floor] + list(references)
    return min(shown) - 0.3, max(shown) + 0.3


# ---- drawing helpers ---------------------------------------------------------------------------------------

def save_figure(figure: plt.Figure, path: Path) -> Path:
    with atomic.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return path


def message_figure(path: Path, title: str, message: str = NO_DATA) -> Path:
    """A figure that states why it has no data, so a missing plot is never silent."""
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.set_title(title)
    axes.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    axes.set_axis_off()
    return save_figure(figure, path)


def ratio_axis(axes: plt.Axes, ratios: Sequence[float]) -> None:
    """Ratios as evenly spaced categories (95%, 98% and 99% would crowd on a linear axis), the paper's
    range shaded."""
    axes.set_xticks(range(len(ratios)), [percent(ratio) for ratio in ratios])
    axes.set_xlim(-0.6, len(ratios) - 0.4)
    axes.set_xlabel("pruning ratio")
    span = paper_span(ratios)
    if span is not None:
        axes.axvspan(*span, color=PAPER_RANGE_COLOUR, alpha=0.5, zorder=0, label=PAPER_RANGE_LABEL)


def log_axis(axes: plt.Axes, suffix: str = "") -> None:
    """A log y axis labelled at 1, 2 and 5 of each decade in plain numbers (0.2, 5, 100), not powers of ten."""
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: significant(value, 1) + suffix))
    axes.yaxis.set_minor_formatter(NullFormatter())


def legend_outside(figure_or_axes, handles=None, labels=None) -> None:
    """The legend right of the axes, where it covers no data."""
    if handles is None:
        handles, labels = figure_or_axes.get_legend_handles_labels()
    figure_or_axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")


def positions(ratios: Sequence[float], shown: Sequence[float], offset: float = 0.0) -> list[float]:
    """Categorical x of each ratio in ``shown`` on an axis of ``ratios``, moved by ``offset``."""
    index = {ratio_key(ratio): i for i, ratio in enumerate(ratios)}
    return [index[ratio_key(ratio)] + offset for ratio in shown]


def dodge(count: int, width: float = 0.5) -> list[float]:
    """Offsets that set ``count`` series side by side within one category, so their intervals do not hide
    each other."""
    return [0.0] * count if count < 2 else [width * (i / (count - 1) - 0.5) for i in range(count)]


def interval_errorbar(axes: plt.Axes, xs: list[float], series: IntervalSeries, style: Style, label: str) -> None:
    axes.errorbar(xs, series.effects, yerr=[[e - lo for e, lo in zip(series.effects, series.lows)],
                                            [hi - e for e, hi in zip(series.effects, series.highs)]],
                  capsize=3, markersize=5, label=label, **style.line())


# ---- the figures the claims rest on -----------------------------------------------------------------------

def size_claim_figure(path: Path, results: dict, groups: dict[float, list[dict]]) -> Path:
    """(a) and (d): the step_3 checkpoint per ratio (median, min–max over seeds) beside the paper's, the
    unpruned step_1 checkpoint (the reference of (d)) and the 50% threshold."""
    title = "(a) size falls with the ratio; (d) smaller than the original only from 50%"
    ratios = [ratio for ratio in groups if ratio > 0]
    sizes = [[mib(size) for model in groups[ratio] if (size := model["sizes"].get("step_3")) is not None]
             for ratio in ratios]
    if not any(sizes):
        return message_figure(path, title)
    figure, axes = plt.subplots(figsize=(8, 4.2))
    ratio_axis(axes, ratios)
    measured = [(i, sorted(values)) for i, values in enumerate(sizes) if values]
    middles = [values[len(values) // 2] for _, values in measured]
    axes.errorbar([i for i, _ in measured], middles,
                  yerr=[[mid - values[0] for mid, (_, values) in zip(middles, measured)],
                        [values[-1] - mid for mid, (_, values) in zip(middles, measured)]],
                  capsize=3, label="step_3 checkpoint, measured (min–max over seeds)", **SIZE_STYLES[CHECKPOINT].line())
    paper = [(i, row.size_mib) for i, ratio in enumerate(ratios) if (row := published_row(results, ratio))]
    if paper:
        axes.plot(*zip(*paper), linestyle="none", marker="o", markersize=10, markerfacecolor="none",
                  color="black", label="step_3 checkpoint, the paper")
    reference = baseline_step_1(results)
    if reference is not None:
        axes.axhline(mib(reference), color="#d62728", linestyle="--",
                     label=f"unpruned step_1 checkpoint, {mib(reference):.2f} MiB: (d)'s reference")
    threshold = [i for i, ratio in enumerate(ratios) if ratio >= THRESHOLD_RATIO]
    if threshold and threshold[0] > 0:
        axes.axvline(threshold[0] - 0.5, color="black", linestyle=":",
                     label=f"(d)'s threshold, {percent(THRESHOLD_RATIO)}")
    axes.set(title=title, ylabel="MiB", ylim=(0, None))
    axes.grid(True, axis="y", alpha=0.3)
    legend_outside(axes)
    return save_figure(figure, path)


def accuracy_claim_figure(path: Path, results: dict, claims: Sequence[dict]) -> Path:
    """(b): per ratio, the change of accuracy from the unpruned model with its 90% interval, within the
    shaded margin or not."""
    title = "(b) accuracy change from the unpruned model (90% CI)"
    series = interval_series(claims, "accuracy:dense", scale=100)
    if series is None:
        return message_figure(path, title, "These results hold no per-ratio intervals of accuracy.")
    margin = margins_of(results)["accuracy"]
    figure, axes = plt.subplots(figsize=(8, 4.2))
    ratio_axis(axes, series.ratios)
    axes.axhspan(*margin_band(margin, False, 100), color=MARGIN_COLOUR, alpha=0.15,
                 label=f"margin ±{margin * 100:g} pt")
    axes.axhline(0, color="black", linewidth=0.8)
    interval_errorbar(axes, positions(series.ratios, series.ratios), series, ENGINE_STYLES["tf-dense"],
                      "dense accuracy minus the unpruned model's")
    axes.set(title=title, ylabel="percentage points")
    axes.grid(True, axis="y", alpha=0.3)
    legend_outside(axes)
    return save_figure(figure, path)


def time_claim_figure(path: Path, results: dict, claims: Sequence[dict]) -> Path:
    """(c): per batch size, each engine's time over the unpruned model's with its 90% interval (log), the
    margin shaded."""
    title = "(c) whole-network time over the unpruned model's (90% CI)"
    keys = sorted({claim["subject"].removeprefix("time:") for claim in claims if claim["id"] == "c"})
    by_batch: dict[str, dict[str, IntervalSeries]] = {}
    for key in keys:
        engine, _, _, batch = parse_timing_key(key)
        if (series := interval_series(claims, f"time:{key}")) is not None:
            by_batch.setdefault(batch, {})[engine] = series
    if not by_batch:
        return message_figure(path, title, "These results hold no per-ratio intervals of time.")
    margin = margins_of(results)["time"]
    batches = sorted(by_batch, key=lambda batch: (not batch.isdigit(), int(batch) if batch.isdigit() else 0))
    figure, axes_list = plt.subplots(1, len(batches), figsize=(6.5 * len(batches), 4.5), squeeze=False,
                                     sharey=True)
    handles: dict[str, object] = {}
    for axes, batch in zip(axes_list.flat, batches):
        engines = by_batch[batch]
        ratios = sorted({ratio for series in engines.values() for ratio in series.ratios})
        ratio_axis(axes, ratios)
        axes.axhspan(*margin_band(margin, True), color=MARGIN_COLOUR, alpha=0.15, label=f"margin ±{margin * 100:g}%")
        axes.axhline(1, color="black", linewidth=0.8)
        for offset, engine in zip(dodge(len(engines)), registry_order(list(engines), ENGINE_STYLES)):
            interval_errorbar(axes, positions(ratios, engines[engine].ratios, offset), engines[engine],
                              style_of(engine, ENGINE_STYLES), engine)
        log_axis(axes, "x")
        axes.set(title=f"batch {batch}")
        axes.grid(True, axis="y", which="both", alpha=0.3)
        for handle, label in zip(*axes.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    axes_list.flat[0].set_ylabel("time / unpruned time (log)")
    figure.suptitle(title)
    legend_outside(axes_list.flat[-1], list(handles.values()), list(handles))
    figure.tight_layout()
    return save_figure(figure, path)


# ---- the paper's figures, sizes and times ----------------------------------------------------------------

def fig5_size(path: Path, groups: dict[float, list[dict]]) -> Path:
    """The paper's Figure 5: the original checkpoint and the pruned one per ratio, beside the paper's."""
    title = "Model size (the paper's Figure 5)"
    ratios = [ratio for ratio in groups if ratio > 0]
    original = mib(median_of(groups.get(0.0, []), dig("sizes", "step_1")))
    series = {"original (step_1), measured": [original] * len(ratios),
              "pruned (step_3), measured": [mib(median_of(groups[ratio], dig("sizes", "step_3"))) for ratio in ratios],
              "pruned (step_3), the paper": [row.size_mib if (row := paper_row(ratio)) else None for ratio in ratios]}
    series = {label: values for label, values in series.items() if any(value is not None for value in values)}
    if not ratios or not series:
        return message_figure(path, title)
    figure, axes = plt.subplots(figsize=(9, 4))
    ratio_axis(axes, ratios)
    colours = ("#7f7f7f", SIZE_STYLES[CHECKPOINT].colour, "black")
    width = 0.8 / len(series)
    for index, ((label, values), colour) in enumerate(zip(series.items(), colours)):
        axes.bar([i + (index - (len(series) - 1) / 2) * width for i in range(len(ratios))],
                 [math.nan if value is None else value for value in values], width, label=label, color=colour,
                 alpha=0.85)
    axes.set(title=title, ylabel="MiB")
    axes.grid(True, axis="y", alpha=0.3)
    legend_outside(axes)
    return save_figure(figure, path)


def fig6_accuracy(path: Path, results: dict, groups: dict[float, list[dict]], claims: Sequence[dict]) -> Path:
    """The paper's Figure 6: accuracy per ratio against the unpruned model's, its ±margin shaded, the dense
    accuracy with the 90% interval of its change (claim (b)) where the results hold one."""
    title = "Test accuracy (the paper's Figure 6)"
    ratios = [ratio for ratio in groups if ratio > 0]
    baseline = median_of(groups.get(0.0, []), dig("accuracy", "dense"))
    dense = [median_of(groups[ratio], dig("accuracy", "dense")) for ratio in ratios]
    if not ratios or all(value is None for value in dense):
        return message_figure(path, title)
    margin = margins_of(results)["accuracy"] * 100
    figure, axes = plt.subplots(figsize=(9, 4.2))
    ratio_axis(axes, ratios)
    reach = []
    if baseline is not None:
        axes.axhspan(baseline * 100 - margin, baseline * 100 + margin, color=MARGIN_COLOUR, alpha=0.15,
                     label=f"unpruned ±{margin:g} pt")
        axes.axhline(baseline * 100, color="black", linewidth=1, label=f"unpruned, {baseline * 100:.2f}%")
        reach += [baseline * 100 - margin, baseline * 100 + margin]
    changes = interval_series(claims, "accuracy:dense", 100)
    for offset, kind in zip(dodge(2, 0.25), ("dense", "sparse")):
        values = [median_of(groups[ratio], dig("accuracy", kind)) for ratio in ratios]
        shown = [(ratio, value * 100) for ratio, value in zip(ratios, values) if value is not None]
        if not shown:
            continue
        xs, ys = positions(ratios, [r for r, _ in shown], offset), [y for _, y in shown]
        style = ENGINE_STYLES[f"tf-{kind}"]
        bars = error_bars(changes, [r for r, _ in shown]) if kind == "dense" and changes else None
        axes.errorbar(xs, ys, yerr=bars, capsize=3, markersize=5,
                      label=f"pruned, {kind}" + (" (90% CI of the change)" if bars else ""), **style.line())
        reach += ys + ([y - below for y, below in zip(ys, bars[0])] if bars else [])
    axes.set(title=title, ylabel="test accuracy (%)", ylim=(min(reach) - 0.3, min(100.0, max(reach) + 0.3)))
    axes.grid(True, axis="y", alpha=0.3)
    legend_outside(axes)
    return save_figure(figure, path)


def fig7_time(path: Path, groups: dict[float, list[dict]]) -> Path:
    """The paper's Figure 7: its dense and sparse network's time per batch of 32, pruned per ratio against
    the unpruned model (log: the sparse network is many times slower than the dense one)."""
    title = "Prediction time, batch of 32 (the paper's Figure 7)"
    ratios = [ratio for ratio in groups if ratio > 0]
    figure, axes = plt.subplots(figsize=(9, 4.2))
    ratio_axis(axes, ratios)
    drawn = False
    for key in PAPER_TIME_KEYS:
        engine = parse_timing_key(key)[0]
        style = style_of(engine, ENGINE_STYLES)
        times = [(ratio, ms(median_of(groups[ratio], dig("timings", key, "median_s")))) for ratio in ratios]
        times = [(ratio, value) for ratio, value in times if value is not None]
        original = ms(median_of(groups.get(0.0, []), dig("timings", key, "median_s")))
        if original is not None:
            axes.axhline(original, color=style.colour, linestyle=":", label=f"{engine}, unpruned")
        if times:
            axes.plot(positions(ratios, [r for r, _ in times]), [t for _, t in times], label=f"{engine}, pruned",
                      **style.line())
        drawn = drawn or bool(times) or original is not None
    if not drawn:
        plt.close(figure)
        return message_figure(path, title)
    log_axis(axes)
    axes.set(title=title, ylabel="ms per batch (log)")
    axes.grid(True, axis="y", which="both", alpha=0.3)
    legend_outside(axes)
    return save_figure(figure, path)


def line_panels(path: Path, title: str, ylabel: str, ratios: list[float],
                panels: dict[str, dict[str, tuple[list, list]]], styles: dict[str, Style],
                extra_line: tuple[float, str] | None = None) -> Path:
    """One log-y panel per entry, one line per series in its fixed style, one legend for all (x = ratio)."""
    panels = {name: lines for name, lines in panels.items() if lines}
    if not panels:
        return message_figure(path, title)
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes_list = plt.subplots(rows, columns, figsize=(5.5 * columns + 1, 4.2 * rows), squeeze=False)
    handles: dict[str, object] = {}
    for axes, (name, lines) in zip(axes_list.flat, panels.items()):
        panel_ratios = [ratio for ratio in ratios if any(ratio_key(ratio) in map(ratio_key, xs)
                                                         for xs, _ in lines.values())]
        ratio_axis(axes, panel_ratios)
        for label in registry_order(list(lines), styles):
            xs, ys = lines[label]
            axes.plot(positions(panel_ratios, xs), ys, label=label, markersize=5, **style_of(label, styles).line())
        if extra_line is not None:
            axes.axhline(extra_line[0], color="black", linewidth=1.5, linestyle="-.", label=extra_line[1])
        log_axis(axes)
        axes.set(title=name if len(panels) > 1 else "", ylabel=ylabel)
        axes.grid(True, which="major", alpha=0.3)
        for handle, label in zip(*axes.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    for axes in list(axes_list.flat)[len(panels):]:
        axes.set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    figure.legend(list(handles.values()), list(handles), loc="upper left", bbox_to_anchor=(1.0, 0.95),
                  fontsize="small")
    return save_figure(figure, path)


def present(ratios: Sequence[float], values: Sequence[float | None]) -> tuple[list, list]:
    """The (x, y) pairs where y was measured."""
    pairs = [(x, y) for x, y in zip(ratios, values) if y is not None]
    return [x for x, _ in pairs], [y for _, y in pairs]


def write_figures(results: dict, groups: dict[float, list[dict]], figures_dir: Path) -> list[Path]:
    """Every figure of ``FIGURES`` for one method's results (``groups``: its models by ratio), in that order;
    figures 5-7 only for a run of the paper's CNN."""
    claims = results["claims"]
    all_ratios = list(groups)
    sizes = {name: present(all_ratios, [mib(median_of(models, get)) for models in groups.values()])
             for name, get in size_series(results).items()}
    engine_panels = {
        f"{SCOPE_TITLES.get(scope, scope)}, batch {batch}, {device.upper()}": {
            engine: present(list(source), [ms(t) for t in times])
            for engine, times in engine_medians(source, keys).items()}
        for source in (groups, fc1_groups(results))
        for (device, scope, batch), keys in timing_groups(source).items()}
    fc1_ratios = sorted(set(all_ratios) | set(fc1_groups(results)))
    paper = is_paper_network(results)  # the paper's figures 5-7 and its checkpoint's size are its CNN's
    return [
        size_claim_figure(figures_dir / SIZE_CLAIM_FIGURE, results, groups),
        accuracy_claim_figure(figures_dir / ACCURACY_CLAIM_FIGURE, results, claims),
        time_claim_figure(figures_dir / TIME_CLAIM_FIGURE, results, claims),
        *([fig5_size(figures_dir / FIG5, groups),
           fig6_accuracy(figures_dir / FIG6, results, groups, claims),
           fig7_time(figures_dir / FIG7, groups)] if paper else []),
        line_panels(figures_dir / FORMATS_FIGURE, "Whole-model size by storage format", "MiB (log)", all_ratios,
                    {"": {name: xy for name, xy in sizes.items() if xy[0]}}, SIZE_STYLES,
                    (ORIGINAL_SIZE_MIB, f"the paper's dense checkpoint, {ORIGINAL_SIZE_MIB:g} MiB") if paper else None),
        line_panels(figures_dir / ENGINES_FIGURE, "Time per call by engine", "ms (log)", fc1_ratios,
                    engine_panels, ENGINE_STYLES),
    ]


# ---- the methods' frontier ---------------------------------------------------------------------------------

def fc_sparsity(model: dict) -> float | None:
    """Share of zeros over all pruned variables together (what a global ranking holds exact)."""
    total = sum(row["total"] for row in model["variables"].values())
    return None if not total else 1.0 - model["nonzero"] / total


def methods_figure(results: dict, methods: list[str], path: Path) -> Path:
    """Accuracy against fc sparsity, one line per method in its fixed style, the accuracy goals and the
    unpruned baseline as lines; a point far below them all is clipped to the axis and labelled."""
    curves = {}
    for method in methods:
        groups = models_by_ratio({"models": [m for m in results["models"] if method_of(m) == method]})
        xs = [median_of(models, fc_sparsity) for models in groups.values()]
        ys = [median_of(models, dig("accuracy", "dense")) for models in groups.values()]
        xs, ys = present(xs, ys)
        curves[method] = ([x * 100 for x in xs], [y * 100 for y in ys])
    baseline = median_of([m for m in results["models"] if m["ratio"] == 0], dig("accuracy", "dense"))
    goals = [goal for goal in GOALS if goal.unit is ACCURACY]
    references = [goal.target * 100 for goal in goals] + ([] if baseline is None else [baseline * 100])
    values = [y for _, ys in curves.values() for y in ys]
    if not values:
        return message_figure(path, "Accuracy against fc sparsity, per pruning method")
    bottom, top = frontier_limits(values, references or values)
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for method, (xs, ys) in curves.items():
        style = style_of(method, METHOD_STYLES)
        axes.plot(xs, [max(y, bottom) for y in ys], label=method, **style.line())
        for x, y in zip(xs, ys):
            if y < bottom:
                axes.annotate(f"{method}: {y:.2f}% (below the axis)", (x, bottom), xytext=(-10, 20),
                              textcoords="offset points", ha="right", fontsize="small", color=style.colour,
                              arrowprops={"arrowstyle": "->", "color": style.colour})
                axes.plot([x], [bottom], marker="v", markersize=9, color=style.colour, clip_on=False)
    if baseline is not None:
        axes.axhline(baseline * 100, color="black", linestyle="--", linewidth=1,
                     label=f"unpruned baseline, {baseline * 100:.2f}%")
    for goal, linestyle in zip(goals, GOAL_LINES):  # grey: the colours belong to the methods
        axes.axhline(goal.target * 100, color="#555555", linestyle=linestyle, linewidth=1.5,
                     label=f"goal {goal.id}: ≥ {goal.target:.1%}")
    axes.set(title="Accuracy against fc sparsity, per pruning method (same training budget)",
             xlabel="sparsity of the pruned variables (%)", ylabel="test accuracy (%)", ylim=(bottom, top))
    axes.grid(True, alpha=0.3)
    legend_outside(axes)
    return save_figure(figure, path)
