"""Nothing lost, nothing half-written; concurrent runs build once; same seed, same model.

- ``prunebench.results.atomic`` on its own: a failing block leaves the old file/directory and no temporary.
- A real caching run SIGKILLed in the middle of a build leaves only complete artifacts under final
  names; the next run removes the leftovers and rebuilds only what is missing.
- Processes started together on one cache build each entry exactly once and read it only complete.
- Training twice with the same seed gives the same masks, nonzero counts and format sizes; with
  TensorFlow's op determinism also the same weights, bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from prunebench.results import atomic
from prunebench.results.paths import project_root

PRUNED = ("w_fc1", "w_fc2")
TIMEOUT = 300  # seconds any subprocess may take on a loaded 2-core machine


# ---------------------------------------------------------------------------------------------- helpers

def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(project_root()), **extra}
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def _python(script: str, *args: object, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *map(str, args)], cwd=project_root(),
                            env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> str:
    """stdout of a subprocess that must succeed (its stderr in the failure message otherwise)."""
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, f"subprocess failed ({process.returncode}):\n{(err or out)[-3000:]}"
    return out


def _leftovers(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if atomic.TMP_MARKER in p.name)


def _tree_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _assert_final_names_complete(root: Path) -> int:
    """Every artifact under a final name (no ``.tmp-`` on its path) loads whole; returns how many."""
    from prunebench.build.cache import KEY_FILE
    from prunebench.model.checkpoint import load_dense
    from prunebench.prune.paper_format import load_sparse

    checked = 0
    for path in sorted(root.rglob("*")):
        if any(atomic.TMP_MARKER in part for part in path.relative_to(root).parts):
            continue  # a leftover temporary: readers ignore it, the next build removes it
        if path.is_dir() and path.name in ("step_1", "step_2_1", "step_2_2"):
            load_dense(path)
        elif path.is_dir() and path.name == "step_3":
            load_sparse(path)
        elif path.is_dir() and path.parent == root:  # a cache entry
            assert (path / KEY_FILE).is_file(), f"cache entry {path.name} without its key"
        elif path.suffix == ".json":
            json.loads(path.read_text())
        else:
            continue
        checked += 1
    return checked


# ------------------------------------------------------------------------------------ atomic on its own

def test_atomic_path_replaces_whole_file_and_leaves_old_one_on_error(tmp_path):
    final = tmp_path / "a.json"
    atomic.write_text(final, "old")
    with pytest.raises(RuntimeError), atomic.atomic_path(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert final.read_text() == "old" and _leftovers(tmp_path) == []
    with pytest.raises(KeyboardInterrupt), atomic.atomic_path(final) as tmp:  # not an Exception either
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert final.read_text() == "old" and _leftovers(tmp_path) == []
    atomic.write_text(final, "new")
    assert final.read_text() == "new" and sorted(tmp_path.iterdir()) == [final]


def test_atomic_dir_replaces_whole_directory_and_leaves_old_one_on_error(tmp_path):
    final = tmp_path / "step_1"
    with atomic.atomic_dir(final) as tmp:
        (tmp / "a").write_text("old a")
        (tmp / "b").write_text("old b")
    with pytest.raises(RuntimeError), atomic.atomic_dir(final) as tmp:
        (tmp / "a").write_text("new a")
        raise RuntimeError("killed mid-write")
    assert {p.name: p.read_text() for p in final.iterdir()} == {"a": "old a", "b": "old b"}
    assert _leftovers(tmp_path) == []
    with atomic.atomic_dir(final) as tmp:
        (tmp / "c").write_text("new c")
    assert {p.name: p.read_text() for p in final.iterdir()} == {"c": "new c"}
    assert sorted(tmp_path.iterdir()) == [final]  # the old version moved aside is gone too


def test_atomic_dir_puts_old_directory_back_if_the_final_rename_fails(tmp_path, monkeypatch):
    final = tmp_path / "entry"
    with atomic.atomic_dir(final) as tmp:
        (tmp / "model").write_text("old")
    real_replace, calls = os.replace, []

    def flaky_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the old one is aside, the new one fails to move in
            raise OSError("simulated rename failure")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="simulated"), atomic.atomic_dir(final) as tmp:
        (tmp / "model").write_text("new")
    monkeypatch.undo()
    assert len(calls) >= 2
    assert (final / "model").read_text() == "old" and _leftovers(tmp_path) == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_artifact_permissions_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic.write_bytes(tmp_path / "f.bin", b"x")
        with atomic.atomic_dir(tmp_path / "d") as tmp:
            (tmp / "inside").write_bytes(b"y")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o777 & ~umask


# ------------------------------------------------------------------------------------------- kill test

KILL_RATIO = 0.5
BUILD_SCRIPT = """
    import json, sys
    from pathlib import Path
    from prunebench.model.data import load_mnist
    from prunebench.build.cache import ModelCache
    from prunebench.build.builder import ModelBuilder, ModelSpec, PhaseClock
    from prunebench.build.pipeline import Settings

    # the real builder, with the slow extras of its measurements (every format, float16) cut short
    ModelBuilder._float16_accuracy = lambda self, weights: None

    root, mnist, steps, retrain, ratio = sys.argv[1:]
    settings = Settings(max_steps=int(steps), batch_size=32, retrain_steps=int(retrain), seed=0,
                        variables=("w_fc1", "w_fc2"))
    cache = ModelCache(Path(root))
    builder = ModelBuilder(load_mnist(Path(mnist)), settings, cache, PhaseClock(), eval_images=100,
                           formats=["bitmask"])
    builder.get(ModelSpec(float(ratio), 0))
    print(json.dumps(cache.built))
