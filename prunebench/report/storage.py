"""The storage formats in the report: whole-model and pruned-variable bytes per format and ratio, and the ratio
from which each stored size breaks even with the unpruned references."""

from __future__ import annotations

from prunebench.report.figure_files import FORMATS_FIGURE, figure_link
from prunebench.report.markdown import MISSING, mib_text, table
from prunebench.results.readers import Getter, dig, median_of, percent
from prunebench.verdicts.evidence import baseline_step_1
from prunebench.verdicts.stats import onset


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
    model_rows = [[percent(ratio), *[mib_text(median_of(models, get)) for get in columns.values()]]
                  for ratio, models in groups.items()]
    pruned = {**{fmt: dig("formats", fmt, "pruned_bytes") for fmt in formats},
              "entropy bound": dig("entropy_bound", "pruned_bytes")}
    pruned_rows = [[percent(ratio), *[mib_text(median_of(models, get)) for get in pruned.values()]]
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
    return ("## Storage formats\n\n" + figure_link(FORMATS_FIGURE) + "\n"
            "Whole model in each format, MiB (median over seeds):\n\n"
            + table(["ratio", *columns], model_rows)
            + "\nThe pruned variables alone, MiB:\n\n" + table(["ratio", *pruned], pruned_rows)
            + "\nBreak-even: smallest ratio from which the whole model is smaller than the reference "
            + "(" + ", ".join(f"{name}, {mib_text(size)} MiB" for name, size in references.items()) + "):\n\n"
            + table(["size", *[f"vs {name}" for name in references]], break_even_rows))
