"""pytest-benchmark records per model (``prunebench.suite.benchmark_records``): test_network times every model
round-robin under one record per (engine, device, batch); the JSON also gets one record per model of its own
rounds, whose median is the results' median_s, whose rounds ``prunebench compare`` reads, and which
``pytest-benchmark compare`` lists model by model."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import pytest_benchmark
from pytest_benchmark.stats import Metadata

from bench.timing import timing_entry
from prunebench.compare.reading import raw_rounds, timing_entries
from prunebench.results.keys import TimingKey, model_label
from prunebench.results.spec import ModelSpec
from prunebench.suite.benchmark_records import SWEEP_GROUP, add_model_records


def _label(spec: ModelSpec) -> str:
    return model_label(spec.method, spec.ratio, spec.seed)


ENGINES = {"tf-dense": False, "tf-sparse": True}  # engine -> sparse
BATCHES = (1, "all")
SPECS = (ModelSpec(0.0, 0), ModelSpec(0.9, 0), ModelSpec(0.9, 1), ModelSpec(0.9, 0, "gradual"))
OPTIONS = {"disable_gc": False, "timer": "perf_counter", "min_rounds": 5, "max_time": 1.0, "min_time": 5e-06,
           "precision": None, "confidence": None, "warmup": False}


def keys() -> list[str]:
    return [str(TimingKey(engine, "cpu", "network", batch)) for engine in ENGINES for batch in BATCHES]


def session_timings(rng_seed: int = 0) -> dict:
    """The session's timings as test_network leaves them: per model and key, a results timing entry of made-up
    rounds (odd and even counts, so both kinds of median are checked)."""
    rng = np.random.default_rng(rng_seed)
    timings = {}
    for index, spec in enumerate(SPECS):
        for key in keys():
            rounds = list(1e-3 * rng.lognormal(0.0, 0.1, 10 + index))
            timings.setdefault(spec, {})[key] = {**timing_entry(rounds), "instances": 3 if spec.ratio == 0 else 1}
    return timings


def sweep_record(key: str, include_data: bool) -> dict:
    """test_network's own record of ``key`` as pytest-benchmark writes it (its Metadata), one round per pass over
    every model."""
    timing_key = TimingKey.parse(key)
    param = f"{timing_key.engine}-batch={timing_key.batch}-{timing_key.device}"
    item = SimpleNamespace(
        name=f"test_network[{param}]", fullname=f"bench/test_inference.py::test_network[{param}]",
        group=SWEEP_GROUP, param=param, cprofile_stats=None,
        params={"network_engine": timing_key.engine, "network_batch": timing_key.batch, "device": timing_key.device},
        extra_info={"engine": timing_key.engine, "device": timing_key.device, "scope": "network",
                    "batch_size": 10_000 if timing_key.batch == "all" else timing_key.batch,
                    "sparse": ENGINES[timing_key.engine], "reference_instances": 3, "models": 6, "rounds": 12})
    metadata = Metadata(item, iterations=1, options=OPTIONS)
    for seconds in (0.005, 0.006, 0.0055):
        metadata.update(seconds)
    return metadata.as_dict(include_data=include_data)


def benchmark_json(timings: dict, include_data: bool = True) -> dict:
    """pytest-benchmark's output JSON of a run of test_network, the model records added."""
    sweeps = [sweep_record(key, include_data) for key in keys()]
    output = {"machine_info": {}, "commit_info": {}, "datetime": "2026-01-01T00:00:00+00:00",
              "version": pytest_benchmark.__version__, "benchmarks": sweeps}
    add_model_records(output, {sweep["fullname"]: key for sweep, key in zip(sweeps, keys(), strict=True)}, timings)
    return output


def model_records_of(output: dict) -> list[dict]:
    return [record for record in output["benchmarks"] if record["group"] != SWEEP_GROUP]


def test_one_record_per_model_engine_and_batch_beside_the_sweeps():
    output = benchmark_json(session_timings())
    records = model_records_of(output)
    assert len(records) == len(SPECS) * len(ENGINES) * len(BATCHES)
    assert len(output["benchmarks"]) == len(records) + len(keys())  # each sweep's own record stays
    assert len({record["fullname"] for record in output["benchmarks"]}) == len(output["benchmarks"])
    assert {(record["extra_info"]["model"], record["group"]) for record in records} == {
        (spec.id, key) for spec in SPECS for key in keys()}


