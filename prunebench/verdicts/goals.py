"""The targets this project sets beyond the paper (issue 18), each measured from a results dict alone.

A goal states a target; it is met or shows its gap, in the report and the session's summary, never as a test
that can only pass or xfail. A goal the committed runs meet also carries a gate: the level it was measured at
less a stated margin for noise, which ``bench/test_goals.py`` asserts on every run that measures the same
quantity under the same conditions, so a regression fails instead of turning into an xfail.

Everything here reads the results JSON (docs/CONTRACTS.md) through ``prunebench.results.readers``, so a goal
can be judged on any kept run; the judgements are data, which ``prunebench.report.goals_table`` writes as a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from prunebench.prune.formats.registry import SIZE_TABLE_FORMATS
from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.prune.policy import DEFAULT_PRUNED
from prunebench.results.keys import FC1_SECTIONS, ratio_key
from prunebench.results.profiles import PROFILES
from prunebench.results.readers import (
    dig,
    engine_sparsity,
    fc1_entries,
    fc1_times,
    median_of,
    percent,
    smallest_lossless,
)
from prunebench.verdicts.evidence import method_of
from prunebench.verdicts.paper import MIB

DEVICE = "cpu"  # the goals are CPU targets: FC1 timings on a GPU are not judged here
WHOLE_TEST_SET = PROFILES["paper"]["eval_images"]  # accuracy goals are judged on all 10,000 test images
# A time gate reads its goal's race (bench/test_fc1.py: both engines warm, side by side in every round, the median
# of the per-round ratios), and its level is the lowest of the races run for it. Pairing cancels a slow stretch
# both sides meet, not one side's alone: LiteRT's sparse FC1 call at 99% has a slow mode, up to 1.8x slower, that
# lasts seconds while the dense call beside it stays put (docs/fc1-races-2026-12-03). Half the level passes a race
# run wholly in that mode and fails one that lost the kernel the goal is about.
RACES = "docs/fc1-races-2026-12-03 (lowest of 3 races)"
TIME_GATE_MARGIN = 0.5


@dataclass(frozen=True)
class Unit:
    """How a goal's values read: ``text(value)``, and ``gap(value, target)`` in words where a goal is unmet."""

    text: Callable[[float], str]
    gap: Callable[[float, float], str]


MIB_UNIT = Unit(lambda value: f"{value:.3f} MiB", lambda value, target: f"{value - target:.3f} MiB too large")
SPEEDUP = Unit(lambda value: f"{value:.2f}x",
               lambda value, target: f"sparse needs to be {target / value:.2f}x faster")
ACCURACY = Unit(lambda value: f"{value:.2%}", lambda value, target: f"{(target - value) * 100:.2f} pt short")


@dataclass(frozen=True)
class Needs:
    """What a run must be for a goal to be measured, or for a gate's level to apply to it: read from the
    results' profile record, so the suite can decide before it measures and a report after."""

    ratios: tuple[float, ...] = ()  # pruning ratios the run must include
    profile: Mapping[str, Any] = field(default_factory=dict)  # profile-record fields and the values they need
    methods: tuple[str, ...] = ()  # pruning methods the run must include
    formats: tuple[str, ...] = ()  # storage formats the run's size table must include

    def missing(self, profile: dict) -> list[str]:
        """Why a run with this profile record falls short; empty when it does not."""
        ratios = {ratio_key(ratio) for ratio in profile["ratios"]}
        methods = profile.get("methods") or [DEFAULT_METHOD]
        reasons = [f"ratio {percent(ratio)} not in the run" for ratio in self.ratios if ratio_key(ratio) not in ratios]
        reasons += [f"{name} is {profile.get(name)}, needs {value}" for name, value in self.profile.items()
                    if profile.get(name) != value]
        reasons += [f"method {method} not in the run" for method in self.methods if method not in methods]
        formats = profile.get("formats") or SIZE_TABLE_FORMATS  # recorded where the table is not the default
        reasons += [f"format {name} not measured" for name in self.formats if name not in formats]
        if profile.get("workload") is not None:  # every goal's level was measured on the paper's CNN
            reasons.append(f"workload is {profile['workload']}, the goals are the paper CNN's")
        return reasons

    def describe(self) -> str:
        parts = [f"ratio {percent(ratio)}" for ratio in self.ratios]
        parts += [f"{name} {value}" for name, value in self.profile.items()]
        parts += [f"method {method}" for method in self.methods]
        parts += [f"format {name}" for name in self.formats]
        return ", ".join(parts)


