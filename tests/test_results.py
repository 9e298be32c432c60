"""Results JSON: validation of bad files, numpy-safe saving, merging split sweeps."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from factories import fabricate_results

from prunebench.errors import DataError
from prunebench.results.contract import SCHEMA_VERSION, load_results, merge_results, save_results


def _write(tmp_path, text: str):
    path = tmp_path / "results.json"
    path.write_text(text)
    return path


def test_save_then_load_round_trips_numpy_scalars(tmp_path):
    results = fabricate_results()
    results["models"][0]["accuracy"]["dense"] = np.float32(0.5)
    results["models"][0]["nonzero"] = np.int64(7)
    path = tmp_path / "out" / "results.json"
    save_results(results, path)
    loaded = load_results(path)
    assert loaded["models"][0]["accuracy"]["dense"] == 0.5
    assert type(loaded["models"][0]["nonzero"]) is int
    assert path.read_text().startswith('{\n "bandwidth_bytes_per_s"')  # sorted keys, indent 1


def _bad_results_cases():
    def set_kind(results):
        results["kind"] = "something-else"

    def set_version(results):
        results["schema_version"] = SCHEMA_VERSION + 1

    def drop_models(results):
        del results["models"]

    def drop_model_sizes(results):
        del results["models"][1]["sizes"]

    def drop_profile_ratios(results):
        del results["profile"]["ratios"]

    return {
        "kind": (set_kind, "kind is 'something-else'"),
        "version": (set_version, f"schema_version is {SCHEMA_VERSION + 1}"),
        "models": (drop_models, "lacks required key 'models'"),
        "model": (drop_model_sizes, "models[1] lacks required key 'sizes'"),
        "profile": (drop_profile_ratios, "profile lacks required key 'ratios'"),
    }


@pytest.mark.parametrize("case", sorted(_bad_results_cases()))
def test_load_rejects_bad_content_with_one_line_naming_file(tmp_path, case):
    spoil, expected = _bad_results_cases()[case]
    results = fabricate_results(timings=False)
    spoil(results)
    path = _write(tmp_path, json.dumps(results))
    with pytest.raises(DataError) as error:
        load_results(path)
    message = str(error.value)
    assert str(path) in message and expected in message and "\n" not in message


@pytest.mark.parametrize("text, expected", [("{not json", "not valid JSON"), ("[1, 2]", "top level is list")])
def test_load_rejects_unparsable_or_non_object(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=expected):
        load_results(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(DataError, match="results file not found"):
        load_results(tmp_path / "absent.json")


def test_merge_disjoint_seeds_and_dedupes_identical_models():
    whole = fabricate_results(seeds=(0, 1), timings=False)
    first, second = copy.deepcopy(whole), copy.deepcopy(whole)
    first["models"] = [model for model in whole["models"] if model["seed"] == 0]
    first["profile"]["seeds"] = [0]
    second["models"] = [model for model in whole["models"] if model["seed"] == 1] + first["models"][:2]
    second["profile"]["seeds"] = [1]
    merged = merge_results([first, second])
    assert sorted((m["ratio"], m["seed"]) for m in merged["models"]) == \
        sorted((m["ratio"], m["seed"]) for m in whole["models"])
    assert merged["profile"]["seeds"] == [0, 1]
    assert merged["phases"]["training"] == 2 * whole["phases"]["training"]
    assert merged["claims"] == []


def test_merge_refuses_conflicting_profile():
    first, second = fabricate_results(timings=False), fabricate_results(timings=False)
    second["profile"]["max_steps"] += 1
    with pytest.raises(DataError, match="different profiles"):
        merge_results([first, second])


def test_merge_refuses_conflicting_duplicate_model():
    first, second = fabricate_results(timings=False), fabricate_results(timings=False)
    second["models"][3]["accuracy"]["dense"] = 0.1
    with pytest.raises(DataError, match="conflicting results for ratio"):
        merge_results([first, second])
