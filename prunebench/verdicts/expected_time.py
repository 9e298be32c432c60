"""Claim (c)'s expected verdict, derived from what an engine's work depends on rather than recorded per machine.

Whether pruning speeds a network up is a property of the engine, not of the CPU: an engine that multiplies
every weight (``WORK_DENSE``) does the same work at every ratio, and one whose pruned kernels cost per
stored nonzero (``WORK_NONZEROS``) does less. The registry (``ENGINES[name].work``) says which; this module
turns that into an expectation that holds on any machine:

- dense work: "supported" (the same work, so the time stays within the margin);
- work per nonzero: "refuted" over a range where the predicted work ratio at the range's highest measured
  ratio lies below ``1/(1+margin)``; no expectation where it stays inside the margin;
- a converter's choice (LiteRT keeps a kernel sparse or densifies it as it sees fit): no expectation;
- a method that removes whole fc1 neurons runs a narrower dense network on every engine, so there every
  engine's work is predicted like a nonzeros engine's.

The predicted work ratio counts multiply-accumulates per image: the conv layers dense, each pruned fully
connected kernel at ``1 - ratio`` of its weights, an unpruned one dense. With the pruned and the unpruned
model on the same engine, the time ratio is ``(conv + c * (1 - ratio) * fc) / (conv + c * fc)`` for a cost
``c`` per pruned-kernel nonzero relative to a dense conv MAC, which falls as ``c`` grows: wherever ``c >= 1``
the time must fall at least as far as the MACs do. Every sparse kernel measured so far costs more per
nonzero than a dense MAC (docs/paper-run-2026-11-28: 0.14x-0.67x at 90% against 0.79x predicted); a fixed
per-call overhead pulls the other way, which is why the expectation asks only that the time leave the margin.

A machine where a derived expectation does not hold records its own under the expectations file's
``machines``: keys are shell-style patterns (``fnmatch``, case-sensitive) over the machine class
``"<cpu model> / <GPUs or no GPU>"``, tried in file order; the first that matches applies, and its entry
for a subject overrides the derived one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from prunebench.model.constants import FC1_INPUTS, WEIGHT_KERNELS, WORK_DENSE, WORK_NONZEROS, weight_shapes
from prunebench.results.keys import TimingKey

POOL_AREA = 4  # each conv is followed by a 2x2 max-pool (model/cnn.py): it runs at 4x the positions after it


def kernel_macs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int]:
    """Multiply-accumulates per image of each weight kernel (``model.constants.weight_shapes()``).

    A fully connected kernel (in, out) costs one MAC a weight. A conv kernel (kh, kw, in, out) costs one per
    weight and output position; with SAME padding a conv keeps its input's positions, and the positions
    after the last pool are fc1's inputs over the last conv's channels, so each earlier stage is
    ``POOL_AREA`` times the next.
    """
    kernels = [name for name in WEIGHT_KERNELS if name in shapes]
    convs = [name for name in kernels if len(shapes[name]) == 4]
    macs = {name: math.prod(shapes[name]) for name in kernels if len(shapes[name]) == 2}
    positions = FC1_INPUTS // shapes[convs[-1]][-1]
    for name in reversed(convs):
        positions *= POOL_AREA
        macs[name] = positions * math.prod(shapes[name])
    return macs


def predicted_work_ratio(ratio: float, pruned: Iterable[str], shapes: Mapping[str, tuple[int, ...]]) -> float:
    """Work of a model pruned at ``ratio`` over the unpruned model's, for an engine whose pruned fully
    connected kernels cost per stored nonzero: those at ``1 - ratio`` of their MACs, every other kernel
    (the conv stack, always run dense, and unpruned fc kernels) at all of them."""
    macs = kernel_macs(shapes)
    thinned = {name for name in pruned if name in macs and len(shapes[name]) == 2}
    return sum(count * ((1.0 - ratio) if name in thinned else 1.0) for name, count in macs.items()) / sum(macs.values())


def machine_table(machines: Mapping[str, dict], machine: str) -> dict | None:
    """The ``machines`` entry for a machine class: the first pattern in file order that matches it."""
    return next((table for pattern, table in machines.items() if fnmatchcase(machine, pattern)), None)


def work_expectation(work: str, shrinks: bool, top_ratio: float, predicted: float, margin: float,
                     engine: str) -> tuple[dict, str | None]:
    """(expected entry, why not gated) for an engine whose work is ``work`` (``model.constants.WORKS``);
    ``shrinks`` when the method removes whole neurons, ``predicted`` the work ratio at ``top_ratio``, the
    range's highest measured ratio."""
    if work == WORK_NONZEROS or shrinks:
        why = ("the method removes whole fc1 neurons: a narrower network on every engine" if shrinks else
               f"registry: {engine}'s pruned fc kernels cost per stored nonzero")
        prediction = f"predicted work {predicted:.3f}x of the unpruned model's at ratio {top_ratio:g} (MACs per image)"
        if predicted < 1 / (1 + margin):
            return {"verdict": "refuted",
                    "reason": f"{why}; {prediction}, below the margin's {1 / (1 + margin):.3f}x"}, None
        return {}, f"{why}, but the {prediction} stays inside the ±{margin * 100:g}% margin: no expectation"
    if work == WORK_DENSE:
        return {"verdict": "supported", "reason": f"registry: {engine} multiplies every weight, zero or not, "
                                                  "so it does the same work at every ratio"}, None
    return {}, (f"{engine}: the converter decides per kernel whether to keep it sparse, so its work at a "
                "ratio is not known in advance")


def derived_time_expectation(subject: str, method: str, top_ratio: float, variables: Iterable[str],
                             margin: float, engines: Mapping[str, dict] | None = None) -> tuple[dict, str | None]:
    """(expected entry, why not gated) of a (c) subject ``time:<timing key>`` from the engine's work.

    The work is read from the results' own engine records (``engines``, written from the registry by the run);
    results of a suite that did not record it ask this version's registry, which imports TensorFlow."""
    from prunebench.prune.methods import METHODS, removes_neurons

    engine = TimingKey.parse(subject.removeprefix("time:")).engine
    work = (engines or {}).get(engine, {}).get("work")
    if work is None:
        from prunebench.model.engines import ENGINES

        if engine not in ENGINES:
            return {}, f"engine {engine!r} is not in this version's engine registry (results of an older suite)"
        work = ENGINES[engine].work
    if method not in METHODS:
        return {}, f"pruning method {method!r} is not in this version's registry (results of an older suite)"
    predicted = predicted_work_ratio(top_ratio, variables, weight_shapes())
    return work_expectation(work, removes_neurons(method), top_ratio, predicted, margin, engine)