@dataclass(frozen=True)
class Measurement:
    value: float  # in the goal's unit
    detail: str  # what was compared to get it (engines, methods, formats), for a reader to check


@dataclass(frozen=True)
class Gate:
    """A met goal held at its measured ``level`` less ``margin`` (a fraction of the level) for noise, on runs
    that also meet ``needs`` (beyond the goal's own): the conditions the level was measured under."""

    level: float
    margin: float
    source: str  # where the level was measured
    needs: Needs = Needs()
    every_engine: bool = False  # a level that is the best of every engine holds only where every engine was timed


@dataclass(frozen=True)
class GateCheck:
    passed: bool
    text: str


@dataclass(frozen=True)
class Goal:
    id: str
    statement: str
    target: float
    unit: Unit
    at_most: bool  # met at or below the target (a size), else at or above it (a speedup, an accuracy)
    measure: Callable[[dict], Measurement | None]  # from a results dict; None where it holds no such data
    where: str  # the data the measurement needs, in words
    needs: Needs = Needs()
    gate: Gate | None = None

    def met(self, measurement: Measurement) -> bool:
        return measurement.value <= self.target if self.at_most else measurement.value >= self.target

    def judge(self, results: dict) -> Measurement | None:
        """The measurement, where the run is one this goal is defined on (``needs``), else None."""
        if self.needs.missing(results["profile"]):
            return None
        return self.measure(results)

    def gate_limit(self) -> float:
        """The value a gated run may not cross: the gate's level moved by its margin toward the target side."""
        return self.gate.level * (1 + self.gate.margin if self.at_most else 1 - self.gate.margin)

    def gate_missing(self, profile: dict) -> list[str]:
        """Why the gate does not apply to a run with this profile record (the goal's needs and the gate's own, a
        reason both give said once)."""
        return list(dict.fromkeys(self.needs.missing(profile) + self.gate.needs.missing(profile)))

    def check_gate(self, measurement: Measurement) -> GateCheck:
        limit = self.gate_limit()
        passed = measurement.value <= limit if self.at_most else measurement.value >= limit
        bound = "at most" if self.at_most else "at least"
        return GateCheck(passed, f"{self.id}: measured {self.unit.text(measurement.value)} ({measurement.detail}); "
                                 f"gate: {bound} {self.unit.text(limit)} ({self.unit.text(self.gate.level)} measured "
                                 f"in {self.gate.source}, margin {self.gate.margin:.0%})")


# ---- measures -----------------------------------------------------------------------------------------

def largest_best_size(results: dict, ratio: float) -> Measurement | None:
    """The whole model at ``ratio`` in its smallest lossless format, the largest over seeds and methods: the
    goal holds for every model of the run or not at all."""
    found = [(best, model) for model in results["models"] if ratio_key(model["ratio"]) == ratio_key(ratio)
             if (best := smallest_lossless(model["formats"])) is not None]
    if not found:
        return None
    (size, name), model = max(found, key=lambda item: item[0])
    return Measurement(size / MIB, f"largest of {len(found)} model(s): {method_of(model)} seed {model['seed']} "
                                   f"in {name}")


