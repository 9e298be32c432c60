"""The suite's build phase on a Ray cluster (issue 12): one Ray task per model over a shared cache.

Every model of the sweep (a baseline per seed, then each method x ratio x seed) is one task that runs the
project's own ``ModelBuilder`` (``make_builder``) against the shared cache root (a ``SharedCache``: a directory
every node mounts, or an fsspec URL). Pruned models take their seed's baseline task as an argument, so Ray
starts them only once the baseline is in the cache. Each task asks for ``num_cpus`` CPUs and TensorFlow
gets as many threads. A task whose worker dies (SIGKILL, a lost node) is retried up to ``max_retries``
times; the retry takes over the dead builder's claim, so the entry is still built and published once.

Timing stays on the driver: after this phase the suite runs serially from the warm cache, as the two-phase
recipe of docs/cluster.md does for xdist.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prunebench.errors import DataError, UsageError
from prunebench.results.spec import ModelSpec, Settings


@dataclass(frozen=True)
class BuildJob:
    """What every task needs, as plain data: it is pickled to the workers."""

    settings: Settings
    data_dir: str | None
    eval_images: int
    formats: tuple[str, ...]  # the size table's storage formats
    cache_root: str
    cache_mode: str = "readwrite"
    threads: int = 1
    claim_ttl: float | None = None


def resolve_address(address: str | None) -> str | None:
    """``--ray ADDRESS``; ``auto`` (or none given) follows ``RAY_ADDRESS``, as Ray does."""
    if address in (None, "", "auto"):
        return os.environ.get("RAY_ADDRESS") or address or None
    return address


@functools.lru_cache(maxsize=2)
def _mnist(data_dir: str | None):
    from prunebench.model.data import load_mnist, resolve_data_dir

    return load_mnist(resolve_data_dir(data_dir))


def _limit_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    except RuntimeError:
        pass  # a reused worker: TensorFlow is initialised already, with the same request


def build_model(job: BuildJob, spec: ModelSpec, *dependencies, tracker=None) -> dict:
    """Build (or reuse) one model in the shared cache; what a Ray task runs (also callable locally)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if job.claim_ttl is not None:
        os.environ["PRUNEBENCH_CLAIM_TTL"] = str(job.claim_ttl)
    from prunebench.model.engines.hygiene import bound_spinning

    bound_spinning()
    where = f"{socket.gethostname()}:{os.getpid()}"
    if tracker is not None:
        tracker.started.remote(spec.id, where)
    _limit_threads(job.threads)
    from prunebench.build.builder import make_builder
    from prunebench.build.cache import code_version

    started = time.perf_counter()
    builder = make_builder(_mnist(job.data_dir), job.settings, job.eval_images, job.cache_root, shared=True,
                           mode=job.cache_mode, formats=job.formats)
    model = builder.get(spec)
    result = {"id": spec.id, "entry": model.directory.name, "where": where, "code": code_version(),
              "built": list(builder.cache.built), "downloaded": list(builder.cache.downloaded),
              "seconds": time.perf_counter() - started, "phases": dict(builder.clock.seconds)}
    if tracker is not None:
        tracker.finished.remote(spec.id)
    return result


class _Tracker:
    """Which tasks run where right now (tasks report start and end; a killed task's retry re-reports)."""

    def __init__(self):
        self.running: dict[str, str] = {}

    def started(self, key: str, where: str) -> None:
        self.running[key] = where

    def finished(self, key: str) -> None:
        self.running.pop(key, None)

    def snapshot(self) -> dict[str, str]:
        return dict(self.running)


