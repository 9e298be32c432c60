"""A model cache every node of a cluster can reach, each entry built exactly once across machines.

``ModelCache`` (prunebench.build.cache) guards an entry with a local file lock, which machines sharing a disk
cannot see. :class:`SharedCache` has the same interface (``get_or_build``, ``entry``, ``built``) and keys
entries by the same hash, over a root that is either

* a **directory** every node mounts (NFS and the like, or just a local disk): entries sit directly in it,
  in ``ModelCache``'s layout (``<label>-<hash>/`` with ``cache-key.json``), so both read each other's
  entries; or
* an **fsspec URL** (``file://`` is tested; ``s3://``, ``gs://`` go through the same calls, given s3fs or
  gcsfs and a backend whose ``mode="xb"`` is a real create-if-absent, but are untested): entries are
  uploaded there and downloaded into a local mirror in ``ModelCache``'s layout, which is what the builder
  reads.

The protocol, the same for both:

1. **Claim.** A builder creates ``<entry>.claim-<generation>`` exclusively (``O_EXCL``, fsspec
   ``mode="xb"``), holding its owner (host, pid, token) and an expiry it renews from a heartbeat thread.
   Whoever fails waits for the entry. A claim whose expiry passed, or whose owner is a dead process on this
   host, is stale: the next waiter takes over by creating the *next* generation exclusively, so of several
   waiters exactly one takes over, and nobody ever deletes a live claim.
2. **Build** into a temporary location (a ``.tmp-`` directory beside the entry; remotely a ``<token>/``
   folder under the entry, uploaded file by file).
3. **Publish.** Locally: rename the temporary directory onto the entry's name (a rename onto an existing
   directory fails, so only one version is ever published); ``cache-key.json`` inside is the completion
   marker. Remotely: create ``<entry>/COMPLETE.json`` exclusively, naming the build's folder, its files and
   their sizes. Readers trust an entry only with its marker; a killed builder's temporaries are invisible
   and are removed by the next claim holder.

Every publication and every take-over is recorded under ``_builds/<entry>/`` (one small JSON file per
event: who, where, how long), and each entry holds ``build.json`` naming its builder: counting published
events per entry checks exactly-once.

Read-through: ``mode="read"`` (``PRUNEBENCH_CACHE_MODE=read``) downloads entries the store has into the
local mirror and builds missing ones locally without claiming or publishing: a CI machine reuses what a
cluster built, never writes to the shared store.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from prunebench.results import atomic
from prunebench.results import paths
from prunebench.build.cache import KEY_FILE, ModelCache, entry_key
from prunebench.errors import DataError, UsageError

MARKER = "COMPLETE.json"  # remote entries: the completion marker, created exclusively
BUILD_RECORD = "build.json"  # inside every entry this module publishes: who built it
LOG_DIR = "_builds"
CLAIM = ".claim-"
DEFAULT_TTL = 120.0  # seconds a claim lives without a heartbeat
POLL = 0.25  # seconds between looks at a claimed entry
MODES = ("readwrite", "read")


def is_url(root: str | os.PathLike) -> bool:
    return "://" in str(root)


def owner_record(token: str, ttl: float) -> dict:
    now = time.time()
    return {"token": token, "host": socket.gethostname(), "pid": os.getpid(), "created": now, "expires": now + ttl}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(claim: dict, now: float | None = None) -> bool:
    """Expired, or held by a process of this host that no longer runs (a SIGKILLed builder)."""
    now = time.time() if now is None else now
    if now > float(claim.get("expires", 0)):
        return True
    return claim.get("host") == socket.gethostname() and not _pid_alive(int(claim.get("pid", -1)))


# ------------------------------------------------------------------------------------------- backends

class _Backend:
    """The few storage calls the protocol needs, on a local directory or an fsspec filesystem."""

    def __init__(self, root: str):
        self.url = root
        if is_url(root):
            try:
                import fsspec
            except ImportError:
                raise UsageError(f"cache root {root!r} is a URL: install fsspec (pip install -e '.[ray]')") from None
            self.fs, self.root = fsspec.core.url_to_fs(root)
            self.local = False
        else:
            self.fs, self.root, self.local = None, str(Path(root).resolve()), True

    def join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Create ``path`` holding ``data`` unless it exists; True if this call created it."""
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            return True
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        try:
            with self.fs.open(path, "xb") as handle:
                handle.write(data)
        except FileExistsError:
            return False
        return True

    def overwrite(self, path: str, data: bytes) -> None:
        if self.local:
            atomic.write_bytes(path, data)
        else:
            self.fs.pipe_file(path, data)

    def read_json(self, path: str) -> dict | None:
        try:
            if self.local:
                text = Path(path).read_bytes()
            else:
                text = self.fs.cat_file(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return None  # a claim being written (remote stores write whole objects; locally renamed in)

    def remove(self, path: str, recursive: bool = False) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.local:
                if recursive and Path(path).is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    Path(path).unlink()
            else:
                self.fs.rm(path, recursive=recursive)

    def list_names(self, prefix_dir: str) -> list[str]:
        try:
            if self.local:
                return os.listdir(prefix_dir)
            return [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(prefix_dir, detail=False)]
        except (FileNotFoundError, NotADirectoryError):
            return []


# ---------------------------------------------------------------------------------------------- claims

class Claim:
    """A held claim on one entry; a daemon thread renews its expiry until :meth:`release`."""

    def __init__(self, backend: _Backend, path: str, token: str, ttl: float):
        self.backend, self.path, self.token, self.ttl = backend, path, token, ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"claim {path}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            current = self.backend.read_json(self.path)
            if current is None or current.get("token") != self.token:
                return  # taken over (we stalled past the expiry): never write over someone else's claim
            with contextlib.suppress(OSError):
                self.backend.overwrite(self.path, json.dumps(owner_record(self.token, self.ttl)).encode())

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        current = self.backend.read_json(self.path)
        if current is not None and current.get("token") == self.token:
            self.backend.remove(self.path)


def _generations(backend: _Backend, name: str) -> list[int]:
    found = []
    for child in backend.list_names(backend.root):
        if child.startswith(name + CLAIM):
            with contextlib.suppress(ValueError):
                found.append(int(child[len(name + CLAIM):]))
    return sorted(found)


def try_claim(backend: _Backend, name: str, token: str, ttl: float, log: Callable[[str, dict], None]) -> Claim | None:
    """Claim entry ``name``, or take over a stale claim; None while someone else holds a live one."""
    generations = _generations(backend, name)
    if generations:
        top = generations[-1]
        holder = backend.read_json(backend.join(f"{name}{CLAIM}{top}"))
        if holder is None:
            return None  # being written, or just released: look again shortly
        if not is_stale(holder):
            return None
        generation = top + 1
    else:
        holder, generation = None, 0
    path = backend.join(f"{name}{CLAIM}{generation}")
    if not backend.create_exclusive(path, json.dumps(owner_record(token, ttl)).encode()):
        return None  # another waiter claimed (or took over) first
    for old in generations:
        backend.remove(backend.join(f"{name}{CLAIM}{old}"))
    if holder is not None:
        log("took-over", {"stale_owner": holder, "generation": generation})
    return Claim(backend, path, token, ttl)


# ---------------------------------------------------------------------------------------------- cache

class SharedCache:
    """``ModelCache``'s interface over a shared directory or an fsspec URL; see the module docstring."""

    def __init__(self, root: str | os.PathLike, mirror: str | os.PathLike | None = None, mode: str = "readwrite",
                 ttl: float | None = None, wait_timeout: float | None = None):
        if mode not in MODES:
            raise UsageError(f"cache mode {mode!r}: choose {' or '.join(MODES)}")
        self.backend = _Backend(str(root))
        self.mode = mode
        self.ttl = float(ttl if ttl is not None else os.environ.get("PRUNEBENCH_CLAIM_TTL", DEFAULT_TTL))
        self.wait_timeout = wait_timeout  # None: wait for a live builder as long as it lives
        if self.backend.local:
            self.root = Path(self.backend.root)
        else:
            self.root = Path(mirror if mirror is not None else default_mirror())
        self.built: list[str] = []  # entries this process built and published (the rest were reused)
        self.downloaded: list[str] = []  # entries this process fetched from a remote store

    @property
    def url(self) -> str:
        return self.backend.url

    def entry(self, label: str, fields: dict) -> Path:
        """The local directory of an entry (in the shared directory, or the mirror of a URL)."""
        return self.root / f"{label}-{entry_key(fields)}"

    def get_or_build(self, label: str, fields: dict, build: Callable[[Path], None]) -> Path:
        local = self.entry(label, fields)
        if ModelCache._complete(local, fields):
            return local
        if self.backend.local:
            return self._local(local, fields, build)
        return self._remote(label, local, fields, build)

    # --- a shared directory ---------------------------------------------------------------------------

    def _local(self, final: Path, fields: dict, build: Callable[[Path], None]) -> Path:
        if self.mode == "read":
            return ModelCache(self.root).get_or_build(final.name.rsplit("-", 1)[0], fields, build)
        token = uuid.uuid4().hex
        for _ in self._waiting(final.name):
            if ModelCache._complete(final, fields):
                return final
            claim = try_claim(self.backend, final.name, token, self.ttl, self._logger(final.name, token))
            if claim is None:
                continue
            try:
                # also exclude a ModelCache (an xdist run) building the same entry on this machine
                with FileLock(str(final) + ".lock"):
                    if ModelCache._complete(final, fields):
                        return final
                    ModelCache._remove_leftovers(final)
                    started = time.time()
                    tmp = Path(tempfile.mkdtemp(prefix=final.name + atomic.TMP_MARKER, dir=self.root))
                    try:
                        build(tmp)
                        record = self._build_record(token, started)
                        atomic.write_text(tmp / BUILD_RECORD, json.dumps(record, indent=1, sort_keys=True))
                        atomic.write_text(tmp / KEY_FILE, json.dumps(fields, indent=1, sort_keys=True))
                        try:
                            os.rename(tmp, final)  # no-replace for a directory onto a non-empty one
                        except OSError:
                            if ModelCache._complete(final, fields):
                                return final  # someone published first (after taking over from us)
                            raise
                        atomic._fsync_dir(self.root)
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
                    self.built.append(final.name)
                    self._logger(final.name, token)("published", record)
                    return final
            finally:
                claim.release()
        raise AssertionError("unreachable")

    # --- an fsspec store with a local mirror ----------------------------------------------------------

    def _remote(self, label: str, local: Path, fields: dict, build: Callable[[Path], None]) -> Path:
        backend, name = self.backend, local.name
        marker_path = backend.join(name, MARKER)
        mirror = ModelCache(self.root)
        token = uuid.uuid4().hex
        for _ in self._waiting(name):
            marker = backend.read_json(marker_path)
            if marker is not None:
                return self._download(marker, local, fields)
            if self.mode == "read":  # read-through: build here, publish nothing
                return mirror.get_or_build(label, fields, build)
            claim = try_claim(backend, name, token, self.ttl, self._logger(name, token))
            if claim is None:
                continue
            try:
                marker = backend.read_json(marker_path)
                if marker is not None:
                    return self._download(marker, local, fields)
                backend.remove(backend.join(name), recursive=True)  # a killed builder's partial upload
                started = time.time()

                def build_with_record(tmp: Path, started: float = started) -> None:
                    build(tmp)
                    atomic.write_text(tmp / BUILD_RECORD, json.dumps(self._build_record(token, started),
                                                                     indent=1, sort_keys=True))

                mirror.built.clear()
                built = mirror.get_or_build(label, fields, build_with_record)  # atomic in the mirror
                files = sorted(str(p.relative_to(built)) for p in built.rglob("*") if p.is_file())
                for rel in files:
                    target = backend.join(name, token, rel)
                    backend.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                    backend.fs.put_file(str(built / rel), target)
                marker = {"build": token, "fields": fields,
                          "files": {rel: (built / rel).stat().st_size for rel in files},
                          **self._build_record(token, started)}
                if not backend.create_exclusive(marker_path, json.dumps(marker, indent=1, sort_keys=True).encode()):
                    backend.remove(backend.join(name, token), recursive=True)
                    shutil.rmtree(built, ignore_errors=True)  # keep the published version, not ours
                    return self._download(backend.read_json(marker_path), local, fields)
                self.built.append(name)
                self._logger(name, token)("published", marker)
                return built
            finally:
                claim.release()
        raise AssertionError("unreachable")

    def _download(self, marker: dict, local: Path, fields: dict) -> Path:
        if json.loads(json.dumps(fields)) != marker.get("fields"):
            raise DataError(f"shared cache entry {self.backend.join(local.name)} holds another key; delete it")
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(local) + ".lock"):
            if ModelCache._complete(local, fields):
                return local
            ModelCache._remove_leftovers(local)
            with atomic.atomic_dir(local) as tmp:
                for rel, size in marker["files"].items():
                    target = tmp / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self.backend.fs.get_file(self.backend.join(local.name, marker["build"], rel), str(target))
                    if target.stat().st_size != size:
                        raise DataError(f"shared cache entry {local.name}: {rel} has {target.stat().st_size} "
                                        f"bytes, its marker says {size}")
        self.downloaded.append(local.name)
        return local

    # --- bookkeeping ----------------------------------------------------------------------------------

    def _waiting(self, name: str):
        """Yield until the caller returns; sleep between rounds; give up after ``wait_timeout``."""
        start = time.monotonic()
        first = True
        while True:
            if not first:
                if self.wait_timeout is not None and time.monotonic() - start > self.wait_timeout:
                    raise DataError(f"cache entry {name}: still claimed by another builder after "
                                    f"{self.wait_timeout:.0f} s")
                time.sleep(POLL)
            first = False
            yield

    def _build_record(self, token: str, started: float) -> dict:
        return {"token": token, "host": socket.gethostname(), "pid": os.getpid(), "started": started,
                "seconds": round(time.time() - started, 3),
                "ray_node": os.environ.get("PRUNEBENCH_RAY_NODE")}

    def _logger(self, name: str, token: str) -> Callable[[str, dict], None]:
        def log(event: str, detail: dict) -> None:
            record = {"event": event, "entry": name, "token": token, "host": socket.gethostname(),
                      "pid": os.getpid(), "time": time.time(), **{k: v for k, v in detail.items() if k != "fields"}}
            path = self.backend.join(LOG_DIR, name, f"{time.time():.6f}-{event}-{token[:8]}.json")
            data = json.dumps(record, sort_keys=True).encode()
            if self.backend.local:
                atomic.write_bytes(path, data)
            else:
                self.backend.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
                self.backend.fs.pipe_file(path, data)

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


def open_cache(root: str | None = None, shared: bool = False):
    """The suite's cache: ``ModelCache`` (today's, a local file lock) for a directory, unless ``shared``
    (a Ray build: claims on the store); a :class:`SharedCache` for an fsspec URL. ``PRUNEBENCH_CACHE_MODE``
    (``readwrite`` or ``read``) and ``PRUNEBENCH_CACHE_MIRROR`` configure the latter."""
    root = root or cache_root()
    if not shared and not is_url(root) and os.environ.get("PRUNEBENCH_CACHE_MODE", "readwrite") == "readwrite":
        return ModelCache(Path(root))
    return SharedCache(root, mode=os.environ.get("PRUNEBENCH_CACHE_MODE", "readwrite"))
