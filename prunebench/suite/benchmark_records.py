"""One pytest-benchmark record per model of each network benchmark, added to the JSON pytest-benchmark writes.

``bench/test_inference.py::test_network`` times every model of the sweep round-robin under one pytest-benchmark
benchmark per (engine, device, batch): a round there is one pass over all the models, so that record's statistics
are the whole sweep's and ``pytest-benchmark compare`` cannot see one model's time. Each record built here holds
one model's own rounds from that schedule: the results' ``samples_s`` of the model and timing key (an unpruned
model's are the geometric mean over its instances, round by round), so its median is the results' ``median_s``
and ``prunebench compare`` reads its ``stats.data`` as that timing's rounds (``prunebench.compare.reading``).

The sweep's own record stays, in a group of its own (``SWEEP_GROUP``): it is the honest record of what
pytest-benchmark timed, and its node id keeps it comparable with JSON written before these records existed.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_benchmark.stats import Stats

from prunebench.results.keys import TimingKey, model_label
from prunebench.results.spec import ModelSpec

SWEEP_GROUP = "test_network, whole sweep (a round times every model)"
# What a model's record repeats from its sweep's extra_info (test_network sets them)
SWEEP_INFO = ("scope", "engine", "device", "batch_size", "sparse")


def model_records(sweep: Mapping, key: str, timings: Mapping[ModelSpec, Mapping[str, dict]]) -> list[dict]:
    """The records, shaped as pytest-benchmark writes its own, of every model timed under ``key`` in the sweep
    whose record is ``sweep``; ``timings`` is the session's (model -> timing key -> results timing entry).

    Grouped by timing key, so ``pytest-benchmark compare --group-by=group`` lists each engine, device and
    batch's models together; raw rounds (``stats.data``) only where pytest-benchmark saved the sweep's.
    """
    timing_key = TimingKey.parse(key)
    include_data = "data" in sweep["stats"]
    records = []
    for spec, entries in timings.items():
        if key not in entries:
            continue
        entry = entries[key]
        stats = Stats()
        for seconds in entry["samples_s"]:
            stats.update(seconds)
        label = model_label(spec.method, spec.ratio, spec.seed)
        records.append({
            "group": key,
            "name": f"{sweep['name']} {label}",
            "fullname": f"{sweep['fullname']} {label}",
            "params": {"engine": timing_key.engine, "device": timing_key.device, "batch": timing_key.batch,
                       "model": spec.id},
            "param": f"{sweep['param']}-{spec.id}",
            "extra_info": {**{name: sweep["extra_info"][name] for name in SWEEP_INFO},
                           "model": spec.id, "ratio": spec.ratio, "seed": spec.seed, "method": spec.method,
                           "rounds": entry["rounds"], "noise": entry["noise"], "instances": entry["instances"],
                           "interleaved_in": sweep["fullname"]},
            "options": dict(sweep["options"]),
            "stats": {**stats.as_dict(), **({"data": list(stats.data)} if include_data else {}), "iterations": 1},
        })
    return records


def add_model_records(output_json: dict, sweeps: Mapping[str, str],
                      timings: Mapping[ModelSpec, Mapping[str, dict]]) -> None:
    """Append to pytest-benchmark's ``output_json`` the model records of each sweep it holds; ``sweeps`` maps a
    sweep's node id to its timing key (``SessionState.network_sweeps``)."""
    benchmarks = output_json["benchmarks"]
    for sweep in [record for record in benchmarks if record["fullname"] in sweeps]:
        benchmarks.extend(model_records(sweep, sweeps[sweep["fullname"]], timings))
