"""A model cache every node of a cluster can reach, each entry built exactly once across machines.

``ModelCache`` (prunebench.build.cache) guards an entry with a local file lock, which machines sharing a disk
cannot see. :class:`SharedCache` runs ModelCache's get-or-build with claims every node sees
(``prunebench.build.ownership``) and keys entries by the same hash, over a root that is either

* a **directory** every node mounts (NFS and the like, or just a local disk): entries sit directly in it,
  in ``ModelCache``'s layout (``<label>-<hash>/`` with ``cache-key.json``), so both read each other's
  entries; or
* an **fsspec URL** (``file://`` is tested; ``s3://``, ``gs://`` go through the same calls, given s3fs or
  gcsfs and a backend whose ``mode="xb"`` is a real create-if-absent, but are untested): entries are
  uploaded there and downloaded into a local mirror in ``ModelCache``'s layout, which is what the builder
  reads.

The protocol, the same for both:

1. **Claim** the entry (see ``ownership``); whoever fails waits for it, and takes over a stale claim.
2. **Build** into a temporary directory beside the entry (in the shared directory, or in the mirror).
3. **Publish.** Locally: rename the temporary directory onto the entry's name (a rename onto an existing
   directory fails, so only one version is ever published); ``cache-key.json`` inside is the completion
   marker. Remotely: upload the entry into a ``<token>/`` folder under it, file by file, then create
   ``<entry>/COMPLETE.json`` exclusively, naming that folder, its files and their sizes. Readers trust an
   entry only with its marker; a killed builder's temporaries are invisible and are removed by the next
   claim holder.

Every publication and every take-over is recorded under ``_builds/<entry>/`` (one small JSON file per
event: who, where, how long), and each entry holds ``build.json`` naming its builder: counting published
events per entry checks exactly-once.

Read-through: ``mode="read"`` (``PRUNEBENCH_CACHE_MODE=read``) downloads entries the store has into the
local mirror and builds missing ones locally without claiming or publishing: a CI machine reuses what a
cluster built, never writes to the shared store.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prunebench.build.cache import Build, ModelCache, ModelStore, entry_lock, is_complete, remove_leftovers
from prunebench.build.ownership import Backend, is_url, try_claim
from prunebench.errors import DataError, UsageError
from prunebench.results import atomic, paths

MARKER = "COMPLETE.json"  # remote entries: the completion marker, created exclusively
BUILD_RECORD = "build.json"  # inside every entry this module publishes: who built it
LOG_DIR = "_builds"
DEFAULT_TTL = 120.0  # seconds a claim lives without a heartbeat
POLL = 0.25  # seconds between looks at a claimed entry
MODES = ("readwrite", "read")


class SharedCache(ModelCache):
    """``ModelCache``'s get-or-build over a shared directory or an fsspec URL; see the module docstring."""

    def __init__(self, root: str | os.PathLike, mirror: str | os.PathLike | None = None, mode: str = "readwrite",
                 ttl: float | None = None, wait_timeout: float | None = None):
        if mode not in MODES:
            raise UsageError(f"cache mode {mode!r}: choose {' or '.join(MODES)}")
        self.backend = Backend(str(root))
        if self.backend.local:
            super().__init__(self.backend.root)  # entries are read in the shared directory itself
        else:
            super().__init__(mirror if mirror is not None else default_mirror())  # a URL's: in a local mirror
        self.mode = mode
        self.ttl = float(ttl if ttl is not None else os.environ.get("PRUNEBENCH_CLAIM_TTL", DEFAULT_TTL))
        self.wait_timeout = wait_timeout  # None: wait for a live builder as long as it lives

    @property
    def url(self) -> str:
        return self.backend.url

    @property
    def publishes(self) -> bool:
        """False in read-through mode: nothing is claimed, signed or published."""
        return self.mode == "readwrite"

    # --- the steps of ModelCache.get_or_build ---------------------------------------------------------

    def _rounds(self, name: str) -> Iterator[None]:
        """Look again every ``POLL`` seconds while another builder holds the claim; give up after
        ``wait_timeout``."""
        start = time.monotonic()
        yield
        while True:
            if self.wait_timeout is not None and time.monotonic() - start > self.wait_timeout:
                raise DataError(f"cache entry {name}: still claimed by another builder after "
                                f"{self.wait_timeout:.0f} s")
            time.sleep(POLL)
            yield

    def _found(self, final: Path, fields: dict) -> bool:
        """Complete here, or published in the remote store and downloaded now."""
        if is_complete(final, fields):
            return True
        if self.backend.local:
            return False
        marker = self.backend.read_json(self.backend.join(final.name, MARKER))
        if marker is not None:
            self._download(marker, final, fields)
        return marker is not None

    @contextmanager
    def _claimed(self, name: str, token: str) -> Iterator[bool]:
        """Hold a claim every node sees while this attempt builds (read-through builds unclaimed)."""
        if not self.publishes:
            yield True  # read-through: build here, unclaimed
            return
        claim = try_claim(self.backend, name, token, self.ttl, self._logger(name, token))
        if claim is None:
            yield False
            return
        try:
            yield True
        finally:
            claim.release()

    def _build_here(self, final: Path, fields: dict, build: Build, token: str) -> bool:
        """ModelCache's build, signed with ``build.json`` when it is to be published."""
        if not self.publishes:
            return super()._build_here(final, fields, build, token)
        started = time.time()

        def signed(tmp: Path) -> None:
            build(tmp)
            record = self._build_record(token, started)
            atomic.write_text(tmp / BUILD_RECORD, json.dumps(record, indent=1, sort_keys=True))

        return super()._build_here(final, fields, signed, token)

    def _publish(self, final: Path, fields: dict, token: str) -> bool:
        if not self.publishes:
            return True
        if self.backend.local:  # renamed into the shared directory already
            self._logger(final.name, token)("published", json.loads((final / BUILD_RECORD).read_text()))
            return True
        return self._upload(final, fields, token)

    # --- an fsspec store with a local mirror ----------------------------------------------------------

    def _upload(self, final: Path, fields: dict, token: str) -> bool:
        """Upload a fresh build from the mirror and publish it by its marker; False (and the published
        version downloaded instead) if a builder whose claim we took over published first."""
        backend, name = self.backend, final.name
        marker_path = backend.join(name, MARKER)
        if backend.read_json(marker_path) is None:
            backend.remove(backend.join(name), recursive=True)  # a killed builder's partial upload
            files = sorted(str(p.relative_to(final)) for p in final.rglob("*") if p.is_file())
            for rel in files:
                target = backend.join(name, token, rel)
                backend.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                backend.fs.put_file(str(final / rel), target)
            started = json.loads((final / BUILD_RECORD).read_text())["started"]
            marker = {"build": token, "fields": fields, "files": {rel: (final / rel).stat().st_size for rel in files},
                      **self._build_record(token, started)}
            if backend.create_exclusive(marker_path, json.dumps(marker, indent=1, sort_keys=True).encode()):
                self._logger(name, token)("published", marker)
                return True
            backend.remove(backend.join(name, token), recursive=True)
        shutil.rmtree(final, ignore_errors=True)  # keep the published version, not ours
        self._download(backend.read_json(marker_path), final, fields)
        return False

    def _download(self, marker: dict, local: Path, fields: dict) -> None:
        if json.loads(json.dumps(fields)) != marker.get("fields"):
            raise DataError(f"shared cache entry {self.backend.join(local.name)} holds another key; delete it")
        self.root.mkdir(parents=True, exist_ok=True)
        with entry_lock(local):
            if is_complete(local, fields):
                return
            remove_leftovers(local)
            with atomic.atomic_dir(local) as tmp:
                for rel, size in marker["files"].items():
                    target = tmp / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self.backend.fs.get_file(self.backend.join(local.name, marker["build"], rel), str(target))
                    if target.stat().st_size != size:
                        raise DataError(f"shared cache entry {local.name}: {rel} has {target.stat().st_size} "
                                        f"bytes, its marker says {size}")
        self.downloaded.append(local.name)

    # --- bookkeeping ----------------------------------------------------------------------------------

    def _build_record(self, token: str, started: float) -> dict:
        return {"token": token, "host": socket.gethostname(), "pid": os.getpid(), "started": started,
                "seconds": round(time.time() - started, 3),
                "ray_node": os.environ.get("PRUNEBENCH_RAY_NODE")}

    def _logger(self, name: str, token: str) -> Callable[[str, dict], None]:
        def log(event: str, detail: dict) -> None:
            record = {"event": event, "entry": name, "token": token, "host": socket.gethostname(),
                      "pid": os.getpid(), "time": time.time(), **{k: v for k, v in detail.items() if k != "fields"}}
            path = self.backend.join(LOG_DIR, name, f"{time.time():.6f}-{event}-{token[:8]}.json")
            self.backend.overwrite(path, json.dumps(record, sort_keys=True).encode())

        return log

    def events(self) -> dict[str, list[dict]]:
        """Every logged event per entry (``published`` once per entry when exactly-once held)."""
        out: dict[str, list[dict]] = {}
        for name in self.backend.list_names(self.backend.join(LOG_DIR)):
            for file in sorted(self.backend.list_names(self.backend.join(LOG_DIR, name))):
                record = self.backend.read_json(self.backend.join(LOG_DIR, name, file))
                if record is not None:
                    out.setdefault(name, []).append(record)
        return out


def default_mirror() -> Path:
    return Path(os.environ.get("PRUNEBENCH_CACHE_MIRROR", paths.project_root() / ".cache" / "prunebench-mirror"))


def cache_root() -> str:
    """``PRUNEBENCH_CACHE`` (a directory or an fsspec URL), else the default cache directory."""
    return os.environ.get("PRUNEBENCH_CACHE") or str(paths.cache_dir())


def open_cache(root: str | None = None, shared: bool = False, mode: str | None = None) -> ModelStore:
    """The cache at ``root`` (default :func:`cache_root`): a ``ModelCache`` (a local file lock) for a directory,
    unless ``shared`` (claims on the store, for a build other machines may join) or read-through; a
    :class:`SharedCache` for an fsspec URL. ``mode`` defaults to ``PRUNEBENCH_CACHE_MODE`` (``readwrite`` or
    ``read``); ``PRUNEBENCH_CACHE_MIRROR`` places a URL's mirror."""
    root = root or cache_root()
    mode = mode or os.environ.get("PRUNEBENCH_CACHE_MODE", "readwrite")
    if not shared and not is_url(root) and mode == "readwrite":
        return ModelCache(Path(root))
    return SharedCache(root, mode=mode)
