"""What a run's results hold for the claims: the ranges and methods they are judged over, each subject's
points, and the unpruned reference every pruned model is measured against.

Every (ratio, seed) model with ratio > 0 is one point (x = the ratio, y = the measure); the unpruned model
of the same seed is its reference. A subject is one measure: ``size:step_3`` (sizes.step_3),
``size:<format>`` (formats[format].model_bytes), ``accuracy:dense``, and ``time:<timing key>`` for every
timing key of scope ``network``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.results.keys import TimingKey, ratio_key
from prunebench.verdicts.equivalence import Interval, accuracy_difference, time_ratio
from prunebench.verdicts.margins import DEFAULT_ACCURACY_MARGIN, DEFAULT_TIME_MARGIN
from prunebench.verdicts.paper import PAPER_RATIOS

# A ratio the paper never ran cannot refute what the paper said, so each claim is judged over the paper's
# ratios and, as a separate subject, over those the suite adds beyond them.
RANGES = ("paper", "beyond")
RANGE_TITLES = {"paper": "the paper's ratios (10-90%)", "beyond": "beyond the paper"}


def range_of(ratio: float) -> str:
    return "paper" if ratio_key(ratio) in PAPER_RATIOS else "beyond"


@dataclass(frozen=True)
class Case:
    """What one claim judges one subject on over one range: the run's results (one method's,
    ``for_method``), the points (x = ratio, y = the measure), their rank correlation and its Holm-adjusted p
    (over the subjects of the claim and range)."""

    results: dict
    ratio_range: str
    subject: str
    method: str
    x: list[float]
    y: list[float]
    rho: float | None
    p_holm: float | None


# ---- methods: each is judged on its own pruned models against the shared baselines --------------------

def method_of(model: dict) -> str | None:
    """A pruned model's method (results from before methods: the paper's one-shot); None for a baseline."""
    return None if model["ratio"] == 0 else model.get("method") or DEFAULT_METHOD


def methods_in(results: dict) -> list[str]:
    """The pruning methods of the results' pruned models, the paper's first (none pruned: just the paper's)."""
    found = {method_of(model) for model in results["models"]} - {None}
    return sorted(found, key=lambda name: (name != DEFAULT_METHOD, name)) or [DEFAULT_METHOD]


def for_method(results: dict, method: str) -> dict:
    """The results restricted to one method's pruned models and the baselines they share."""
    return {**results, "models": [model for model in results["models"] if method_of(model) in (None, method)]}


# ---- subjects and their points -------------------------------------------------------------------------

def _size_measure(fmt: str) -> Callable[[dict], float | None]:
    if fmt == "step_3":
        return lambda model: model["sizes"].get("step_3")
    return lambda model: model["formats"].get(fmt, {}).get("model_bytes")


def measures(results: dict) -> dict[str, Callable[[dict], float | None]]:
    """Every subject measured in ``results`` and how to read its y from a model."""
    models = results["models"]
    formats = sorted({fmt for model in models for fmt in model["formats"]} - {"step_3"})
    timing_keys = sorted({key for model in models for key in model["timings"]
                          if TimingKey.parse(key).scope == "network"})
    found = {f"size:{fmt}": _size_measure(fmt) for fmt in ["step_3", *formats]}
    found["accuracy:dense"] = lambda model: model["accuracy"].get("dense")
    for key in timing_keys:
        found[f"time:{key}"] = lambda model, key=key: model["timings"].get(key, {}).get("median_s")
    return found


def points(results: dict, subject: str, ratio_range: str | None = None) -> tuple[list[float], list[float]]:
    """(x, y) of every pruned model (in ``ratio_range``, if given) that measured ``subject``, ordered by
    ratio then seed."""
    measure = measures(results)[subject]
    pairs = sorted((float(model["ratio"]), int(model["seed"]), measure(model)) for model in results["models"]
                   if model["ratio"] > 0 and measure(model) is not None
                   and (ratio_range is None or range_of(model["ratio"]) == ratio_range))
    return [ratio for ratio, _, _ in pairs], [float(value) for _, _, value in pairs]


def baseline_step_1(results: dict) -> float | None:
    """Median over seeds of the baseline's step_1 checkpoint size, the paper's 'original model'."""
    sizes = [model["sizes"].get("step_1") for model in results["models"] if model["ratio"] == 0]
    sizes = [size for size in sizes if size is not None]
    return float(statistics.median(sizes)) if sizes else None


def margins_of(results: dict) -> dict[str, float]:
    """The margins the run stated (older results: the defaults)."""
    margins = results.get("margins") or {}
    return {"accuracy": float(margins.get("accuracy", DEFAULT_ACCURACY_MARGIN)),
            "time": float(margins.get("time", DEFAULT_TIME_MARGIN))}


# ---- the pruned models against their references, per ratio ---------------------------------------------

def _pruned_by_ratio(results: dict, ratio_range: str) -> dict[float, list[dict]]:
    groups: dict[float, list[dict]] = {}
    for model in results["models"]:
        if model["ratio"] > 0 and range_of(model["ratio"]) == ratio_range:
            groups.setdefault(ratio_key(model["ratio"]), []).append(model)
    return dict(sorted(groups.items()))


def _baselines(results: dict) -> dict[int, dict]:
    return {int(model["seed"]): model for model in results["models"] if model["ratio"] == 0}


def accuracy_intervals(results: dict, ratio_range: str) -> tuple[dict[float, Interval], str | None]:
    """Per ratio, the paired accuracy difference from the baseline of each seed; or a reason it cannot be."""
    from prunebench.results.contract import decode_correct

    baselines, images = _baselines(results), int(results["profile"].get("eval_images") or 0)
    intervals = {}
    for ratio, models in _pruned_by_ratio(results, ratio_range).items():
        pairs = []
        for model in models:
            baseline = baselines.get(int(model["seed"]))
            if baseline is None:
                continue
            texts = (baseline.get("correct", {}).get("dense"), model.get("correct", {}).get("dense"))
            if None in texts or not images:
                return {}, "these results lack per-image correctness (schema 1); rerun the suite to judge (b)"
            pairs.append(tuple(decode_correct(text, images) for text in texts))
        if pairs:
            intervals[ratio] = accuracy_difference(pairs)
    return intervals, None if intervals else "no pruned model with a baseline of its seed"


def reference_rounds(results: dict, key: str) -> np.ndarray | None:
    """The unpruned model's time per round on one timing key, over every seed's baseline.

    Its time does not depend on the seed in expectation, but each built instance runs a few percent faster
    or slower than another. One baseline as the reference would pass its own quirk on to every ratio of its
    seed; the geometric mean over the baselines of round k (the rounds are interleaved, so they are
    simultaneous) averages it out. None when a baseline lacks raw rounds.
    """
    timings = [model["timings"][key] for model in _baselines(results).values() if key in model["timings"]]
    if not timings or any("samples_s" not in timing for timing in timings):
        return None
    rounds = [np.asarray(timing["samples_s"], float) for timing in timings]
    if len({len(values) for values in rounds}) == 1:
        return np.exp(np.mean(np.log(rounds), axis=0))
    return np.concatenate(rounds)  # not simultaneous: pooled, and resampled on its own


def time_intervals(results: dict, ratio_range: str, key: str) -> tuple[dict[float, Interval], str | None]:
    """Per ratio, the time ratio of each seed's pruned model to the unpruned model (``reference_rounds``)
    on the same timing key; or why not."""
    if any("samples_s" not in model["timings"][key] for model in results["models"] if key in model["timings"]):
        return {}, "these results lack raw timing rounds (schema 1); rerun the suite to judge (c)"
    reference = reference_rounds(results, key)
    if reference is None:
        return {}, "no timing of the unpruned model on this key"
    intervals = {}
    for ratio, models in _pruned_by_ratio(results, ratio_range).items():
        pairs = [(reference, np.asarray(model["timings"][key]["samples_s"], float))
                 for model in models if key in model["timings"]]
        if pairs:
            intervals[ratio] = time_ratio(pairs)
    return intervals, None if intervals else "no timing of a pruned model"


def fewest_rounds(results: dict, key: str) -> int:
    """The fewest interleaved rounds any model was timed with on one timing key."""
    return min(timing["rounds"] for model in results["models"] for k, timing in model["timings"].items() if k == key)


def subject_noise(results: dict, key: str) -> float | None:
    """Median over the models of one timing key's IQR/median."""
    values = [model["timings"][key].get("noise") for model in results["models"] if key in model["timings"]]
    values = [value for value in values if value is not None]
    return float(statistics.median(values)) if values else None


def machine_noise(results: dict) -> float | None:
    """The run's noise figure: median over every network timing of its IQR/median."""
    values = [timing.get("noise") for model in results["models"] for key, timing in model["timings"].items()
              if TimingKey.parse(key).scope == "network" and timing.get("noise") is not None]
    return float(statistics.median(values)) if values else None