def build_on_ray(specs: Sequence[ModelSpec], job: BuildJob, address: str | None, num_cpus: float = 1,
                 max_retries: int = 3, emit: Callable[[str], None] = print) -> list[dict]:
    """Submit one task per model (baselines first, pruned models after their baseline), wait for all, and
    report each completion through ``emit``; raises DataError naming the failed models, if any."""
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install -e '.[cpu,ray]'") from None
    from prunebench.build.cache import code_version
    from prunebench.build.progress import TaskProgress

    address = resolve_address(address)
    if not address:
        raise UsageError("--ray: give the cluster's address (host:port, ray://..., or auto with RAY_ADDRESS set)")
    own_session = not ray.is_initialized()
    if own_session:
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
    try:
        tracker = ray.remote(num_cpus=0)(_Tracker).remote()
        remote = ray.remote(build_model)

        class task:  # noqa: N801  (one task's options: its CPUs, retries on a dead worker, a name for `ray list`)
            @staticmethod
            def options(name: str):
                return remote.options(num_cpus=num_cpus, max_retries=max_retries, retry_exceptions=False, name=name)

        baselines: dict = {}
        refs: dict = {}
        # baselines (ratio 0) first; every pruned model of a seed takes its baseline's ref as an argument
        for spec in sorted(specs, key=lambda s: s.ratio != 0):
            if spec.ratio == 0:
                ref = task.options(name=spec.id).remote(job, spec, tracker=tracker)
                baselines[spec.seed] = ref
            else:
                base = baselines.get(spec.seed)
                if base is None:  # a sweep without its baseline in the list: build that first
                    base = baselines[spec.seed] = task.options(name=f"baseline-seed{spec.seed}").remote(
                        job, ModelSpec(0.0, spec.seed), tracker=tracker)
                    refs[base] = ModelSpec(0.0, spec.seed)
                ref = task.options(name=spec.id).remote(job, spec, base, tracker=tracker)
            refs[ref] = spec
        progress = TaskProgress(len(refs), emit)
        pending, results, failures = list(refs), [], []
        driver_code = code_version()
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            spec = refs[done[0]]
            running = len(ray.get(tracker.snapshot.remote()))
            try:
                result = ray.get(done[0])
            except Exception as error:  # a task that failed after its retries, or whose baseline failed
                failures.append((spec, error))
                progress.failed(spec, _short(error), running)
                continue
            if result["code"] != driver_code:
                raise DataError(f"node {result['where']} runs other prunebench code ({result['code']}, here "
                                f"{driver_code}): its cache keys differ; install the same checkout on every node")
            results.append(result)
            progress.finished(spec, "built" if result["built"] else "reused", result["where"], result["seconds"],
                              running)
        if failures:
            raise DataError(f"{len(failures)} of {len(refs)} models failed on the cluster: "
                            + "; ".join(f"{spec.id}: {_short(error)}" for spec, error in failures))
        return results
    finally:
        if own_session:
            ray.shutdown()


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1][:300] if text else type(error).__name__


def job_for(suite, cache_root: str | None = None, threads: int = 1, cache_mode: str | None = None) -> BuildJob:
    """The job of a ``SuiteConfig``: its settings, the data directory made absolute (every node must see
    it at the same path, or leave it unset for Keras' download), the shared cache root."""
    from prunebench.build.ownership import is_url
    from prunebench.build.shared_cache import cache_root as default_root
    from prunebench.model.data import resolve_data_dir

    data_dir = resolve_data_dir(suite.data_dir)
    root = cache_root or default_root()
    if not is_url(root):
        root = str(os.path.abspath(root))
    return BuildJob(settings=suite.settings, data_dir=None if data_dir is None else str(data_dir.resolve()),
                    eval_images=suite.eval_images, formats=suite.formats, cache_root=root, threads=max(1, int(threads)),
                    cache_mode=cache_mode or os.environ.get("PRUNEBENCH_CACHE_MODE", "readwrite"),
                    claim_ttl=float(os.environ["PRUNEBENCH_CLAIM_TTL"]) if os.environ.get("PRUNEBENCH_CLAIM_TTL")
                    else None)


def build_suite(suite, address: str, config) -> list[dict]:
    """pytest's ``--ray``: build every model of the session on the cluster, progress on the terminal."""
    from prunebench.build.progress import TerminalSink

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        sink = TerminalSink(reporter, config.pluginmanager.get_plugin("capturemanager"))

        def emit(text: str) -> None:
            sink(text, "line")
    else:
        emit = print
    cpus = float(os.environ.get("PRUNEBENCH_RAY_CPUS", "1"))
    return build_on_ray(suite.model_specs(), job_for(suite, threads=int(cpus)), address, num_cpus=cpus, emit=emit)
