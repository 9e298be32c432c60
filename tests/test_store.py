"""The shared cache (prunebench.build.shared_cache) without Ray or TensorFlow: exactly-once across processes, stale
claims of SIGKILLed builders taken over, only complete entries visible, read-through from a store (file:// URLs),
and the version published first kept when a builder whose claim was taken over finishes late."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from prunebench.build.cache import KEY_FILE, ModelCache
from prunebench.build.ownership import is_stale, owner_record
from prunebench.build.shared_cache import BUILD_RECORD, MARKER, SharedCache
from prunebench.results import atomic
from prunebench.results.paths import project_root

pytest.importorskip("fsspec", reason="fsspec is in the ray extra: pip install -e '.[ray]'")

FIELDS = {"kind": "test", "n": 1}

# A process asking the cache for one entry whose build takes `seconds`; prints the entry and "built"/"reused".
WORKER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from prunebench.build.shared_cache import SharedCache
    root, mirror, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    cache = SharedCache(root, mirror=mirror)
    def build(tmp):
        (tmp / "started").write_text(str(os.getpid()))
        time.sleep(seconds)
        (tmp / "model.bin").write_bytes(os.urandom(1000))
    entry = cache.get_or_build("thing", {"kind": "test", "n": 1}, build)
    print(json.dumps({"entry": str(entry), "built": bool(cache.built), "pid": os.getpid(),
                      "model": (entry / "model.bin").read_bytes().hex()}))
""")


