"""Where artifacts live. Every other module asks here; nothing else hard-codes a location."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def results_dir() -> Path:
    """Run outputs: results JSON, report, figures, pytest-benchmark JSON (``PRUNEBENCH_RESULTS`` overrides)."""
    return Path(os.environ.get("PRUNEBENCH_RESULTS", PROJECT_ROOT / "results"))


def cache_dir() -> Path:
    """Trained models, keyed by a hash of everything that affects them (``PRUNEBENCH_CACHE`` overrides)."""
    return Path(os.environ.get("PRUNEBENCH_CACHE", PROJECT_ROOT / ".cache" / "prunebench"))


def expectations_file(profile: str) -> Path:
    """The checked-in verdict expected for each of the paper's claims under a profile's evidence."""
    return PROJECT_ROOT / "bench" / "expectations" / f"{profile}.json"

