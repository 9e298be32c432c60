"""The wheel as a user installs it: one ``prunebench`` namespace, the expectations shipped, outputs in the
working directory.

The wheel is built from a copy of the checkout (so the build leaves no ``build/`` in it) and installed
with ``--no-deps`` into a fresh virtual environment. Its dependencies (TensorFlow, matplotlib, ...)
come from this environment through a ``.pth`` file naming this environment's site-packages: a ``.pth``
appends paths to ``sys.path`` but the ``.pth`` files inside those paths are not processed, so the
editable install of the checkout does not leak in (checked through ``prunebench.__file__``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from prunebench.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
PAPER_RESULTS = ROOT / "tests" / "data" / "schema1-paper-run" / "results.json"
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "prunebench", "model", "prune")
TIMEOUT = 300


def run(command: list, cwd: Path | None = None, check: bool = True, **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PRUNEBENCH_RESULTS", "PRUNEBENCH_CACHE", "PYTHONPATH", "VIRTUAL_ENV")}
    environment.update(env)
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=TIMEOUT)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def setuptools_major() -> int:
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0])
    except Exception:  # not installed, or an odd version string
        return 0


def build_wheel(out: Path, scratch: Path) -> Path:
    """``pip wheel`` of a copy of the checkout; offline with this environment's setuptools when it is >= 77
    (the build backend pyproject.toml asks for), else through pip's isolated build environment."""
    source = scratch / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            shutil.copy2(path, source / name)
    isolation = ["--no-build-isolation"] if setuptools_major() >= 77 else []
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--quiet", "-w", out, source])
    wheels = list(out.glob("prunebench-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def fresh_venv(directory: Path) -> tuple[Path, Path]:
    """(python, site-packages) of a new venv that sees this environment's packages only through a .pth."""
    run([sys.executable, "-m", "venv", "--without-pip", directory])
    python = directory / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    outer = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    (site / "outer-dependencies.pth").write_text("".join(f"{path}\n" for path in dict.fromkeys(outer)))
    return python, site


def report_input(scratch: Path) -> Path:
    """The schema-1 paper run's results.json if this code still reads it, else a minimal valid results file written
    by the project's own ``save_results`` (fabricated like tests/test_results.py does, claims judged)."""
    from prunebench.results.contract import load_results, save_results

    try:
        load_results(PAPER_RESULTS)
        return PAPER_RESULTS
    except DataError:
        from factories import fabricate_results

        from prunebench.verdicts.judging import evaluate_claims

        results = fabricate_results()
        results["claims"] = evaluate_claims(results, {})
        path = scratch / "fabricated" / "results.json"
        path.parent.mkdir()
        save_results(results, path)
        load_results(path)
        return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("install")
    wheel = build_wheel(scratch / "wheels", scratch)
    python, site = fresh_venv(scratch / "venv")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel])
    return {"scratch": scratch, "wheel": wheel, "python": python, "site": site,
            "script": scratch / "venv" / "bin" / "prunebench"}


def test_the_wheel_installs_one_namespace_with_its_expectations(installed):
    site = installed["site"]
    assert not (site / "model").exists() and not (site / "prune").exists()
    assert ((site / "prunebench" / "model" / "cnn.py").is_file()
            and (site / "prunebench" / "prune" / "masks.py").is_file())
    with zipfile.ZipFile(installed["wheel"]) as wheel:
        names = wheel.namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"prunebench"}
    for profile in ("paper", "quick"):
        assert f"prunebench/verdicts/expectations/{profile}.json" in names
        json.loads((site / "prunebench" / "verdicts" / "expectations" / f"{profile}.json").read_text())

    probe = ("import json, prunebench, prunebench.results.paths as p, prunebench.prune.masks as m; "
             "print(json.dumps([prunebench.__file__, m.__file__, str(p.expectations_file('paper')), "
             "str(p.results_dir())]))")
    cwd = installed["scratch"] / "probe"
    cwd.mkdir()
    package, masks, expectations, results = json.loads(run([installed["python"], "-c", probe], cwd=cwd).stdout)
    for path in (package, masks, expectations):
        assert Path(path).resolve().is_relative_to(site.resolve()), path
    assert Path(expectations).is_file()
    assert Path(results) == cwd.resolve() / "results"  # a wheel knows no checkout: the working directory


def test_report_from_an_empty_directory_writes_into_it(installed):
    source = report_input(installed["scratch"])
    work = installed["scratch"] / "work"
    work.mkdir()
    site_before = sorted(installed["site"].rglob("*"))

    missing = run([installed["script"], "report"], cwd=work, check=False)
    assert (missing.returncode == 1
            and str(work.resolve() / "results" / "results.json") in missing.stderr), missing.stderr
    assert not list(work.iterdir()), "a failed report leaves the working directory empty"

    (work / "results").mkdir()
    shutil.copy2(source, work / "results" / "results.json")
    done = run([installed["script"], "report"], cwd=work)
    written = [Path(line) for line in done.stdout.splitlines() if line.strip()]
    assert written and (work / "results" / "report.md").is_file()
    assert all(path.resolve().is_relative_to(work.resolve()) for path in written), written

    elsewhere = installed["scratch"] / "elsewhere"
    elsewhere.mkdir()
    shutil.copy2(source, elsewhere / "results.json")
    explicit = installed["scratch"] / "explicit"
    explicit.mkdir()
    run([installed["script"], "report", elsewhere / "results.json", "--out", "."], cwd=explicit)
    assert (explicit / "report.md").is_file()

    site_pycache = [path for path in sorted(installed["site"].rglob("*")) if "__pycache__" not in path.parts]
    assert site_pycache == [path for path in site_before if "__pycache__" not in path.parts], \
        "the report wrote into site-packages"