"""


def _assert_pruned_exactly(directory: Path, recorded: dict) -> None:
    """step_2_2 keeps exactly the unpruned count of each pruned variable (as recorded) and step_3 holds it."""
    from prunebench.model.checkpoint import load_dense
    from prunebench.prune.paper_format import load_sparse
    from prunebench.prune.ratio import prune_count

    dense, sparse = load_dense(directory / "step_2_2")[0], load_sparse(directory / "step_3")[0]
    for name in PRUNED:
        kept = dense[name].size - prune_count(dense[name].size, KILL_RATIO)
        assert np.count_nonzero(dense[name]) == recorded["variables"][name]["nonzero"] == kept
        np.testing.assert_array_equal(sparse[name], dense[name])


def _kill_during_pruned_build(process: subprocess.Popen, root: Path) -> str:
    """SIGKILL the builder while it writes the pruned entry's step_2_2 (or just after); what was seen."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        for building in root.glob(f"ratio{KILL_RATIO:g}-seed0-*{atomic.TMP_MARKER}*"):
            try:
                seen = [name for name in os.listdir(building) if name.startswith("step_2_2")]
            except FileNotFoundError:  # renamed into place between glob and listdir
                continue
            if seen:
                os.kill(process.pid, signal.SIGKILL)
                process.communicate(timeout=TIMEOUT)
                return seen[0]
        time.sleep(0.002)
    _, err = process.communicate(timeout=TIMEOUT)
    pytest.fail(f"the build ended before step_2_2 was written (rc {process.returncode}):\n{err[-2000:]}")


def test_sigkilled_build_leaves_only_complete_artifacts_and_rerun_rebuilds_the_rest(tmp_path, mnist_dir):
    from prunebench.build.cache import KEY_FILE

    root = tmp_path / "cache"
    args = (root, mnist_dir, 40, 20, KILL_RATIO)
    seen = _kill_during_pruned_build(_python(BUILD_SCRIPT, *args), root)

    entries = [p for p in root.iterdir() if p.is_dir() and atomic.TMP_MARKER not in p.name]
    assert [p.name.startswith("baseline-seed0-") for p in entries] == [True], "only the baseline is complete"
    baseline = entries[0]
    assert _leftovers(root), f"killed at {seen}: expected the interrupted build's temporary"
    print(f"killed on seeing {seen}; left {[p.relative_to(root).as_posix() for p in _leftovers(root)]}")
    assert _assert_final_names_complete(root) >= 3  # baseline entry, its step_1, its measurements
    step_1_before = _tree_digest(baseline / "step_1")

    built = json.loads(_finish(_python(BUILD_SCRIPT, *args)).strip().splitlines()[-1])
    assert len(built) == 1 and built[0].startswith(f"ratio{KILL_RATIO:g}-seed0-"), built  # baseline reused
    assert _tree_digest(baseline / "step_1") == step_1_before
    assert _leftovers(root) == [], "the rebuild should remove the killed build's temporaries"
    assert _assert_final_names_complete(root) >= 8

    entry = root / built[0]
    assert (entry / KEY_FILE).is_file()
    row = json.loads((entry / "measurements.json").read_text())
    _assert_pruned_exactly(entry, row)


