"""The pruning methods in the report: accuracy, size and time against sparsity per method, each trained with
the same budget after the baseline, and each method's schedule."""

from __future__ import annotations

import statistics

from prunebench.report.figure_files import METHODS_FIGURE, figure_link
from prunebench.report.figures import FRONTIER_SPAN_PT
from prunebench.report.markdown import MISSING, accuracy_text, mib_text, ms_text, parse_timing_key, table, with_spread
from prunebench.results.readers import dig, models_by_ratio, percent, smallest_lossless
from prunebench.verdicts.evidence import method_of


def methods_section(results: dict, methods: list[str]) -> str:
    """The frontier: accuracy against sparsity per pruning method, each with the same training budget."""
    baseline = [model for model in results["models"] if model["ratio"] == 0]
    by_method = {method: models_by_ratio({"models": [m for m in results["models"] if method_of(m) == method]})
                 for method in methods}
    ratios = sorted({ratio for groups in by_method.values() for ratio in groups})
    accuracy = dig("accuracy", "dense")
    tfmot = {float(row["ratio"]): row["accuracy"] for row in (results.get("references") or {}).get("tfmot-gradual", [])}
    extra = ["tfmot (gradual's reference)"] if tfmot else []
    rows = [["0% (baseline)", *[with_spread(baseline, accuracy, accuracy_text)] * len(methods), *[""] * len(extra)]]
    rows += [[percent(ratio), *[with_spread(by_method[m].get(ratio, []), accuracy, accuracy_text) for m in methods],
              *([accuracy_text(tfmot.get(ratio))] if tfmot else [])] for ratio in ratios]
    before = [[percent(ratio), *[with_spread(by_method[m].get(ratio, []), dig("accuracy", "before_retrain"),
                                             accuracy_text) for m in methods]] for ratio in ratios]
    sizes = [[percent(ratio), *[best_lossless_size(by_method[m].get(ratio, [])) for m in methods]] for ratio in ratios]
    places = sorted({parse_timing_key(key)[1::2] for model in results["models"] for key in model.get("timings") or {}
                     if parse_timing_key(key)[2] == "network"})
    time_tables = ""
    for device, batch in places:
        time_rows = [[percent(0.0), *[fastest_network(baseline, device, batch)] * len(methods)]]
        time_rows += [[percent(ratio), *[fastest_network(by_method[m].get(ratio, []), device, batch) for m in methods]]
                      for ratio in ratios]
        time_tables += (f"\nWhole network, batch {batch}, {device.upper()}: the fastest engine's median ms (and the "
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
    return ("## Pruning methods: accuracy against sparsity\n\n" + figure_link(METHODS_FIGURE)
            + "\nThe figure's lines mark the accuracy goals and the unpruned baseline; its axis stops "
            f"{FRONTIER_SPAN_PT:g} points below the lowest of them, and a point further down is drawn at the axis "
            "with its value written beside it.\n\nDense test accuracy (median over seeds) of each "
            "method at each ratio. Every method trains the same number of steps after the baseline, so a "
            "difference comes from the method, not from more training.\n\n"
            + table(["ratio", *methods, *extra], rows)
            + ("\ntfmot: TF Model Optimization's prune_low_magnitude with gradual's schedule, from the same "
               "baseline, batches and budget, but a fresh Adam (bench/test_tfmot_reference.py).\n" if tfmot else "")
            + "\nAccuracy just after the last pruning event, before the training that follows it:\n\n"
            + table(["ratio", *methods], before)
            + "\nWhole-model size in the smallest lossless storage format (MiB, median over seeds; the format "
              "of the first seed):\n\n" + table(["ratio", *methods], sizes)
            + time_tables
            + "\nBudgets and schedules:\n\n"
            + table(["method", "training steps after the baseline", "pruning events", "schedule"], budget_rows))


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
    return f"{ms_text(statistics.median(medians[engine]))} ({engine})"


def best_lossless_size(models: list[dict]) -> str:
    """The smallest lossless format's whole-model MiB (median over ``models``) and that format's name."""
    found = [best for model in models if (best := smallest_lossless(model["formats"])) is not None]
    if not found:
        return MISSING
    return f"{mib_text(statistics.median(size for size, _ in found))} ({found[0][1]})"
