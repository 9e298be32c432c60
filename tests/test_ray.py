"""The build phase on a real Ray cluster (issue 12): no mock of Ray.

A module fixture starts a head node and a second worker node on 127.0.0.1 (``ray start --block``, one CPU
each: the machine has two cores), and stops exactly the processes it started. Through ``prunebench build
--ray`` two drivers submit a tiny sweep at once into one shared cache directory (a module fixture, built once
for two tests): the cluster builds each key once, and a third driver reuses them all. A worker SIGKILLed
mid-build leaves nothing visible, is retried by Ray and the entry is still published once (counted in the
cache's ``_builds/`` log).

The models prune only ``w_fc2`` and measure one storage format (``factories.MACHINERY_ONLY``): these tests check
how builds are shared out and published, not sizes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from factories import MACHINERY_ONLY

from prunebench.build.progress import TaskProgress

SMALL_MODELS = ["--profile", "quick", "--retrain-steps", "10", *MACHINERY_ONLY, "--seeds", "1"]
TINY = [*SMALL_MODELS, "--max-steps", "30", "--ratios", "0.5,0.9"]
TIMEOUT = 240
# A node that has not stopped on SIGTERM by then is killed with its group: waiting longer (it was 30 s a node)
# only made the module's teardown the slowest step of the unit tests.
STOP_GRACE_S = 5.0


def _ray():
    return pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[cpu,ray]' (the ray extra)")


# ------------------------------------------------------------------------------------------- pure parts

def test_task_progress_counts_done_running_failed():
    lines, now = [], [0.0]
    progress = TaskProgress(3, lines.append, clock=lambda: now[0])

    class Spec:
        ratio, seed = 0.5, 0

    now[0] = 65
    progress.finished(Spec, "built", "node:12", 60, running=2)
    progress.failed(Spec, "worker died", running=1)
    assert lines[0] == ("prunebench ray build: 1/3 done, 2 running, 0 failed, 0 waiting | ratio=0.5 seed=0 built "
                        "on node:12 in 1:00 | elapsed 1:05")
    assert "1/3 done, 1 running, 1 failed, 0 waiting | ratio=0.5 seed=0 FAILED: worker died" in lines[1]


def test_build_command_builds_serially_into_a_shared_directory_without_ray(tmp_path, mnist_dir, monkeypatch):
    """``prunebench build`` with neither --ray nor RAY_ADDRESS: the same models, built here, claims and all."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "prunebench.cli", "build", "--max-steps", "20", "--retrain-steps", "5",
               "--ratios", "0.5", "--seeds", "1", *MACHINERY_ONLY, "--data-dir", str(mnist_dir),
               "--cache", str(tmp_path / "c"), "--json", str(tmp_path / "s.json")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 models (2 built, 0 reused)" in done.stdout and "serially" in done.stdout
    from prunebench.build.shared_cache import SharedCache

    cache = SharedCache(tmp_path / "c")
    assert sorted(e["event"] for events in cache.events().values() for e in events) == ["published"] * 2


# ------------------------------------------------------------------------------------------- the cluster

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ray_bin() -> str:
    return str(Path(sys.executable).with_name("ray"))


class Cluster:
    def __init__(self):
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp_dir = tempfile.mkdtemp(prefix="pbray-", dir="/tmp")  # short: Ray's socket paths have a limit
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start_node(self, *args: str) -> None:
        log = Path(self.temp_dir) / f"node{len(self.processes)}.log"
        self.logs.append(log)
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.pop("RAY_ADDRESS", None)
        self.processes.append(subprocess.Popen(
            [_ray_bin(), "start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1",
             "--disable-usage-stats", "--object-store-memory=200000000", *args],
            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True))  # its own process group: stopped below by its id, nothing else

    def wait_for_nodes(self, count: int, timeout: float = 90) -> None:
        script = ("import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
                  "print(sum(1 for n in ray.nodes() if n['Alive']))")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(p.poll() is not None for p in self.processes):
                break
            out = subprocess.run([sys.executable, "-c", script, self.address], capture_output=True, text=True,
                                 timeout=60, env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
            if out.returncode == 0 and out.stdout.strip().splitlines()[-1:] == [str(count)]:
                return
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster did not come up with {count} nodes:\n" + self.tail())

    def tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in self.logs if log.exists())

    def stop(self) -> None:
        """``ray stop --force`` would kill every Ray process of the machine by name; stop only ours: SIGTERM
        to each ``ray start --block`` (it stops its node's processes), then SIGKILL what is left of the group."""
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.time() + STOP_GRACE_S
        for process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def cluster(request, mnist_dir):
    _ray()
    cluster = Cluster()
    request.addfinalizer(cluster.stop)
    cluster.start_node("--head", f"--port={cluster.port}", "--include-dashboard=false",
                       f"--temp-dir={cluster.temp_dir}")
    cluster.wait_for_nodes(1)
    cluster.start_node(f"--address={cluster.address}")
    cluster.wait_for_nodes(2)
    return cluster


