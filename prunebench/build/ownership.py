"""Exclusive claims on the entries of a store that several machines share, and the storage calls they need.

A builder creates ``<entry>.claim-<generation>`` exclusively (``O_EXCL``, fsspec ``mode="xb"``), holding its
owner (host, pid, token) and an expiry it renews from a heartbeat thread. Whoever fails waits for the entry.
A claim whose expiry passed, or whose owner is a dead process on this host, is stale: the next waiter takes
over by creating the *next* generation exclusively, so of several waiters exactly one takes over, and nobody
ever deletes a live claim. ``prunebench.build.shared_cache`` builds its store on these claims.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from prunebench.errors import UsageError
from prunebench.results import atomic

CLAIM = ".claim-"


def is_url(root: str | os.PathLike) -> bool:
    return "://" in str(root)


class Backend:
    """The few storage calls claims and the shared store need, on a local directory or an fsspec filesystem."""

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
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
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


class Claim:
    """A held claim on one entry; a daemon thread renews its expiry until :meth:`release`."""

    def __init__(self, backend: Backend, path: str, token: str, ttl: float):
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


def _generations(backend: Backend, name: str) -> list[int]:
    found = []
    for child in backend.list_names(backend.root):
        if child.startswith(name + CLAIM):
            with contextlib.suppress(ValueError):
                found.append(int(child[len(name + CLAIM):]))
    return sorted(found)


def try_claim(backend: Backend, name: str, token: str, ttl: float, log: Callable[[str, dict], None]) -> Claim | None:
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
