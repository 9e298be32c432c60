"""``--results-dir``: one option (prunebench.suite.options.RESULTS_DIR) for the suite and for ``prunebench report``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from prunebench.cli import main
from prunebench.results import paths
from prunebench.results.contract import SCHEMA_VERSION
from prunebench.suite.options import RESULTS_DIR, SUITE_OPTIONS, use_results_dir


def minimal_results() -> dict:
    return {"schema_version": SCHEMA_VERSION, "kind": "prunebench-results", "created": "2020-01-01T00:00:00+00:00",
            "profile": {"name": "quick", "ratios": [], "seeds": [], "variables": []}, "machine": {},
            "models": [], "claims": [], "phases": {}}


def test_the_suite_has_the_option(pytestconfig):
    assert RESULTS_DIR in SUITE_OPTIONS
    assert pytestconfig.getoption("results_dir") is None  # registered by the root conftest, not given here


def test_use_results_dir_points_paths_there_as_an_absolute_path(monkeypatch, tmp_path):
    # setenv first, so that monkeypatch records the original state (unset included) and restores it: a bare
    # delenv of an unset variable records nothing, and use_results_dir's value leaked into later tests
    monkeypatch.setenv("PRUNEBENCH_RESULTS", "unused")
    monkeypatch.delenv("PRUNEBENCH_RESULTS")
    default = paths.results_dir()
    use_results_dir(None)
    assert paths.results_dir() == default
    monkeypatch.chdir(tmp_path)
    use_results_dir(Path("out"))
    assert os.environ["PRUNEBENCH_RESULTS"] == str(tmp_path / "out")
    assert paths.results_dir() == tmp_path / "out"


def test_report_reads_and_writes_in_the_results_dir(capsys, tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(minimal_results()))
    assert main(["report", "--results-dir", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").is_file()
    assert str(tmp_path / "report.md") in capsys.readouterr().out


def test_report_of_a_run_folder_writes_into_that_folder(capsys, tmp_path):
    """``prunebench report results/`` (the README's form): beside the folder's results.json, not beside the
    folder itself."""
    run = tmp_path / "results"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(minimal_results()))
    assert main(["report", str(run)]) == 0
    assert (run / "report.md").is_file() and (run / "figures").is_dir()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["results"]
    assert str(run / "report.md") in capsys.readouterr().out


def test_report_defaults_to_prunebench_results(monkeypatch, capsys, tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(minimal_results()))
    monkeypatch.setenv("PRUNEBENCH_RESULTS", str(tmp_path))
    assert main(["report"]) == 0
    assert (tmp_path / "report.md").is_file()