def _build(cluster: Cluster, cache: Path, *args: str, json_out: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PRUNEBENCH_CLAIM_TTL": "20"}
    env.pop("RAY_ADDRESS", None)
    command = [sys.executable, "-m", "prunebench.cli", "build", "--ray", cluster.address, "--cache", str(cache),
               *args, *(["--json", str(json_out)] if json_out else [])]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen, cluster: Cluster) -> str:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    assert process.returncode == 0, f"build failed ({process.returncode}):\n{out[-3000:]}\n{err[-3000:]}\n" \
                                     + cluster.tail()
    return out


def _events(cache: Path) -> dict[str, list[str]]:
    log = cache / "_builds"
    return {entry.name: [json.loads(f.read_text())["event"] for f in sorted(entry.iterdir())]
            for entry in sorted(log.iterdir())} if log.is_dir() else {}


def _entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if p.is_dir() and not p.name.startswith("_") and ".tmp-" not in p.name)


def _assert_clean(cache: Path) -> None:
    leftovers = [p.name for p in cache.iterdir() if ".tmp-" in p.name or ".claim-" in p.name]
    assert leftovers == []
    for entry in _entries(cache):
        assert (entry / "cache-key.json").is_file() and (entry / "measurements.json").is_file(), entry
        assert json.loads((entry / "build.json").read_text())["pid"] > 0


@pytest.fixture(scope="module")
def sweep(cluster, tmp_path_factory, mnist_dir) -> tuple[Path, list[str], list[dict]]:
    """Two drivers submit the tiny sweep at once into a fresh cache: their tasks for one key run side by side
    on the two nodes (building a model takes far longer than a driver's start), and the claims on the store let
    one build while the other waits and reuses. The cache, each driver's output and its JSON summary."""
    root = tmp_path_factory.mktemp("sweep")
    cache = root / "cache"
    drivers = [_build(cluster, cache, *TINY, "--data-dir", str(mnist_dir), json_out=root / f"{i}.json")
               for i in range(2)]
    outputs = [_finish(driver, cluster) for driver in drivers]
    return cache, outputs, [json.loads((root / f"{i}.json").read_text()) for i in range(2)]


def test_sweep_builds_on_the_cluster_then_reuses_it(cluster, sweep, tmp_path, mnist_dir):
    cache, outputs, summaries = sweep
    for out in outputs:
        assert "prunebench ray build: 3/3 done" in out and "0 failed" in out.splitlines()[-2]
    assert [summary["models"] for summary in summaries] == [3, 3]
    assert sum(summary["built"] for summary in summaries) == 3
    _assert_clean(cache)
    assert len(_entries(cache)) == 3
    assert all(events == ["published"] for events in _events(cache).values()) and len(_events(cache)) == 3
    # again: everything comes from the shared cache
    _finish(_build(cluster, cache, *TINY, "--data-dir", str(mnist_dir), json_out=tmp_path / "b.json"), cluster)
    assert json.loads((tmp_path / "b.json").read_text())["built"] == 0
    assert all(events == ["published"] for events in _events(cache).values())


def test_concurrent_requests_build_each_key_once(sweep):
    """Of the six tasks the two drivers submitted for three keys, exactly one built each key."""
    cache, _, summaries = sweep
    tasks = [task for summary in summaries for task in summary["tasks"]]
    assert len(tasks) == 6 and sorted(name for task in tasks for name in task["built"]) == sorted(
        entry.name for entry in _entries(cache))
    events = _events(cache)
    assert len(events) == 3 and all(e.count("published") == 1 for e in events.values()), events
    _assert_clean(cache)


def test_killed_worker_leaves_nothing_visible_and_the_retry_builds_once(cluster, tmp_path, mnist_dir):
    cache = tmp_path / "cache"
    args = [*SMALL_MODELS, "--max-steps", "400", "--ratios", "0.5", "--data-dir", str(mnist_dir)]
    driver = _build(cluster, cache, *args, "--max-retries", "2", json_out=tmp_path / "k.json")
    deadline, victim = time.time() + 150, None
    while victim is None:
        assert time.time() < deadline and driver.poll() is None, "the baseline's build never started"
        claims = list(cache.glob("baseline-seed0-*.claim-0")) if cache.is_dir() else []
        building = list(cache.glob("baseline-seed0-*.tmp-*")) if cache.is_dir() else []
        if claims and building:  # claimed, and its temporary build directory exists
            victim = json.loads(claims[0].read_text())["pid"]
        time.sleep(0.2)
    time.sleep(2.0)  # mid-training
    os.kill(victim, signal.SIGKILL)
    # nothing half-built is visible: every entry under a final name is complete
    for entry in _entries(cache):
        assert (entry / "cache-key.json").is_file()
    _finish(driver, cluster)
    events = _events(cache)
    baseline = next(name for name in events if name.startswith("baseline-seed0-"))
    assert events[baseline] == ["took-over", "published"], events
    took_over = json.loads(sorted((cache / "_builds" / baseline).iterdir())[0].read_text())
    assert took_over["stale_owner"]["pid"] == victim
    assert all(e == ["published"] for name, e in events.items() if name != baseline)
    assert json.loads((tmp_path / "k.json").read_text())["built"] == 2
    _assert_clean(cache)
