"""What each claim is expected to conclude, and when those expectations apply.

Recorded: ``expectations/<profile>.json`` holds the expected verdicts of (a), (b) and (d), which depend on
no machine, keyed ``<id>[@paper|@beyond][/method]:<subject or *>``; the most specific key wins (``recorded``).

Derived: claim (c)'s, from what an engine's work depends on rather than recorded per machine. Whether
pruning speeds a network up is a property of the engine, not of the CPU: an engine that multiplies every
weight (``WORK_DENSE``) does the same work at every ratio, and one whose pruned kernels cost per stored
nonzero (``WORK_NONZEROS``) does less. The registry (``ENGINES[name].work``) says which; this module turns
that into an expectation that holds on any machine:

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
the time must fall at least as far as the MACs do. A fixed per-call overhead pulls the other way, which is
why the expectation asks only that the time leave the margin.

A machine where a derived expectation does not hold records its own under the expectations file's
``machines``: keys are shell-style patterns (``fnmatch``, case-sensitive) over the machine class
``"<cpu model> / <GPUs or no GPU>"``, tried in file order; the first that matches applies, and its entry
for a subject overrides the derived one.

Protocol: the expectations describe each profile with its own settings (``ACCURACY_SETTINGS`` of
prunebench.results.profiles: those that change a model's weights or its accuracy, as compare counts them).
A run that differs in one measures another protocol, so its verdicts are reported, not gated; ratios, seeds
and methods may differ (expectations are per range and method).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Collection, Iterable, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from prunebench.errors import DataError
from prunebench.model.constants import (
    FC1_INPUTS,
    WEIGHT_KERNELS,
    WORK_DENSE,
    WORK_NONZEROS,
    weight_shapes,
)
from prunebench.prune.methods import DEFAULT_METHOD, METHODS, removes_neurons
from prunebench.results.keys import TimingKey
from prunebench.results.profiles import ACCURACY_SETTINGS, PROFILES, SHARED_SETTINGS

VERDICTS = ("supported", "refuted", "inconclusive")
POOL_AREA = 4  # each conv is followed by a 2x2 max-pool (model/cnn.py): it runs at 4x the positions after it


# ---- recorded: the expectations files ------------------------------------------------------------------

def read_expectations(path: str | os.PathLike, claim_ids: Collection[str],
                      machine_gated: Collection[str]) -> dict[str, Any]:
    """The checked-in expected verdicts: ``{"claims": {key: entry}, "machines": {pattern: {key: entry}}}``
    with keys ``<id>[@<paper|beyond>][/method]:<subject or *>`` of the claims ``claim_ids`` and entries
    ``{"verdict": ..., "reason": ...}``. The ``machine_gated`` claims have their expectation derived, so they
    appear only under ``machines``, and only they do: one place for each expected verdict."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: expectations file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: cannot read expectations as JSON ({error})") from None
    if not isinstance(data, dict) or set(data) - {"claims", "machines", "notes"}:
        raise DataError(f"{path}: expectations must be a JSON object with 'claims' and 'machines'")
    tables = [("claims", data.get("claims", {}))]
    machines = data.get("machines", {})
    if not isinstance(machines, dict):
        raise DataError(f"{path}: 'machines' must map a machine class pattern to its expectations")
    tables += [(f"machines[{name!r}]", table) for name, table in machines.items()]
    key_pattern = re.compile(rf"^({'|'.join(map(re.escape, claim_ids))})(@(paper|beyond))?(/[a-z0-9-]+)?:.+$")
    for where, table in tables:
        if not isinstance(table, dict):
            raise DataError(f"{path}: {where} must be an object keyed '<id>[@range]:<subject>'")
        for key, entry in table.items():
            match = key_pattern.match(key)
            if not match:
                raise DataError(f"{path}: {where} key {key!r} is not "
                                f"'<{'|'.join(claim_ids)}>[@paper|@beyond][/method]:<subject or *>'")
            if (match.group(1) in machine_gated) != (where != "claims"):
                raise DataError(f"{path}: {where} key {key!r}: time claims ({', '.join(machine_gated)}) are "
                                "derived from the engine's work and overridden only under 'machines', which "
                                "holds nothing else")
            if not isinstance(entry, dict) or entry.get("verdict") not in VERDICTS:
                raise DataError(f"{path}: {where} {key!r} needs a 'verdict' among {', '.join(VERDICTS)}")
            if not isinstance(entry.get("reason", ""), str):
                raise DataError(f"{path}: {where} {key!r} has a 'reason' that is not a string")
    return data


def recorded(table: dict, claim_id: str, ratio_range: str, subject: str, method: str = DEFAULT_METHOD) -> dict | None:
    """The most specific entry: a method's own (``b@beyond/gradual:accuracy:dense``) before any method's."""
    for tail in (f"/{method}", ""):
        for key in (f"{claim_id}@{ratio_range}{tail}:{subject}", f"{claim_id}{tail}:{subject}",
                    f"{claim_id}@{ratio_range}{tail}:*", f"{claim_id}{tail}:*"):
            if key in table:
                return table[key]
    return None


def machine_table(machines: Mapping[str, dict], machine: str) -> dict | None:
    """The ``machines`` entry for a machine class: the first pattern in file order that matches it."""
    return next((table for pattern, table in machines.items() if fnmatchcase(machine, pattern)), None)


# ---- protocol: when a profile's expectations apply -----------------------------------------------------

PROTOCOL_NOT_GATED = "settings differ from those the profile's expectations describe: "


def profile_protocol(name: str) -> dict[str, Any] | None:
    """The protocol settings of the named profile (``ACCURACY_SETTINGS``); None if there is no such profile."""
    if name not in PROFILES:
        return None
    return {setting: PROFILES[name].get(setting, SHARED_SETTINGS.get(setting)) for setting in ACCURACY_SETTINGS}


def _setting_text(value: Any) -> str:
    return ",".join(value) if isinstance(value, list | tuple) else str(value)


def _comparable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def protocol_overrides(profile: dict) -> list[str]:
    """How a run's settings differ from its named profile's (e.g. ``--retrain-steps 10000`` on the methods
    profile): such a run measures another protocol, so the profile's expected verdicts do not apply to it.
    Ratios, seeds and methods may differ (expectations are per range and method)."""
    own = profile_protocol(profile.get("name"))
    if own is None:
        return []
    return [f"{name} {_setting_text(profile[name])} (profile: {_setting_text(own[name])})"
            for name in ACCURACY_SETTINGS if name in profile and _comparable(profile[name]) != _comparable(own[name])]


# ---- derived: claim (c)'s expectation from the engine's work --------------------------------------------

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

    The work is read from the results' engine records (``results.readers.engine_records``)."""
    engine = TimingKey.parse(subject.removeprefix("time:")).engine
    work = (engines or {}).get(engine, {}).get("work")
    if work is None:
        return {}, f"engine {engine!r}: the results do not record its work (results of an older suite)"
    if method not in METHODS:
        return {}, f"pruning method {method!r} is not in this version's registry (results of an older suite)"
    predicted = predicted_work_ratio(top_ratio, variables, weight_shapes())
    return work_expectation(work, removes_neurons(method), top_ratio, predicted, margin, engine)
