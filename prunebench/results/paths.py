"""Where artifacts live. Every other module asks here; nothing else hard-codes a location.

Run from a checkout (an editable install, or the source tree), results and the model cache sit in the
checkout, beside ``pyproject.toml``. Installed as a wheel, the package knows no project folder, so they go
to the working directory. The expectations ship inside the package either way.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # prunebench/
_SOURCE_ROOT = PACKAGE_DIR.parent


def project_root() -> Path:
    """The checkout when running from one (it holds pyproject.toml and bench/), else the working directory."""
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "bench").is_dir():
        return _SOURCE_ROOT
    return Path.cwd()


def results_dir() -> Path:
    """Run outputs: results JSON, report, figures, pytest-benchmark JSON (``PRUNEBENCH_RESULTS`` overrides)."""
    return Path(os.environ.get("PRUNEBENCH_RESULTS", project_root() / "results"))


def cache_dir() -> Path:
    """Trained models, keyed by a hash of everything that affects them (``PRUNEBENCH_CACHE`` overrides)."""
    return Path(os.environ.get("PRUNEBENCH_CACHE", project_root() / ".cache" / "prunebench"))


def expectations_dir() -> Path:
    """The expected verdicts, shipped as package data."""
    return PACKAGE_DIR / "verdicts" / "expectations"


def expectations_file(profile: str) -> Path:
    """The checked-in verdict expected for each of the paper's claims under a profile's evidence."""
    return expectations_dir() / f"{profile}.json"
