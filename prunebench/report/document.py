"""Markdown report and figures from a results dict alone (never from models or caches).

Reading only the results dict means a report can be rebuilt from a results.json kept from any run, and
that every number in it was measured in that run. The paper's published values (prunebench.verdicts.paper) are
shown beside ours; where the paper's text gives none (accuracy and time are in table images), the report
says so instead of filling a number in. This module assembles the document from its sections, in the order a
reader wants them: findings and summary first, the claims beside their figures, the paper's figures and tables,
the goals and the measurements, and the table of every subject last.
"""

from __future__ import annotations

from pathlib import Path

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.report.claim_tables import (
    claim_sections,
    conclusions_appendix,
    findings_section,
    first_method,
    header_lines,
    summary_section,
)
from prunebench.report.figure_files import ENGINES_FIGURE, FIG5, FIG6, FIG7, METHODS_FIGURE, figure_link
from prunebench.report.figures import methods_figure, write_figures
from prunebench.report.goals_table import goals_section
from prunebench.report.han import han_section
from prunebench.report.methods import methods_section
from prunebench.report.paper_tables import header_section, ratio_section, tables_intro
from prunebench.report.storage import formats_section
from prunebench.report.timings import bandwidth_section, blocks_fc1_section, engines_section, structured_fc1_section
from prunebench.results import atomic
from prunebench.results.readers import engine_sparsity, fc1_groups, models_by_ratio
from prunebench.verdicts.evidence import methods_in
from prunebench.verdicts.paper import PAPER_RATIOS, is_paper_network

PAPER_FIGURES = ("## The paper's figures, reproduced\n\nFigures 5–7 of the paper with this run's values: size "
                 "(MiB), accuracy (%, the unpruned model's ±1 pt shaded, the 90% interval of each change where the "
                 "results hold one) and time (ms, log scale).\n\n" + "".join(map(figure_link, (FIG5, FIG6, FIG7))))


def write_report(results: dict, out_dir: Path) -> list[Path]:
    """Write report.md and the figures under ``out_dir``; return the paths written.

    The report reads top-down: findings in sentences, the summary, each claim beside the figure it rests
    on, then the measurements, and every subject's verdict last, in an appendix. With several pruning
    methods the paper's sections (its tables, figures and the claims' sections) show the paper's one-shot
    method (else the first method); the appendix lists every method's claims, and a methods section and
    figure draw the frontier."""
    out_dir = Path(out_dir)
    methods = methods_in(results)
    everything = results
    results = first_method(everything)
    groups = models_by_ratio(results)
    baseline = groups.get(0.0, [])
    ratios = sorted({ratio for ratio in groups if ratio > 0} | set(PAPER_RATIOS))
    # the appendix lists every method's claims (a single method's as judged under the current rules)
    claims = results["claims"] if len(methods) == 1 else everything["claims"]
    sparse = engine_sparsity(results)
    paper = is_paper_network(results)  # the paper's tables and figures 5-7 are its CNN's alone
    figures = write_figures(results, groups, out_dir / "figures")
    extra = []
    if methods != [DEFAULT_METHOD]:
        figures.append(methods_figure(everything, methods, out_dir / "figures" / METHODS_FIGURE))
        extra.append(methods_section(everything, methods))
    sections = [
        header_lines(results, methods, len(everything["models"])),
        findings_section(results),
        summary_section(results),
        han_section(everything),
        claim_sections(results, groups),
        header_section(results),
        *([PAPER_FIGURES, tables_intro(), *[ratio_section(ratio, groups.get(ratio, []), baseline) for ratio in ratios]]
          if paper else []),
        *extra,
        goals_section(everything),
        formats_section(results, groups),
        engines_section(groups, sparse, "Inference engines: the whole network", "Each pruned, retrained model.",
                        figure_link(ENGINES_FIGURE)),
        *([engines_section(fc1_groups(results), sparse, "Inference engines: FC1 alone",
                           "The seed-0 baseline's w_fc1 (3136x1024) pruned by magnitude at each ratio."),
           bandwidth_section(results, fc1_groups(results)),
           structured_fc1_section(results, sparse),
           blocks_fc1_section(results, sparse)] if paper else []),  # FC1 is the paper CNN's layer
        conclusions_appendix({**results, "claims": claims}),
    ]
    report = out_dir / "report.md"
    atomic.write_text(report, "\n".join(section for section in sections if section))
    return [report, *figures]