@dataclass(frozen=True)
class Race:
    """The best engine on a goal's kernel against the best dense engine on FC1: their median seconds for one
    call and the speedup. ``paired_rounds`` counts the rounds where both were timed side by side (a race of
    the ``fc1_races`` section: the speedup is the median of the per-round ratios); 0 where it is the ratio of
    two medians timed apart (the FC1 sections alone)."""

    subject: str
    subject_s: float
    reference: str
    reference_s: float
    speedup: float
    paired_rounds: int = 0

    def text(self, subject_label: str = "", reference_label: str = "") -> str:
        paired = f", paired over {self.paired_rounds} rounds" if self.paired_rounds else ""
        return (f"{self.subject} {self.subject_s * 1e3:.4f} ms{subject_label} vs {self.reference} "
                f"{self.reference_s * 1e3:.4f} ms{reference_label}{paired}")


def fastest(times: dict[str, float]) -> tuple[str, float] | None:
    return min(times.items(), key=lambda item: item[1], default=None)


@dataclass(frozen=True)
class Fc1Race:
    """What a speedup goal compares: on FC1 as ``scope`` prunes it (``fc1`` weight by weight and ``fc1-blocks``
    in 1x4 blocks, the best sparse engine; ``fc1-neurons`` the narrower layer, the best dense engine) against
    the best dense engine on FC1, at ``batch``, at ``ratio`` (and every ratio above it where ``and_above``: the
    worst of them counts). The dense reference runs at the same ratio, its time not depending on the values;
    against the narrower layer it is the unpruned FC1."""

    scope: str
    batch: int
    ratio: float
    and_above: bool = False

    @property
    def section(self) -> str:
        """The results section of the subject's FC1 timings (``FC1_SECTIONS``)."""
        return next(name for name, scope in FC1_SECTIONS.items() if scope == self.scope)

    @property
    def subject_sparse(self) -> bool:
        return self.scope != "fc1-neurons"

    def reference_ratio(self, ratio: float) -> float:
        return 0.0 if self.scope == "fc1-neurons" else ratio

    def ratios(self, available: Iterable[float]) -> list[float]:
        """The ratios of ``available`` this race runs at."""
        return sorted(ratio for ratio in available if (ratio_key(ratio) >= ratio_key(self.ratio) if self.and_above
                                                       else ratio_key(ratio) == ratio_key(self.ratio)))

    def pick(self, results: dict, ratio: float) -> tuple[tuple[str, float], tuple[str, float]] | None:
        """The (engine, median seconds) of the subject and of the reference at ``ratio`` in the FC1 sections,
        the fastest of each kind; None where either was not timed."""
        sparse = engine_sparsity(results)
        subject = fastest(fc1_times(fc1_entries(results, self.section).get(ratio_key(ratio)), sparse,
                                    self.subject_sparse, DEVICE, self.scope, self.batch))
        reference = fastest(fc1_times(fc1_entries(results, "fc1").get(ratio_key(self.reference_ratio(ratio))),
                                      sparse, False, DEVICE, "fc1", self.batch))
        return (subject, reference) if subject and reference else None

    def races(self, results: dict) -> dict[float, Race]:
        """Per ratio, the paired race of the ``fc1_races`` section where the run has one, else the two
        fastest medians of the FC1 sections."""
        paired = {ratio_key(row["ratio"]): row for row in results.get("fc1_races") or []
                  if (row["scope"], str(row["batch"])) == (self.scope, str(self.batch))}
        races = {}
        for ratio in self.ratios(fc1_entries(results, self.section)):
            if (row := paired.get(ratio)) is not None:
                races[ratio] = Race(row["subject"], row["subject_median_s"], row["reference"],
                                    row["reference_median_s"], row["speedup"], row["rounds"])
            elif (picked := self.pick(results, ratio)) is not None:
                (subject, subject_s), (reference, reference_s) = picked
                races[ratio] = Race(subject, subject_s, reference, reference_s, reference_s / subject_s)
        return races

    def __call__(self, results: dict) -> Measurement | None:
        """The goal's measurement: the race's speedup, the worst over its ratios."""
        races = self.races(results)
        if not races:
            return None
        worst = min(races, key=lambda ratio: races[ratio].speedup)
        if self.scope == "fc1-neurons":
            detail = races[worst].text(f" without {percent(worst)} of the neurons", " unpruned")
        elif self.and_above:
            detail = f"at {percent(worst)}: {races[worst].text()}; " + ", ".join(
                f"{percent(ratio)} {races[ratio].speedup:.2f}x" for ratio in sorted(races))
        else:
            detail = races[worst].text()
        return Measurement(races[worst].speedup, detail)


