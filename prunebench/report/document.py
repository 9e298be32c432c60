"""Markdown report and figures from a results dict alone (never from models or caches).

Reading only the results dict means a report can be rebuilt from a results.json kept from any run, and
that every number in it was measured in that run. The paper's published values (prunebench.verdicts.paper) are
shown beside ours; where the paper's text gives none (accuracy and time are in table images), the report
says so instead of filling a number in. This module assembles the document from its sections, in the order a
reader wants them: the summary first, then the paper's tables, the conclusions, the goals and the measurements.
"""

from __future__ import annotations

from pathlib import Path

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.report.claim_tables import conclusions_section, summary_section, with_current_claims
from prunebench.report.figures import METHODS_FIGURE, methods_figure, write_figures
from prunebench.report.goals_table import goals_section
from prunebench.report.methods import methods_section
from prunebench.report.paper_tables import header_section, ratio_section
from prunebench.report.storage import formats_section
from prunebench.report.timings import bandwidth_section, blocks_fc1_section, engines_section, structured_fc1_section
from prunebench.results import atomic
from prunebench.results.readers import engine_sparsity, fc1_groups, models_by_ratio
from prunebench.verdicts.evidence import for_method, methods_in
from prunebench.verdicts.paper import PAPER_RATIOS


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
    if methods != [DEFAULT_METHOD]:
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
