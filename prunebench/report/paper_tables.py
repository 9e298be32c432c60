"""The run's header and the paper's Tables 4–9 beside ours: per ratio, the thresholds and counts of each pruned
variable, then size, accuracy and time, each measured value next to the published one; what the tables need
said (where the paper gives no number, why our counts differ by one) is said once, above them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prunebench.prune.ratio import prune_count
from prunebench.report.markdown import (
    MISSING,
    accuracy_text,
    count_text,
    mib_text,
    ms_text,
    table,
    timing_title,
    with_spread,
)
from prunebench.results.keys import TimingKey
from prunebench.results.readers import Getter, dig, percent
from prunebench.verdicts.paper import FC_TOTALS, ORIGINAL_SIZE_MIB, PAPER_RATIOS, paper_row, paper_zero_count

# The paper's two networks at its evaluation batch size: its dense and its sparse prediction time.
PAPER_TIME_KEYS = tuple(str(TimingKey(engine, "cpu", "network", 32)) for engine in ("tf-dense", "tf-sparse"))


def header_section(results: dict) -> str:
    profile, machine = results["profile"], results["machine"]
    phases = ", ".join(f"{name} {seconds:,.0f} s" for name, seconds in results["phases"].items())
    return (
        "## The run\n\n"
        f"Created {results['created']}. Profile **{profile['name']}**: "
        + ", ".join(f"{key} = {value}" for key, value in sorted(profile.items()) if key != "name") + ".\n\n"
        f"Machine: {machine.get('cpu')}, {machine.get('threads')} threads, GPUs: {machine.get('gpus') or 'none'}; "
        f"TensorFlow {machine.get('tensorflow')}, Python {machine.get('python')}.\n\n"
        f"Phase wall times: {phases or MISSING}.\n"
    )


def count_offsets() -> list[tuple[float, str, int]]:
    """Per experiment of the paper and pruned variable, how many more weights it zeroed than we do: our
    count rounds ratio·n (``prune_count``), the paper's threshold comparison also zeroed the cut-off weight
    (``paper_zero_count``)."""
    return [(row.ratio, name, paper_zero_count(row.ratio, total) - prune_count(total, row.ratio))
            for row in PAPER_RATIOS.values() for name, total in FC_TOTALS.items()]


def tables_intro() -> str:
    """What the paper's tables beside ours need said once: where the numbers come from, why the paper's
    accuracy and time are empty, why our nonzero counts differ by one."""
    offsets = count_offsets()
    one_more = sum(offset == 1 for _, _, offset in offsets)
    alike = [f"{name} at {percent(ratio)}" for ratio, name, offset in offsets if offset == 0]
    return ("## Tables 4–9: the paper's experiments beside ours\n\n"
            "Measured values are medians over seeds, with [min–max] over seeds when there are several. The paper "
            "gives its accuracy and time only as table images, not in its text, so those cells of the paper's "
            "columns are empty (—) rather than read off a picture.\n\n"
            f"Our nonzero counts are one above the paper's in {one_more} of its {len(offsets)} counts"
            + (f" (they agree for {', '.join(alike)}, where round(ratio·n) rounds up)" if alike else "")
            + ": we zero round(ratio·n) weights, "
            "while the paper's threshold comparison (<=) also zeroed the cut-off weight, floor(ratio·n) + 1, "
            "which reproduces every count it published (prune/ratio.py, prunebench/verdicts/paper.py).\n")


def ratio_section(ratio: float, models: list[dict], baseline: list[dict]) -> str:
    """One of Tables 4–9 (or an extra ratio): per-variable thresholds and counts, then size, accuracy, time."""
    paper = paper_row(ratio)
    title = (f"### Table {paper.table}: pruning ratio {percent(ratio)} (paper §{paper.section})" if paper
             else f"### Pruning ratio {percent(ratio)} (not in the paper)")
    if not models:
        return f"{title}\n\nNot measured in this run.\n"

    def published(values: dict[str, Any] | None, name: str, text: Callable[[Any], str]) -> str:
        return text(values[name]) if values and name in values else MISSING

    def threshold(value: float) -> str:
        return f"{value:.6f}"

    names = sorted({name for model in models for name in model["variables"]} | set(paper.thresholds if paper else ()))
    variable_rows = [[name,
                      with_spread(models, dig("variables", name, "threshold"), threshold),
                      published(paper and paper.thresholds, name, threshold),
                      with_spread(models, dig("variables", name, "total"), count_text),
                      published(paper and FC_TOTALS, name, count_text),
                      with_spread(models, dig("variables", name, "nonzero"), count_text),
                      published(paper and paper.nonzero, name, count_text)]
                     for name in names]

    def measure_row(label: str, get: Getter, text: Callable[[Any], str], original: Getter | None = None,
                    paper_original: str = MISSING, paper_pruned: str = MISSING) -> list[str]:
        return [label, with_spread(baseline, original or get, text), paper_original, with_spread(models, get, text),
                paper_pruned]

    measure_rows = [
        measure_row("model size (MiB): original step_1, pruned step_3", dig("sizes", "step_3"), mib_text,
                    dig("sizes", "step_1"), f"{ORIGINAL_SIZE_MIB:.2f}",
                    f"{paper.size_mib:.2f}" if paper else MISSING),
        *[measure_row(f"accuracy, {kind} network", dig("accuracy", kind), accuracy_text)
          for kind in ("dense", "sparse")],
        *[measure_row(f"time (ms), {timing_title(key)}", dig("timings", key, "median_s"), ms_text)
          for key in PAPER_TIME_KEYS],
    ]
    return (f"{title}\n\n{len(models)} seed{'' if len(models) == 1 else 's'}.\n\n"
            + table(["variable", "threshold", "paper threshold", "total", "paper total", "nonzero",
                     "paper nonzero"], variable_rows) + "\n"
            + table(["measure", "original (measured)", "original (paper)", f"pruned {percent(ratio)} (measured)",
                     f"pruned {percent(ratio)} (paper)"], measure_rows))
