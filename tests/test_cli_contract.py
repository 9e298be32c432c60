"""The command line's contract, through the installed console script in real subprocesses: exit statuses a
CI can tell apart, JSON output that is JSON only, a merge that never replaces its input and needs no
TensorFlow, and a build that refuses options it would ignore."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from factories import fabricate_results

from prunebench.results.contract import save_results
from prunebench.verdicts.expected import profile_protocol


def prunebench(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    script = shutil.which("prunebench", path=str(Path(sys.executable).parent)) or shutil.which("prunebench")
    env = {**os.environ, "PRUNEBENCH_BASELINES": str(cwd or Path.cwd())}
    return subprocess.run([script, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A base run (as a folder, the way the suite writes one), the same again, and one whose size changed."""
    root = tmp_path_factory.mktemp("runs")
    base = fabricate_results()
    changed = copy.deepcopy(base)
    changed["models"][-1]["sizes"]["step_3"] += 1_000_000
    found = {}
    for name, results in (("base", base), ("same", base), ("changed", changed)):
        save_results(results, root / name / "results.json")
        found[name] = root / name
    return found


def test_compare_exits_0_without_a_regression(runs):
    done = prunebench("compare", runs["base"], runs["same"])  # run folders, not files
    assert done.returncode == 0, done.stderr


def test_compare_exits_1_on_a_regression(runs):
    done = prunebench("compare", runs["base"] / "results.json", runs["changed"] / "results.json")
    assert done.returncode == 1, done.stderr
    assert "compression" in done.stdout


def test_compare_exits_1_when_only_a_model_of_another_method_changed(tmp_path):
    base = fabricate_results(methods=("gradual",))
    changed = copy.deepcopy(base)
    gradual = next(model for model in changed["models"]
                   if model.get("method") == "gradual" and model["ratio"] == 0.9 and model["seed"] == 0)
    gradual["sizes"]["step_3"] += 1
    for name, results in (("base", base), ("changed", changed)):
        save_results(results, tmp_path / name / "results.json")
    done = prunebench("compare", tmp_path / "base", tmp_path / "changed")
    assert done.returncode == 1, done.stderr
    assert "compression: ratio=0.9 seed=0 method=gradual sizes.step_3" in done.stdout, done.stdout


@pytest.mark.parametrize("case", ["missing file", "not results", "bad option"])
def test_compare_exits_2_on_a_usage_or_input_error(runs, tmp_path, case):
    other = tmp_path / "other.json"
    other.write_text('{"kind": "something else"}')
    args = {"missing file": [runs["base"], tmp_path / "nowhere.json"],
            "not results": [runs["base"], other],
            "bad option": [runs["base"], runs["same"], "--factor", "0.5"]}[case]
    done = prunebench("compare", *args)
    assert done.returncode == 2, done.stderr
    # argparse's usage for a bad option, one line for bad input; never a traceback
    assert done.stderr.strip().splitlines()[-1].startswith("prunebench"), done.stderr
    assert "Traceback" not in done.stderr and (case == "bad option" or len(done.stderr.splitlines()) == 1)


def test_compare_json_output_is_json_only(runs, tmp_path):
    done = prunebench("compare", runs["base"], runs["changed"], "--format", "json", "--fail-on", "none")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["compression"]
    missing = prunebench("compare", "--against", "latest", "--allow-missing-baseline", "--format", "json",
                         runs["base"], cwd=tmp_path)
    assert missing.returncode == 0 and missing.stdout == "", missing.stdout


def test_merge_writes_a_new_file_without_tensorflow(tmp_path):
    part = fabricate_results(timings=False)
    part["profile"].update(name="quick", **profile_protocol("quick"))  # a profile with expectations
    save_results(part, tmp_path / "part" / "results.json")
    out = tmp_path / "merged.json"
    code = ("import sys\nfrom prunebench.cli import main\n"
            f"status = main(['merge', '-o', {str(out)!r}, {str(tmp_path / 'part')!r}])\n"
            "print('tensorflow' in sys.modules)\nsys.exit(status)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("False"), "merge imported TensorFlow"
    assert json.loads(out.read_text())["kind"] == "prunebench-results"


@pytest.mark.parametrize("output", ["the part", "the part's folder"])
def test_merge_refuses_to_overwrite_its_input(runs, tmp_path, output):
    part = tmp_path / "part"
    shutil.copytree(runs["base"], part)
    before = (part / "results.json").read_bytes()
    done = prunebench("merge", "-o", part / "results.json",
                      part if output == "the part's folder" else part / "results.json")
    assert done.returncode == 2 and "one of the parts" in done.stderr, done.stderr
    assert (part / "results.json").read_bytes() == before


def test_merge_takes_its_output_as_an_option():
    done = prunebench("merge", "out.json", "part.json")
    assert done.returncode == 2 and "-o/--output" in done.stderr, done.stderr


@pytest.mark.parametrize("option", [["--time-margin", "0.1"], ["--accuracy-margin", "0.01"],
                                    ["--engines", "tf-dense"], ["--results-dir", "somewhere"]])
def test_build_refuses_an_option_it_cannot_use(option):
    done = prunebench("build", "--profile", "quick", *option)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr, done.stderr
