"""Baselines per machine class, stored like pytest-benchmark's autosave: ``<root>/<class slug>/NNNN_<name>.json``.

The root is ``PRUNEBENCH_BASELINES`` when set, else ``baselines/`` beside the results JSON. The machine
class is the CPU model and the GPUs (``machine["cpu"]``, ``machine["gpus"]``): timings compare within a
class, the deterministic measures and claims across all of them.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from prunebench.errors import DataError, UsageError
from prunebench.results import atomic
from prunebench.results.machine import machine_class

ENV = "PRUNEBENCH_BASELINES"
_NUMBERED = re.compile(r"^(\d{4,})_(.+)\.json$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def class_slug(results: dict) -> str:
    """``AMD EPYC`` without GPUs → ``amd-epyc__no-gpu``; with GPUs their names follow, joined by ``+``."""
    cpu, gpus = machine_class(results.get("machine"))

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"

    return f"{slug(cpu)}__{'+'.join(slug(gpu) for gpu in gpus) if gpus else 'no-gpu'}"


def baselines_root(results_path: Path) -> Path:
    return Path(os.environ[ENV]) if os.environ.get(ENV) else results_path.parent / "baselines"


def _numbered(directory: Path) -> list[tuple[int, str, Path]]:
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NUMBERED.match(path.name)
        if match and atomic.TMP_MARKER not in path.name and path.is_file():
            found.append((int(match.group(1)), match.group(2), path))
    return sorted(found)


def save_baseline(results: dict, results_path: Path, name: str | None) -> Path:
    """Store ``results`` (already self-contained: raw rounds embedded) as the next numbered baseline."""
    if name is not None and not _NAME.match(name):
        raise UsageError(f"--save {name!r}: a baseline name is letters, digits and . _ + - (no slashes)")
    stamp = name or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    directory = baselines_root(results_path) / class_slug(results)
    existing = _numbered(directory)
    number = existing[-1][0] + 1 if existing else 1
    path = directory / f"{number:04d}_{stamp}.json"
    try:
        atomic.write_text(path, json.dumps(results, sort_keys=True, indent=1) + "\n")
    except OSError as error:
        raise DataError(f"--save: cannot write {path}: {error.strerror or error}") from None
    return path


def find_baseline(selector: str, new_results: dict, new_path: Path) -> tuple[Path | None, str]:
    """The baseline file ``selector`` names for ``new_results``'s machine class, and a note.

    ``selector``: ``latest``, a number (``3`` or ``0003``), a name given to ``--save``, or a path. Without a
    baseline of the same class, ``latest`` falls back to the newest baseline of any class (compared across
    machines: sizes, claims and relative speeds still gate); the note says so. (None, reason) if none.
    """
    if selector not in ("latest",) and (os.sep in selector or selector.endswith(".json")):
        path = Path(selector)
        return (path, f"baseline {path}") if path.is_file() else (None, f"baseline file {path} not found")
    root = baselines_root(new_path)
    slug = class_slug(new_results)
    own = _numbered(root / slug)
    if selector == "latest":
        if own:
            return own[-1][2], f"baseline {own[-1][2]} (latest of machine class {slug})"
        others = [entry for directory in (sorted(root.iterdir()) if root.is_dir() else []) if directory.is_dir()
                  for entry in _numbered(directory)]
        if others:
            newest = max(others, key=lambda entry: entry[2].stat().st_mtime)
            return newest[2], (f"baseline {newest[2]}: no baseline of machine class {slug} under {root}; "
                               f"using the newest of another class (timings compared across machines)")
        return None, f"no baseline under {root} (save one with: prunebench compare --save NAME RESULTS)"
    for number, name, path in reversed(own):
        if (selector.isdigit() and int(selector) == number) or selector == name:
            return path, f"baseline {path}"
    return None, f"no baseline {selector!r} of machine class {slug} under {root}"


def earlier_baselines(chosen: Path, count: int) -> list[Path]:
    """Up to ``count`` numbered baselines stored before ``chosen`` in its folder (its machine class), oldest
    first: the further baseline runs a time verdict needs. An empty list for a baseline outside the store."""
    if count <= 0:
        return []
    stored = _numbered(chosen.parent)
    resolved, target = [path.resolve() for _, _, path in stored], chosen.resolve()
    if target not in resolved:
        return []
    index = resolved.index(target)
    return [path for _, _, path in stored[max(0, index - count):index]]
