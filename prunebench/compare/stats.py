"""The statistics of ``prunebench compare``: pure functions of numbers, no files, tested on their own.

Time verdict (same machine class): between runs, not between rounds. On shared, virtualised machines a
whole engine's timings can move together from one run (one process) to the next by more than any margin
worth gating, while the rounds within each run agree closely. A test on the rounds of one run against those
of another (Mann-Whitney U) is then confident about a difference that belongs to the run, not to the code
(docs/compare.md has the measured false alarms). The unit of replication for "did the code get slower" is
the run, so the verdict needs several baseline runs.

The rule, per timing family (one engine on one device, scope and batch size, across the sweep's models:
the unit a code change to an engine moves). With K baseline runs and the new one, x[j][b] and y[b] the log
medians of benchmark b:

- the new run's shift d = mean_b(y[b] - mean_j x[j][b]); the family shift of baseline run j,
  e[j] = mean_b(x[j][b] - mean_j' x[j'][b]), and their spread s = sqrt(sum_j e[j]^2 / (K - 1));
- t = d / (s * sqrt(1 + 1/K)), a prediction test with K - 1 degrees of freedom (the new run is one more
  draw of the run shift if nothing changed), two-sided p; Holm over the families;
- ``slower`` iff the adjusted p < alpha and exp(d) > factor (asv's 1.10 by default); ``faster`` mirrored;
  ``unchanged`` otherwise; ``not judged`` with fewer than two baseline runs (no spread to judge against).

Interleaved pairs (``paired_runs_test``): the run shift is not independent between runs; it comes in
episodes that last minutes, so baselines stored earlier can sit in another episode than the new run and the
test above then misjudges it (docs/compare.md, "Known limit"). Runs made back to back, base then new, P
times (asv's ``continuous`` with interleaved processes) share their episode pair by pair. Per family, pair
i's difference d[i] = mean_b(y[i][b] - x[i][b]); t = mean(d) / (sd(d) / sqrt(P)) with P - 1 degrees of
freedom, then Holm and the factor as above.

``detectable_factor`` is the smallest shift the family could be flagged at, given the standard error of its
shift, the degrees of freedom and the number of families: what the runs so far can and cannot see. With
few baselines the t quantile is large, so the gate starts blind to small changes and sharpens as baselines
accumulate (a CI that saves one per green run on main gets there by itself).

The per-benchmark Mann-Whitney p on the raw rounds stays in the output as a description (do the rounds of
the two runs differ?), Holm-adjusted over the benchmarks; it gates nothing.

Rounds too few. With n and m rounds the smallest two-sided p the exact test can reach is 2 / C(n+m, n):
0.1 for 3 against 3 (the paper's ``batch=all``). ``min_attainable_p`` lets the report say so.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

FACTOR = 1.10
ALPHA = 0.01
VERDICTS = ("faster", "slower", "unchanged", "not judged")
MIN_BASELINE_RUNS = 2
MIN_PAIRS = 2


def median_ratio(base: Sequence[float], new: Sequence[float]) -> float:
    """median(new) / median(base): above 1 means the new run is slower."""
    return statistics.median(new) / statistics.median(base)


def mann_whitney_p(base: Sequence[float], new: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U p of the two samples; None with fewer than 2 rounds on a side."""
    if len(base) < 2 or len(new) < 2:
        return None
    from scipy.stats import mannwhitneyu

    if len(set(base)) == 1 and set(base) == set(new):
        return 1.0  # identical constants: scipy's asymptotic formula divides by a zero variance
    return float(mannwhitneyu(list(base), list(new), alternative="two-sided", method="auto").pvalue)


def min_attainable_p(n: int, m: int) -> float:
    """Smallest two-sided p of an exact Mann-Whitney test with n and m rounds (all of one above the other)."""
    return min(1.0, 2 / math.comb(n + m, n))  # int / int: a float even where the binomial is beyond one


