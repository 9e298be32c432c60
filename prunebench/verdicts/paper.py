"""The paper's published numbers (Liu et al. 2020, §5.1–5.6), so the report can show them beside ours.

Only what the paper's *text* states is recorded here. Its Tables 4–9 and Figures 5–7 are images whose
accuracy and time columns are not in the text, so no accuracy or time value is given: inventing them would
make a comparison look checked when it is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from prunebench.results.keys import ratio_key

FC_TOTALS = {"w_fc1": 3_211_264, "w_fc2": 10_240}
TOTAL_PARAMS = 3_274_634
ORIGINAL_SIZE_MIB = 37.5
MIB = 1024 * 1024


@dataclass(frozen=True)
class PaperRatio:
    """One of the paper's six experiments: thresholds, surviving weights and model size after step 3."""

    ratio: float
    table: int
    section: str
    thresholds: dict[str, float]
    nonzero: dict[str, int]
    size_mib: float


PAPER_RATIOS: dict[float, PaperRatio] = {
    row.ratio: row
    for row in (
        PaperRatio(0.1, 4, "5.1", {"w_fc1": 0.012034996, "w_fc2": 0.013038448},
                   {"w_fc1": 2_890_137, "w_fc2": 9_215}, 66.5),
        PaperRatio(0.3, 5, "5.2", {"w_fc1": 0.036936015, "w_fc2": 0.039559085},
                   {"w_fc1": 2_247_884, "w_fc2": 7_167}, 51.8),
        PaperRatio(0.5, 6, "5.3", {"w_fc1": 0.06429165, "w_fc2": 0.068891354},
                   {"w_fc1": 1_605_631, "w_fc2": 5_119}, 37.1),
        PaperRatio(0.7, 7, "5.4", {"w_fc1": 0.09749276, "w_fc2": 0.10360378}, {"w_fc1": 963_379, "w_fc2": 3_071}, 22.3),
        PaperRatio(0.8, 8, "5.5", {"w_fc1": 0.11903707, "w_fc2": 0.12662686}, {"w_fc1": 642_252, "w_fc2": 2_047}, 14.9),
        PaperRatio(0.9, 9, "5.6", {"w_fc1": 0.14814831, "w_fc2": 0.15710811}, {"w_fc1": 321_126, "w_fc2": 1_023}, 7.6),
    )
}


def paper_zero_count(ratio: float, total: int) -> int:
    """Weights the paper zeroed: floor(ratio·n) + 1, one more than the exact share.

    This reproduces all twelve published counts (its threshold is the sorted |w| at index floor(ratio·n),
    pruned with ``<=``). ``round(ratio·n) + 1`` does not: it misses w_fc1 at 70% and 90%.
    """
    return math.floor(Fraction(str(ratio)) * total) + 1


def is_paper_network(results: dict) -> bool:
    """Whether a run pruned the paper's CNN, the only network its published values describe (runs of another
    workload name it in their profile)."""
    return results["profile"].get("workload") is None


def published_row(results: dict, ratio: float) -> PaperRatio | None:
    """``paper_row`` for a run of the paper's CNN; None for any other network's run."""
    return paper_row(ratio) if is_paper_network(results) else None


def paper_row(ratio: float) -> PaperRatio | None:
    """The paper's experiment at this ratio, or None for ratios the paper did not run (e.g. 0.95)."""
    return PAPER_RATIOS.get(ratio_key(ratio))
