"""Trained models cached on disk under a hash of everything that affects them.

An entry is a directory ``<label>-<hash>`` that appears only complete (built under a temporary name and
renamed, see ``prunebench.results.atomic``), so an interrupted run can never leave a half-written model that a
later run would use. A file lock per entry makes concurrent runs (two pytest sessions, xdist workers)
build each model exactly once: the others wait and then reuse it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from prunebench.results import atomic
from prunebench.errors import DataError

KEY_FILE = "cache-key.json"
_CODE_PACKAGES = ("prunebench.model", "prunebench.prune")
_CODE_MODULES = ("prunebench.build.pipeline", "prunebench.build.builder", "prunebench.build.cache")


def code_version() -> str:
    """Hash of the source that builds and measures models: editing it invalidates every entry. Files are
    found through the import system, so an editable and a wheel install hash the same files alike."""
    import importlib
    import importlib.util

    digest = hashlib.sha256()
    files = []
    for package in _CODE_PACKAGES:
        root = Path(importlib.import_module(package).__path__[0])
        files += sorted((f"{package}/{path.relative_to(root)}", path) for path in root.rglob("*.py"))
    files += [(module, Path(importlib.util.find_spec(module).origin)) for module in _CODE_MODULES]
    for name, path in files:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def entry_key(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


class ModelCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.built: list[str] = []  # entries this process built (the rest were reused)

    def entry(self, label: str, fields: dict) -> Path:
        return self.root / f"{label}-{entry_key(fields)}"

    def get_or_build(self, label: str, fields: dict, build: Callable[[Path], None]) -> Path:
        """The complete entry for ``fields``, building it with ``build(tmp_dir)`` if it is missing."""
        final = self.entry(label, fields)
        if self._complete(final, fields):
            return final
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(final) + ".lock"):
            if not self._complete(final, fields):
                self._remove_leftovers(final)
                with atomic.atomic_dir(final) as tmp:
                    build(tmp)
                    atomic.write_text(tmp / KEY_FILE, json.dumps(fields, indent=1, sort_keys=True))
                self.built.append(final.name)
        return final

    @staticmethod
    def _complete(entry: Path, fields: dict) -> bool:
        key_file = entry / KEY_FILE
        if not key_file.is_file():
            return False
        try:
            return json.loads(key_file.read_text()) == json.loads(json.dumps(fields))
        except (OSError, json.JSONDecodeError) as error:
            raise DataError(f"cache entry {entry} is corrupt ({error}); delete it to rebuild") from None

    @staticmethod
    def _remove_leftovers(final: Path) -> None:
        """Temporaries of a killed build of this entry (we hold its lock, so no live build owns them)."""
        for leftover in final.parent.glob(final.name + atomic.TMP_MARKER + "*"):
            shutil.rmtree(leftover, ignore_errors=True)
        if final.exists():  # complete-looking but with the wrong key: rebuild it
            shutil.rmtree(final)

