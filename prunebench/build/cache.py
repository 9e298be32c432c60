"""Trained models cached on disk under a hash of everything that affects them.

An entry is a directory ``<label>-<hash>`` that appears only complete: it is built under a temporary name
beside it (``.tmp-``, see ``prunebench.results.atomic``) and renamed into place holding its key file, so an
interrupted run can never leave a half-written model that a later run would use.

:class:`ModelCache` is the store of one machine, and its ``get_or_build`` is the only get-or-build of the
project: look for the entry, else claim it, build it here, publish it. Locally the claim is free and a file
lock per entry does the excluding, so concurrent runs (two pytest sessions, xdist workers) build each model
exactly once: the others wait and then reuse it. The store a cluster shares
(``prunebench.build.shared_cache``) changes how an entry is looked for, claimed and published, not that order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from filelock import FileLock

from prunebench.errors import DataError
from prunebench.results import atomic

KEY_FILE = "cache-key.json"  # written last into an entry: its completion marker
_CODE_PACKAGES = ("prunebench.model", "prunebench.prune")
_CODE_MODULES = ("prunebench.build.pipeline", "prunebench.build.builder", "prunebench.build.cache")

Build = Callable[[Path], None]  # fills an empty directory with one entry's files


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


class ModelStore(Protocol):
    """What a ``ModelBuilder`` needs of a cache, local (:class:`ModelCache`) or shared by a cluster."""

    built: list[str]  # entries this process built (the rest were reused)
    downloaded: list[str]  # entries this process fetched from a remote store

    def entry(self, label: str, fields: dict) -> Path: ...

    def get_or_build(self, label: str, fields: dict, build: Build) -> Path: ...


def is_complete(entry: Path, fields: dict) -> bool:
    """Whether ``entry`` is a finished build of ``fields``: its key file, written last, holds them."""
    key_file = entry / KEY_FILE
    if not key_file.is_file():
        return False
    try:
        return json.loads(key_file.read_text()) == json.loads(json.dumps(fields))
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"cache entry {entry} is corrupt ({error}); delete it to rebuild") from None


def entry_lock(entry: Path) -> FileLock:
    """The lock of one entry among the processes of this machine."""
    return FileLock(str(entry) + ".lock")


def remove_leftovers(final: Path) -> None:
    """Temporaries of a killed build of ``final``, and a ``final`` with the wrong key (the caller holds the
    entry's lock, so no live build owns them)."""
    for leftover in final.parent.glob(final.name + atomic.TMP_MARKER + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if final.exists():
        shutil.rmtree(final)


class ModelCache:
    """Entries in a directory of this machine; see the module docstring."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.built: list[str] = []
        self.downloaded: list[str] = []  # stays empty: a local directory has nothing to fetch

    def entry(self, label: str, fields: dict) -> Path:
        """The directory of an entry (complete or not)."""
        return self.root / f"{label}-{entry_key(fields)}"

    def get_or_build(self, label: str, fields: dict, build: Build) -> Path:
        """The complete entry for ``fields``, built with ``build(tmp_dir)`` by whoever claims it first."""
        final = self.entry(label, fields)
        token = uuid.uuid4().hex  # names this attempt's claim, temporary directory and records
        for _ in self._rounds(final.name):
            if self._found(final, fields):
                return final
            with self._claimed(final.name, token) as claimed:
                if not claimed:
                    continue  # another builder holds the entry: look again next round
                if not self._found(final, fields) and self._build_here(final, fields, build, token) \
                        and self._publish(final, fields, token):
                    self.built.append(final.name)
                return final
        raise AssertionError("unreachable: the rounds end by returning or raising")

    def _rounds(self, name: str) -> Iterator[None]:
        """One look suffices here: the file lock in :meth:`_build_here` does the waiting."""
        yield

    def _found(self, final: Path, fields: dict) -> bool:
        """Whether the entry is complete here (a remote store also fetches it)."""
        return is_complete(final, fields)

    @contextmanager
    def _claimed(self, name: str, token: str) -> Iterator[bool]:
        """Whether this attempt may build the entry: always, on one machine."""
        yield True

    def _build_here(self, final: Path, fields: dict, build: Build, token: str) -> bool:
        """Build into a temporary directory beside ``final`` and rename it into place, under the entry's file
        lock (which also holds off a store on this machine that is building the same entry). False if a
        complete entry got there first: the rename never replaces a directory, so one version is published."""
        self.root.mkdir(parents=True, exist_ok=True)
        with entry_lock(final):
            if is_complete(final, fields):
                return False
            remove_leftovers(final)
            tmp = final.with_name(final.name + atomic.TMP_MARKER + token)
            tmp.mkdir()  # permissions from the umask, like every other artifact's
            try:
                build(tmp)
                atomic.write_text(tmp / KEY_FILE, json.dumps(fields, indent=1, sort_keys=True))
                try:
                    os.rename(tmp, final)
                except OSError:
                    if is_complete(final, fields):
                        return False  # published by a builder that took over our expired claim
                    raise
                atomic.fsync_dir(self.root)
                return True
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    def _publish(self, final: Path, fields: dict, token: str) -> bool:
        """Make a fresh build known beyond this machine; False if another build was published instead."""
        return True
