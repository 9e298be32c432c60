"""The CI recipe (.github/workflows/bench.yml) runs here: its compare and save steps, word for word, on a
results file with a baseline saved by the recipe itself, then on one with a regression; and its time A/B
step on benchmark commands that write results (an unchanged head, then a slowed one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from factories import fabricate_results

from prunebench.results.contract import save_results

WORKFLOW = Path(__file__).parents[1] / ".github" / "workflows" / "bench.yml"


def _step(name: str, job: str = "quick") -> str:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]
    return next(step["run"] for step in steps if step.get("name") == name)


@pytest.fixture
def workspace(tmp_path):
    results = fabricate_results(timings=False)
    save_results(results, tmp_path / "results" / "results.json")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PRUNEBENCH_BASELINES": str(tmp_path / "baselines"), "GITHUB_SHA": "0123456789abcdef",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    return tmp_path, results, env


def _run(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_workflow_gates_with_compare_against_the_baseline_it_saved(workspace):
    cwd, results, env = workspace
    compare, save = _step("Compare with the latest baseline"), _step("Save as baseline")
    first = _run(compare, cwd, env)  # no baseline yet: a note, not a failure
    assert first.returncode == 0, first.stderr
    saved = _run(save, cwd, env)
    assert saved.returncode == 0, saved.stderr
    assert list((cwd / "baselines").rglob("*.json"))
    unchanged = _run(compare, cwd, env)
    assert unchanged.returncode == 0, unchanged.stderr
    assert (cwd / "compare.md").is_file() and (cwd / "compare.json").is_file()
    model = next(m for m in results["models"] if m["ratio"] == 0.9 and m["seed"] == 0)
    model["formats"]["bitmask"]["model_bytes"] += 1
    save_results(results, cwd / "results" / "results.json")
    regressed = _run(compare, cwd, env)
    assert regressed.returncode == 1
    assert "formats.bitmask.model_bytes" in regressed.stdout + regressed.stderr
    assert "bitmask" in (cwd / "summary.md").read_text()  # the markdown went to the job summary


@pytest.mark.parametrize("slowed, status", [(1.0, 0), (1.5, 1)])
def test_the_time_ab_step_judges_interleaved_pairs(tmp_path, writer, slowed, status):  # noqa: F811
    command, order = writer
    work = tmp_path / "head"
    (work / ".venv" / "bin").mkdir(parents=True)
    (work / ".venv" / "bin" / "prunebench").symlink_to(Path(sys.executable).parent / "prunebench")
    (tmp_path / "base").mkdir()
    env = {**os.environ, "BASE_DIR": str(tmp_path / "base"), "BASE_CMD": command("base"),
           "NEW_CMD": command("new", "tf-sparse", slowed), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    done = _run(_step("Time base and head in interleaved pairs", "time-ab"), work, env)
    assert done.returncode == status, done.stderr
    assert len(order.read_text().split()) == 16  # eight pairs
    assert len((work / "ab" / "pairs.txt").read_text().split()) == 16
    summary = (tmp_path / "summary.md").read_text()
    assert "over 8 interleaved pairs" in summary
    assert ("| slower |" in summary) == (status == 1)