def best_method_accuracy(results: dict, ratio: float) -> Measurement | None:
    """The best pruning method's dense test accuracy at ``ratio``, the median over its seeds (with one seed,
    the test set's own sampling error is about 0.1 point at 99%)."""
    by_method: dict[str, list[dict]] = {}
    for model in results["models"]:
        if model["ratio"] > 0 and ratio_key(model["ratio"]) == ratio_key(ratio):
            by_method.setdefault(method_of(model), []).append(model)
    accuracy = {method: median_of(models, dig("accuracy", "dense")) for method, models in by_method.items()}
    accuracy = {method: value for method, value in accuracy.items() if value is not None}
    if not accuracy:
        return None
    best = max(accuracy, key=accuracy.get)
    return Measurement(accuracy[best], f"{best}, of " + ", ".join(f"{method} {value:.2%}" for method, value
                                                                 in sorted(accuracy.items())))


# ---- the goals ----------------------------------------------------------------------------------------

PARITY_FROM = 0.9  # FC1 at batch 1: the best sparse engine at least as fast as the best dense one from here
# Time gates compare two engines timed side by side in one run, and their levels follow from the work each
# does (a tenth of the weights, LiteRT's block kernel against a dense one), so they hold on any CPU, at half the
# level measured on an AMD EPYC; their levels are the best of every engine, so they need every engine timed.
# Accuracy levels were measured with 10,000 training steps after the baseline, by gradual-global; a run with
# the profile's 2,000 steps (98.28% at 95%, 95.58% at 99%: docs/methods-run-2026-11-28) measures another thing.
ACCURACY_GATE_NEEDS = Needs(profile={"max_steps": 10_000, "retrain_steps": 10_000}, methods=("gradual-global",))
ACCURACY_GATE_MARGIN = 0.003  # of the level: 0.3 pt, three times the test set's sampling error at 99%