CLI_SCRIPT = """
    import sys
    from prunebench.cli import main
    sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigkilled_train_command_leaves_loadable_steps_and_reruns_from_them(tmp_path, mnist_dir):
    """``prunebench train -1 -2 -3`` killed while it writes a step directory under its final name."""
    train_dir = tmp_path / "train"
    common = ["--train-data-dir", mnist_dir, "--train-dir", train_dir, "--max-steps", 100, "--retrain-steps", 50,
              "--batch-size", 32, "--sparse-ratio", KILL_RATIO, "--pruning-variable-names", "w_fc1,w_fc2"]
    process = _python(CLI_SCRIPT, "train", "-1", "-2", "-3", *common)
    seen: list[str] = []
    while process.poll() is None and not seen:  # the first step_2_* temporary, or step_2_1 done
        if train_dir.is_dir():
            names = os.listdir(train_dir)
            seen = [n for n in names if n.startswith("step_2_") and atomic.TMP_MARKER in n] or \
                [n for n in names if n == "step_2_1"]
        time.sleep(0.001)
    assert seen, "train ended before step 2 was written"
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=TIMEOUT)
    print(f"killed on seeing {seen[0]}; left {[p.name for p in _leftovers(train_dir)]}")
    assert not (train_dir / "step_3").exists()
    assert _assert_final_names_complete(train_dir) >= 1  # step_1 and whatever step 2 finished
    step_1 = _tree_digest(train_dir / "step_1")

    _finish(_python(CLI_SCRIPT, "train", "-2", "-3", *common))  # step 1 survived: only 2 and 3 again
    assert _tree_digest(train_dir / "step_1") == step_1
    assert _assert_final_names_complete(train_dir) >= 5  # four step directories and the summary
    summary = json.loads((train_dir / "summary.json").read_text())
    assert set(summary["sizes"]) == {"step_1", "step_2_1", "step_2_2", "step_3"}  # leftovers ignored
    _assert_pruned_exactly(train_dir, summary)


# ------------------------------------------------------------------------------------- concurrency test

CACHE_SCRIPT = """
    import hashlib, json, os, sys, time
    from pathlib import Path
    from prunebench.build.cache import ModelCache

    root, log, go = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    payload = bytes(range(256)) * 4096  # 1 MiB, written in slow pieces

    def build(tmp):
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\\n")
        with open(tmp / "model.bin", "wb") as handle:
            for i in range(0, len(payload), 65536):
                handle.write(payload[i:i + 65536])
                handle.flush()
                time.sleep(0.05)

    while not go.exists():  # start together
        time.sleep(0.001)
    cache = ModelCache(root)
    entry = cache.get_or_build("model", {"seed": 0, "ratio": 0.9}, build)
    data = (entry / "model.bin").read_bytes()
    print(json.dumps({"entry": str(entry), "built": cache.built, "complete": data == payload,
                      "sha": hashlib.sha256(data).hexdigest()}))