def _start(root: str, mirror: Path, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(project_root()), "PRUNEBENCH_CLAIM_TTL": "4"}
    return subprocess.Popen([sys.executable, "-c", WORKER, root, str(mirror), str(seconds)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def _published(cache: SharedCache) -> dict[str, int]:
    return {name: sum(e["event"] == "published" for e in events) for name, events in cache.events().items()}


@pytest.mark.parametrize("kind", ["directory", "file-url"])
def test_concurrent_processes_build_one_key_once(tmp_path, kind):
    root = str(tmp_path / "store") if kind == "directory" else (tmp_path / "store").as_uri()
    processes = [_start(root, tmp_path / f"mirror{i}", 1.5) for i in range(4)]
    results = [_result(p) for p in processes]
    assert sum(r["built"] for r in results) == 1
    assert len({r["model"] for r in results}) == 1  # every process reads the one published version
    cache = SharedCache(root, mirror=tmp_path / "reader")
    assert list(_published(cache).values()) == [1]
    if kind == "file-url":
        entry_dir = next(p for p in (tmp_path / "store").iterdir() if p.name.startswith("thing-") and p.is_dir())
        marker = json.loads((entry_dir / MARKER).read_text())
        assert set(marker["files"]) == {"started", "model.bin", BUILD_RECORD, KEY_FILE}
    leftovers = [p for p in (tmp_path / "store").rglob("*") if atomic.TMP_MARKER in p.name or ".claim-" in p.name]
    assert leftovers == []


@pytest.mark.parametrize("kind", ["directory", "file-url"])
def test_killed_builder_leaves_nothing_visible_and_is_taken_over(tmp_path, kind):
    store = tmp_path / "store"
    root = str(store) if kind == "directory" else store.as_uri()
    victim = _start(root, tmp_path / "mirror-victim", 60)
    deadline = time.time() + 30
    while not list(store.glob("thing-*.claim-0")) or not list((tmp_path).rglob("started")):
        assert time.time() < deadline and victim.poll() is None, victim.stderr.read() if victim.poll() else "slow"
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    reader = SharedCache(root, mirror=tmp_path / "reader")
    # nothing complete is visible: a reader finds no entry and no marker
    assert not any((p / KEY_FILE).exists() or (p / MARKER).exists() for p in store.glob("thing-*") if p.is_dir())
    result = _result(_start(root, tmp_path / "mirror-retry", 0.2))
    assert result["built"]
    events = reader.events()
    (name, log), = events.items()
    assert [e["event"] for e in log] == ["took-over", "published"]
    assert log[0]["stale_owner"]["pid"] == victim.pid
    leftovers = [p for p in store.rglob("*") if atomic.TMP_MARKER in p.name or ".claim-" in p.name]
    assert leftovers == []


def test_read_through_downloads_from_the_store_and_never_publishes(tmp_path, monkeypatch):
    url = (tmp_path / "store").as_uri()
    writer = SharedCache(url, mirror=tmp_path / "cluster")
    entry = writer.get_or_build("thing", FIELDS, lambda tmp: (tmp / "model.bin").write_bytes(b"weights"))
    assert writer.built == [entry.name]

    ci = SharedCache(url, mirror=tmp_path / "ci", mode="read")
    calls = []
    got = ci.get_or_build("thing", FIELDS, lambda tmp: calls.append(tmp))
    assert calls == [] and ci.downloaded == [entry.name] and (got / "model.bin").read_bytes() == b"weights"
    assert got.parent == tmp_path / "ci"
    # a key the store lacks: built locally, nothing written to the store
    other = ci.get_or_build("other", {"n": 2}, lambda tmp: (tmp / "model.bin").write_bytes(b"local"))
    assert (other / "model.bin").read_bytes() == b"local"
    assert not any(p.name.startswith("other-") for p in (tmp_path / "store").iterdir())


def test_entries_of_model_cache_are_reused(tmp_path):
    legacy = ModelCache(tmp_path).get_or_build("thing", FIELDS, lambda tmp: (tmp / "m").write_text("old"))
    shared = SharedCache(tmp_path)
    assert shared.get_or_build("thing", FIELDS, lambda tmp: pytest.fail("rebuilt")) == legacy
    assert shared.built == []


def test_stale_claims():
    fresh = owner_record("t", ttl=60)
    assert not is_stale(fresh)
    assert is_stale({**fresh, "expires": time.time() - 1})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert is_stale({**fresh, "pid": dead.pid})  # same host, process gone
    assert not is_stale({**fresh, "pid": dead.pid, "host": "elsewhere"})  # another host: only the expiry counts



def test_read_through_over_a_directory_builds_here_unclaimed(tmp_path):
    cache = SharedCache(tmp_path, mode="read")
    entry = cache.get_or_build("thing", FIELDS, lambda tmp: (tmp / "m").write_text("local"))
    assert cache.built == [entry.name] and (entry / "m").read_text() == "local"
    assert not (entry / BUILD_RECORD).exists() and cache.events() == {}
    assert [p.name for p in tmp_path.iterdir() if ".claim-" in p.name or atomic.TMP_MARKER in p.name] == []


@pytest.mark.parametrize("kind", ["directory", "file-url"])
def test_a_build_published_first_by_whoever_took_over_our_claim_wins(tmp_path, kind):
    """A builder that stalled past its claim's expiry finishes after the one that took over published: the
    published version stays, ours is dropped, and only one publication is logged."""
    store = tmp_path / "store"
    cache = SharedCache(store if kind == "directory" else store.as_uri(), mirror=tmp_path / "mirror")
    name = cache.entry("thing", FIELDS).name

    def build_while_another_publishes(tmp: Path) -> None:
        (tmp / "m").write_text("ours")
        theirs = store / name if kind == "directory" else store / name / "other"  # another node's files
        theirs.mkdir(parents=True)
        (theirs / "m").write_text("theirs")
        if kind == "directory":
            (theirs / KEY_FILE).write_text(json.dumps(FIELDS))
        else:
            marker = {"build": "other", "fields": FIELDS, "files": {"m": len("theirs")}}
            (store / name / MARKER).write_text(json.dumps(marker))

    entry = cache.get_or_build("thing", FIELDS, build_while_another_publishes)
    assert (entry / "m").read_text() == "theirs" and cache.built == []
    assert _published(cache) == {}
    assert [p.name for p in entry.parent.iterdir() if atomic.TMP_MARKER in p.name] == []


@pytest.mark.parametrize("umask", [0o022, 0o077])
@pytest.mark.parametrize("store", [ModelCache, SharedCache])
def test_entry_permissions_follow_the_umask(tmp_path, umask, store):
    old = os.umask(umask)
    try:
        entry = store(tmp_path).get_or_build("thing", FIELDS, lambda tmp: (tmp / "m").write_text("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o777 & ~umask