GOALS = (
    Goal("size-90", "whole model at 90% in the best lossless format at most 1.45 MiB", 1.45, MIB_UNIT, True,
         partial(largest_best_size, ratio=0.9), "storage format sizes", Needs(ratios=(0.9,)),
         # 1.280 MiB in the paper run, 1.293 MiB (the most) with 10,000 steps after the baseline, 1.254 MiB for
         # untrained weights pruned at 90% (computed for this gate): training moves it about 1%; pruning other
         # variables than the paper's moves it far more, so the gate holds for those only. The shuffled bitmask
         # was within 0.03% of gap-uint8 there, and is the smallest format of the CI's table.
         Gate(1.293, 0.01, "docs/methods-10k-run-2026-11-29 (one-shot, gap-uint8+shuffle+zstd)",
              Needs(profile={"variables": list(DEFAULT_PRUNED)}, formats=("bitmask+shuffle+zstd",)))),
    Goal("fc1-batch-1-parity-from-90", "FC1 at batch 1, pruned weight by weight: the best sparse engine at least "
         "as fast as the best dense one from 90%", 1.0, SPEEDUP, False,
         Fc1Race("fc1", 1, PARITY_FROM, and_above=True), "FC1 timings at batch 1"),
    Goal("fc1-batch-1-5x-at-99", "FC1 at batch 1, pruned weight by weight: the best sparse engine at least 5x "
         "faster than the best dense one at 99%", 5.0, SPEEDUP, False,
         Fc1Race("fc1", 1, 0.99), "FC1 timings at batch 1"),
    Goal("fc1-blocks-batch-1-parity-from-90", "FC1 at batch 1, pruned in 1x4 blocks: the best sparse engine at "
         "least as fast as the best dense one from 90%", 1.0, SPEEDUP, False,
         Fc1Race("fc1-blocks", 1, PARITY_FROM, and_above=True),
         "FC1 timings in 1x4 blocks at batch 1",
         # 1.16-1.33x at 90% in the races, near parity; at half, the gate catches a block kernel falling far
         # behind dense, not a lost 16%.
         gate=Gate(1.16, TIME_GATE_MARGIN, RACES, every_engine=True)),
    Goal("fc1-blocks-batch-1-5x-at-99", "FC1 at batch 1, pruned in 1x4 blocks: the best sparse engine at least "
         "5x faster than the best dense one at 99%", 5.0, SPEEDUP, False,
         Fc1Race("fc1-blocks", 1, 0.99), "FC1 timings in 1x4 blocks at batch 1",
         # 9.95-10.22x in the races: at half, losing LiteRT's block-sparse kernel (DENSIFY runs about as fast as
         # dense) fails it.
         gate=Gate(9.95, TIME_GATE_MARGIN, RACES, every_engine=True)),
    # Met once (1.83x in the paper run of 2026-11-26, tests/data/schema1-paper-run, against a tflite-dense twice as slow
    # as since), not in the three runs since (1.02x, 0.98x, 1.09x): no gate.
    Goal("fc1-batch-32-1.5x-from-90", "FC1 at batch 32, pruned weight by weight: the best sparse engine at least "
         "1.5x faster than the best dense one from 90%", 1.5, SPEEDUP, False,
         Fc1Race("fc1", 32, PARITY_FROM, and_above=True), "FC1 timings at batch 32"),
    # Met timed apart (5.07x in the structured run, 5.79x in methods-10k), not in the races (4.00-4.21x): no gate.
    Goal("structured-fc1-90-batch-1-5x", "FC1 at batch 1 without 90% of its neurons at least 5x faster than the "
         "best dense engine on the unpruned layer", 5.0, SPEEDUP, False,
         Fc1Race("fc1-neurons", 1, 0.9), "FC1 timings without neurons at batch 1"),
    Goal("accuracy-95", "the best pruning method's dense test accuracy at 95% at least 99.0%", 0.990, ACCURACY,
         False, partial(best_method_accuracy, ratio=0.95), "accuracies",
         Needs(ratios=(0.95,), profile={"eval_images": WHOLE_TEST_SET}),
         Gate(0.9921, ACCURACY_GATE_MARGIN, "docs/methods-10k-run-2026-11-29 (gradual-global)", ACCURACY_GATE_NEEDS)),
    Goal("accuracy-99", "the best pruning method's dense test accuracy at 99% at least 98.5%", 0.985, ACCURACY,
         False, partial(best_method_accuracy, ratio=0.99), "accuracies",
         Needs(ratios=(0.99,), profile={"eval_images": WHOLE_TEST_SET}),
         Gate(0.9895, ACCURACY_GATE_MARGIN, "docs/methods-10k-run-2026-11-29 (gradual-global)", ACCURACY_GATE_NEEDS)),
)


@dataclass(frozen=True)
class Judgement:
    """One goal judged on one results dict: the facts the goals table and the session's summary show."""

    goal: Goal
    measurement: Measurement | None  # None where the run is not one the goal is defined on, or holds no data
    not_defined: list[str]  # why the run is not one the goal is defined on (its needs); empty when it is
    gate_not_applied: list[str]  # why the gate's level does not apply to the run; empty when it does
    gate: GateCheck | None  # the gate checked on the measurement; None without a gate, measurement or fit

    @property
    def met(self) -> bool | None:
        return None if self.measurement is None else self.goal.met(self.measurement)


def judge_goals(results: dict) -> list[Judgement]:
    """Every goal judged on ``results``, in the order of ``GOALS``."""
    judgements = []
    for goal in GOALS:
        measurement = goal.judge(results)
        not_applied = [] if goal.gate is None else goal.gate_missing(results["profile"])
        check = None if goal.gate is None or not_applied or measurement is None else goal.check_gate(measurement)
        judgements.append(Judgement(goal, measurement, goal.needs.missing(results["profile"]), not_applied, check))
    return judgements