def test_each_record_names_its_model_engine_device_and_batch():
    timings = session_timings()
    for record in model_records_of(benchmark_json(timings)):
        key = TimingKey.parse(record["group"])
        spec = next(spec for spec in SPECS if spec.id == record["extra_info"]["model"])
        entry = timings[spec][record["group"]]
        assert record["params"]["batch"] == key.batch
        assert record["extra_info"] == {
            "scope": "network", "engine": key.engine, "device": "cpu",
            "batch_size": 10_000 if key.batch == "all" else key.batch, "sparse": ENGINES[key.engine],
            "model": spec.id, "ratio": spec.ratio, "seed": spec.seed, "method": spec.method,
            "rounds": entry["rounds"], "noise": entry["noise"], "instances": entry["instances"],
            "interleaved_in": f"bench/test_inference.py::test_network[{key.engine}-batch={key.batch}-cpu]"}
        assert record["name"] == f"test_network[{key.engine}-batch={key.batch}-cpu] {_label(spec)}"


def test_a_records_median_and_rounds_are_the_results_timing_of_its_model():
    timings = session_timings()
    for record in model_records_of(benchmark_json(timings)):
        spec = next(spec for spec in SPECS if spec.id == record["extra_info"]["model"])
        entry = timings[spec][record["group"]]
        assert record["stats"]["median"] == pytest.approx(entry["median_s"], rel=1e-12)
        assert record["stats"]["data"] == entry["samples_s"]
        assert record["stats"]["rounds"] == entry["rounds"]


def test_records_carry_rounds_only_where_pytest_benchmark_saved_the_sweeps_rounds():
    records = model_records_of(benchmark_json(session_timings(), include_data=False))
    assert records
    assert not any("data" in record["stats"] for record in records)
    assert all(record["stats"]["rounds"] > 0 for record in records)


def test_a_model_is_labelled_by_its_method_unless_a_baseline_or_one_shot():
    assert model_label(None, 0.0, 2) == "ratio=0 seed=2"
    assert model_label("gradual", 0.0, 2) == "ratio=0 seed=2"  # a baseline, whichever method asked for it
    assert model_label("oneshot", 0.9, 1) == "ratio=0.9 seed=1"
    assert model_label("gradual", 0.9, 1) == "ratio=0.9 seed=1 method=gradual"


def test_prunebench_compare_reads_each_models_rounds_from_the_records(tmp_path):
    """Results without samples_s get every network timing's rounds from the records (and none is mistaken for
    another run's: their medians are the results')."""
    timings = session_timings()
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(benchmark_json(timings)))
    models = [{"ratio": spec.ratio, "seed": spec.seed, "method": spec.method,
               "timings": {key: {"median_s": entry["median_s"]} for key, entry in entries.items()}}
              for spec, entries in timings.items()]
    results = {"models": models, "benchmark_json": None}
    samples = {id(model["timings"][key]): entry["samples_s"]
               for model, entries in zip(models, timings.values(), strict=True) for key, entry in entries.items()}
    rounds, note = raw_rounds(results, tmp_path / "results.json", path)
    expected = {ident: samples[id(entry)] for ident, entry in timing_entries(results).items()}
    assert expected
    assert rounds == expected
    assert "ignored" not in note and "without rounds" not in note


def test_pytest_benchmark_compare_lists_each_models_time_per_timing_key(tmp_path):
    """The ecosystem's own tool on two runs' JSON: a table per engine, device and batch, a row per model."""
    for run in ("A", "B"):
        (tmp_path / f"{run}.json").write_text(json.dumps(benchmark_json(session_timings(ord(run)))))
    done = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", "A.json", "B.json",
                           "--group-by=group", "--columns=median,rounds"],
                          cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120)
    for key in keys():
        assert f"benchmark '{key}'" in done.stdout
    for spec in SPECS:
        assert done.stdout.count(f"{_label(spec)} (") == 2 * len(keys())  # a row per run and key
