"""The report's figures: the paper's Figures 5–7 with our values, sizes by storage format, times by engine and
the methods' frontier, written as PNG files; a figure without data says so instead of being left out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)

from prunebench.report.markdown import identity, mib, ms, parse_timing_key  # noqa: E402
from prunebench.report.paper_tables import PAPER_TIME_KEYS  # noqa: E402
from prunebench.report.storage import size_series  # noqa: E402
from prunebench.report.timings import engine_medians, timing_groups  # noqa: E402
from prunebench.results import atomic  # noqa: E402
from prunebench.results.readers import Getter, dig, fc1_groups, median_of, models_by_ratio, percent  # noqa: E402
from prunebench.verdicts.evidence import method_of  # noqa: E402
from prunebench.verdicts.paper import paper_row  # noqa: E402

FIGURES = ("fig5_size.png", "fig6_accuracy.png", "fig7_time.png", "formats_size.png", "engines_time.png")
METHODS_FIGURE = "methods_frontier.png"  # only when the results hold a method besides the paper's one-shot


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
