"""The run's header and the paper's Tables 4–9 beside ours: per ratio, the thresholds and counts of each pruned
variable, then size, accuracy and time, each measured value next to the published one (or why there is none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prunebench.report.markdown import IMAGE_ONLY, MISSING, identity, mib, ms, table, with_spread
from prunebench.results.keys import TimingKey
from prunebench.results.readers import Getter, dig, percent
from prunebench.verdicts.paper import FC_TOTALS, ORIGINAL_SIZE_MIB, paper_row

# The paper's two networks at its evaluation batch size: its dense and its sparse prediction time.
PAPER_TIME_KEYS = tuple(str(TimingKey(engine, "cpu", "network", 32)) for engine in ("tf-dense", "tf-sparse"))


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