"""


def test_processes_started_together_build_each_entry_once(tmp_path):
    root, log, go = tmp_path / "cache", tmp_path / "builds.log", tmp_path / "go"
    processes = [_python(CACHE_SCRIPT, root, log, go) for _ in range(3)]
    time.sleep(0.5)  # let them all reach the start line
    go.touch()
    outcomes = [json.loads(_finish(p)) for p in processes]
    assert len(log.read_text().splitlines()) == 1, "the model was built more than once"
    assert sum(len(o["built"]) for o in outcomes) == 1
    assert len({o["entry"] for o in outcomes}) == 1 and len({o["sha"] for o in outcomes}) == 1
    assert all(o["complete"] for o in outcomes)
    assert _leftovers(root) == []


@pytest.mark.slow
def test_two_suites_at_once_share_one_cache_and_build_each_model_once(tmp_path, mnist_dir):
    """Two pytest sessions of the benchmark suite on one cache (models: a baseline and one ratio), each
    counting in its terminal summary the models it built rather than reused."""
    from factories import MACHINERY_ONLY  # here: a subprocess imports this module without tests/ on its path

    argv = [sys.executable, "-m", "pytest", "bench/test_models.py", "--profile", "quick", "--max-steps", "20",
            "--retrain-steps", "5", "--ratios", "0.9", "--seeds", "1", "-p", "no:cacheprovider", "-q",
            *MACHINERY_ONLY, "--data-dir", str(mnist_dir)]
    processes = [subprocess.Popen(argv, cwd=project_root(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=_env(PRUNEBENCH_CACHE=str(tmp_path / "cache"),
                                                      PRUNEBENCH_RESULTS=str(tmp_path / f"results{i}")))
                 for i in range(2)]
    outputs = [p.communicate(timeout=TIMEOUT)[0] for p in processes]
    # at 20 steps the suite's own accuracy checks may fail (exit 1); only a crash or usage error counts here
    assert all(p.returncode in (0, 1) for p in processes), [out[-3000:] for out in outputs]
    built = []
    for out in outputs:
        line = next(line for line in out.splitlines() if line.startswith("models built this run:"))
        built.append(int(line.split(":")[1].split(";")[0]))
    entries = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert len(entries) == 2 and sum(built) == len(entries), outputs
    assert _assert_final_names_complete(tmp_path / "cache") >= 2 and _leftovers(tmp_path / "cache") == []


# ------------------------------------------------------------------------------------- determinism test

DETERMINISM_FORMATS = ["coo-int64", "csr-int32", "bitmask", "csr-rel-uint8"]  # sizes set by the mask alone


def _train_twice_summary(data, root: Path, deterministic: bool) -> dict:
    """Masks, nonzero counts, sizes and weight hashes of the step_2_2 model trained from scratch."""
    from prunebench.build.pipeline import Settings, prune_and_retrain, train_baseline
    from prunebench.model.checkpoint import load_dense
    from prunebench.prune.formats import size_table

    settings = Settings(max_steps=20, batch_size=32, retrain_steps=5, seed=3, variables=PRUNED,
                        deterministic=deterministic)
    train_baseline(data, settings, root / "step_1")
    prune_and_retrain(data, settings, 0.7, root / "step_1", root / "step_2_1", root / "step_2_2")
    weights = load_dense(root / "step_2_2")[0]
    return {
        "masks": {n: hashlib.sha256(np.packbits(weights[n] == 0).tobytes()).hexdigest() for n in PRUNED},
        "nonzero": {n: int(np.count_nonzero(weights[n])) for n in PRUNED},
        "sizes": size_table(weights, list(PRUNED), DETERMINISM_FORMATS),
        "weights": {n: hashlib.sha256(w.tobytes()).hexdigest() for n, w in weights.items()},
    }


def test_same_seed_same_masks_counts_and_sizes(tmp_path, mnist):
    first = _train_twice_summary(mnist, tmp_path / "a", deterministic=False)
    second = _train_twice_summary(mnist, tmp_path / "b", deterministic=False)
    # TensorFlow's default CPU kernels are not promised to be bit-reproducible (here, at 20 + 5 steps, the
    # weights did agree as well), so weights are compared only under op determinism (below). Masks,
    # counts and sizes must agree regardless.
    for field in ("masks", "nonzero", "sizes"):
        assert first[field] == second[field], field


DETERMINISTIC_SCRIPT = """
    import json, sys
    from pathlib import Path
    from prunebench.model.data import load_mnist
    from tests.test_robustness import _train_twice_summary

    out, mnist = Path(sys.argv[1]), Path(sys.argv[2])
    print(json.dumps(_train_twice_summary(load_mnist(mnist), out, deterministic=True)))
"""


def test_op_determinism_gives_bit_identical_weights_across_processes(tmp_path, mnist_dir):
    # enable_op_determinism() is process-global, so each training runs in its own process
    processes = [_python(DETERMINISTIC_SCRIPT, tmp_path / name, mnist_dir) for name in ("a", "b")]
    first, second = (json.loads(_finish(p).strip().splitlines()[-1]) for p in processes)
    assert first == second