def time_verdict(ratio: float, p: float | None, *, factor: float = FACTOR, alpha: float = ALPHA) -> str:
    """``slower`` / ``faster`` when p < alpha and the median ratio is beyond ``factor``; else ``unchanged``."""
    if p is None or p >= alpha:
        return "unchanged"
    if ratio > factor:
        return "slower"
    if ratio < 1.0 / factor:
        return "faster"
    return "unchanged"


def between_run_test(baseline_runs: Sequence[Sequence[float]], new_run: Sequence[float]) -> dict | None:
    """One timing family: ``baseline_runs[j][b]`` and ``new_run[b]`` are the log medians of benchmark b in
    baseline run j and in the new run (benchmarks in the same order). Returns the new run's shift ``d`` (log),
    the baseline runs' spread ``s`` (log), ``t``, ``df`` and the two-sided ``p`` (module docstring); None
    with fewer than ``MIN_BASELINE_RUNS`` runs or no benchmark."""
    runs = len(baseline_runs)
    if runs < MIN_BASELINE_RUNS or not new_run:
        return None
    means = [statistics.fmean(run[b] for run in baseline_runs) for b in range(len(new_run))]
    shifts = [statistics.fmean(run[b] - means[b] for b in range(len(new_run))) for run in baseline_runs]
    spread = math.sqrt(sum(shift * shift for shift in shifts) / (runs - 1))
    shift = statistics.fmean(new_run[b] - means[b] for b in range(len(new_run)))
    return _t_test(shift, spread, spread * math.sqrt(1.0 + 1.0 / runs), runs - 1)


def paired_runs_test(base_runs: Sequence[Sequence[float]], new_runs: Sequence[Sequence[float]]) -> dict | None:
    """One timing family over interleaved pairs: ``base_runs[i][b]`` and ``new_runs[i][b]`` are the log
    medians of benchmark b in the base and the new run of pair i, made back to back. Returns the mean shift
    ``d`` (log), the spread ``s`` of the pairs' shifts, the standard error ``scale``, ``t``, ``df`` and the
    two-sided ``p`` (module docstring); None with fewer than ``MIN_PAIRS`` pairs or no benchmark."""
    pairs = len(base_runs)
    if pairs < MIN_PAIRS or len(new_runs) != pairs or not new_runs[0]:
        return None
    differences = [statistics.fmean(new[b] - base[b] for b in range(len(new)))
                   for base, new in zip(base_runs, new_runs)]
    spread = statistics.stdev(differences)
    return _t_test(statistics.fmean(differences), spread, spread / math.sqrt(pairs), pairs - 1)


def _t_test(shift: float, spread: float, scale: float, df: int) -> dict:
    from scipy.stats import t as student_t

    if scale == 0.0:
        t, p = (0.0, 1.0) if shift == 0.0 else (math.copysign(math.inf, shift), 0.0)
    else:
        t = shift / scale
        p = float(min(1.0, 2.0 * student_t.sf(abs(t), df)))
    return {"d": shift, "s": spread, "scale": scale, "t": t, "df": df, "p": p}


_MAX_EXPONENT = 700.0  # math.exp overflows a float just above 709


def detectable_factor(scale: float, df: int, families: int, *, factor: float = FACTOR,
                      alpha: float = ALPHA) -> float | None:
    """The smallest slowdown (as a factor) a family could be flagged at when its shift has standard error
    ``scale`` (log) with ``df`` degrees of freedom, among ``families`` families (Holm's first step,
    alpha / families)."""
    from scipy.stats import t as student_t

    quantile = float(student_t.isf(alpha / families / 2.0, df))
    exponent = max(math.log(factor), quantile * scale)
    return math.exp(exponent) if exponent < _MAX_EXPONENT else None  # None: so noisy that no slowdown is detectable


def beyond_factor(change: float | None, factor: float = FACTOR) -> bool:
    """A relative quantity (speedup, time x bandwidth) moved by more than ``factor`` either way."""
    return change is not None and change > 0 and (change > factor or change < 1.0 / factor)


def accuracy_images(base: float, new: float, images: int) -> int:
    """How many test images the accuracy difference amounts to (accuracies are correct / images)."""
    return round(abs(new - base) * images)
