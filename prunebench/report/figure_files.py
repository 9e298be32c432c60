"""The report's file names (its figures', and the page of several runs) and how the report links a figure:
apart from ``figures`` (which needs matplotlib and reads the sections' data), so every section can set its
figure at its head, and the command line name its files without loading matplotlib."""

from __future__ import annotations

SIZE_CLAIM_FIGURE = "claim_size.png"
ACCURACY_CLAIM_FIGURE = "claim_accuracy.png"
TIME_CLAIM_FIGURE = "claim_time.png"
FIG5, FIG6, FIG7 = "fig5_size.png", "fig6_accuracy.png", "fig7_time.png"
FORMATS_FIGURE, ENGINES_FIGURE = "formats_size.png", "engines_time.png"
FIGURES = (SIZE_CLAIM_FIGURE, ACCURACY_CLAIM_FIGURE, TIME_CLAIM_FIGURE, FIG5, FIG6, FIG7, FORMATS_FIGURE,
           ENGINES_FIGURE)
ACROSS_FILE = "across.md"  # ``prunebench report`` of several runs: their claims side by side (across.py)
METHODS_FIGURE = "methods_frontier.png"  # only when the results hold a method besides the paper's one-shot


def figure_link(name: str) -> str:
    """The markdown line that shows a figure of ``figures/`` beside report.md."""
    return f"![{name.removesuffix('.png')}](figures/{name})\n"
