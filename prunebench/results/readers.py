"""Reading a results dict: the values the report, the goals and ``prunebench compare`` take from it.

These read and reduce (medians over seeds, the best engine of a kind); they format nothing, so every reader
shares one reading of the results JSON (docs/CONTRACTS.md) and none imports another's presentation. They
need no TensorFlow: the one exception is ``engine_sparsity`` on results that did not record their engines.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from typing import Any

from prunebench.model.constants import WORK_CONVERTER, WORK_DENSE, WORK_NONZEROS
from prunebench.results.keys import TimingKey, ratio_key

Getter = Callable[[dict], Any]


def percent(ratio: float) -> str:
    """A pruning ratio as every reader writes it in text: 0.9 → ``90%``."""
    return f"{ratio * 100:g}%"


def models_by_ratio(results: dict) -> dict[float, list[dict]]:
    """The models grouped by ratio (all seeds together), in increasing ratio."""
    groups: dict[float, list[dict]] = {}
    for model in results["models"]:
        groups.setdefault(ratio_key(model["ratio"]), []).append(model)
    return dict(sorted(groups.items()))


def fc1_groups(results: dict) -> dict[float, list[dict]]:
    """FC1 timings live beside the models (FC1 is timed on the baseline's kernel pruned at its own ratios):
    grouped like ``models_by_ratio``, one entry per ratio."""
    return {float(entry["ratio"]): [entry] for entry in sorted(results.get("fc1", []), key=lambda e: e["ratio"])}


def fc1_entries(results: dict, section: str) -> dict[float, dict]:
    """The entries of one FC1 section (``fc1``, ``fc1_neurons``, ``fc1_blocks``) by ratio."""
    return {ratio_key(entry["ratio"]): entry for entry in results.get(section) or []}


def median_of(models: Iterable[dict], get: Getter) -> float | None:
    """Median over seeds of ``get(model)``, ignoring models that did not measure it."""
    values = [value for value in map(get, models) if value is not None]
    return float(statistics.median(values)) if values else None


def dig(*keys: str) -> Getter:
    """A getter for a nested value, None where any level is missing or None."""
    def get(model: dict) -> Any:
        value: Any = model
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value
    return get


# What the engine registry said of its engines when a run did not yet record it in the results (schema 1
# recorded nothing, early schema-2 runs only ``sparse``). A fact about those files, so it stays as it is;
# a run records its own registry's answer (``engines`` in the results).
EARLIER_ENGINES = {
    "tf-dense": {"sparse": False, "work": WORK_DENSE},
    "tf-sparse": {"sparse": True, "work": WORK_NONZEROS},
    "tflite-dense": {"sparse": False, "work": WORK_DENSE},
    "tflite-sparse": {"sparse": True, "work": WORK_CONVERTER},
    "scipy-csr": {"sparse": True, "work": WORK_NONZEROS},
    "mkl-csr": {"sparse": True, "work": WORK_NONZEROS},
    "numba-csr": {"sparse": True, "work": WORK_NONZEROS},
    "numba-bcsr": {"sparse": True, "work": WORK_NONZEROS},
}


def engine_records(results: dict) -> dict[str, dict]:
    """Each engine's facts (``sparse``, ``work``) as the run recorded them, completed from
    ``EARLIER_ENGINES`` for results written before they were recorded."""
    recorded = results.get("engines") or {}
    return {name: {**EARLIER_ENGINES.get(name, {}), **recorded.get(name, {})}
            for name in {**EARLIER_ENGINES, **recorded}}


def engine_sparsity(results: dict) -> dict[str, bool]:
    """Whether each engine exploits sparsity (see ``engine_records``)."""
    return {name: bool(entry["sparse"]) for name, entry in engine_records(results).items() if "sparse" in entry}


def fc1_times(entry: dict | None, sparse: dict[str, bool], want_sparse: bool, device: str, scope: str,
              batch: int | str) -> dict[str, float]:
    """Median seconds per engine of an FC1 entry's timings at (device, scope, batch), sparse engines or dense."""
    found = {}
    for key, timing in ((entry or {}).get("timings") or {}).items():
        parsed = TimingKey.parse(key)
        if ((parsed.device, parsed.scope, str(parsed.batch)) == (device, scope, str(batch))
                and sparse.get(parsed.engine) == want_sparse):
            found[parsed.engine] = timing["median_s"]
    return found


def best_dense(times_by_engine: dict[str, list[float | None]], sparse: dict[str, bool]) -> list[float | None]:
    """At each position (a ratio), the smallest time of the dense engines among ``times_by_engine``, None
    where no dense engine was timed: what a sparse engine has to beat. ``sparse`` names every engine."""
    length = max(map(len, times_by_engine.values()), default=0)
    dense = [times for engine, times in times_by_engine.items() if not sparse[engine]]
    return [min((times[i] for times in dense if times[i] is not None), default=None) for i in range(length)]


def smallest_lossless(formats: dict, field_name: str = "model_bytes") -> tuple[int, str] | None:
    """(bytes, format) of the smallest lossless format of one model's ``formats`` entry, by ``field_name``;
    formats the registry does not know (or knows as lossy) do not count."""
    from prunebench.prune.formats import FORMATS

    sizes = [(row[field_name], name) for name, row in formats.items() if name in FORMATS and FORMATS[name].lossless]
    return min(sizes, default=None)
