"""Progress of the suite's build phase (train, prune and retrain, sparsify, measure per model).

:class:`BuildProgress` holds the state and makes the line's facts (:class:`Status`): model k of n, ratio and
seed, phase, training step, elapsed time and an estimate of the time left. It does no I/O and reads time from
an injected clock, so it is tested on its own. Output goes through an ``emit(status, kind)`` callback
(``str(status)`` is the whole line):

* ``kind == "live"``: the new content of a status line that is rewritten in place (terminals);
* ``kind == "end"``: the status line's last content, after which it is left on screen;
* ``kind == "line"``: a line of its own (when output is not a terminal: one per phase).

:func:`status_line` fits the line to a terminal's width, dropping the least useful parts first.
:class:`TerminalSink` is such a callback on pytest's terminal reporter (wired up in conftest.py). Under
pytest-xdist the workers have no terminal: :class:`WorkerFileSink` keeps each worker's line in a file of a
session folder, and :class:`ControllerDisplay` shows them all on the controller's terminal.

The estimate: seconds per training step observed so far times the training steps still to run
(``max_steps`` per baseline, ``retrain_steps`` per pruned model), plus, per model still to finish, the
average time built models spent outside training (sparsifying, measuring), plus the benchmarking that
follows the build, as estimated by the caller (``benchmarking_seconds``: conftest.py's, from the time budgets
the timing code declares). Models later found in the cache take no time, so the estimate errs long; it shows
``?`` until a training step has been timed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

import pytest

from prunebench.prune.methods import DEFAULT_METHOD
from prunebench.results import atomic

TRAINING_PHASES = ("training", "retraining")
# What the xdist controller hands each worker (``workerinput``): the session folder and whether to draw live.
RELAY_KEY = "prunebench_progress"


class Spec(Protocol):
    ratio: float
    seed: int


def format_duration(seconds: float | None) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` from one; ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def spec_label(spec: Spec) -> str:
    method = getattr(spec, "method", DEFAULT_METHOD)
    return f"ratio={spec.ratio:g} seed={spec.seed}" + ("" if method == DEFAULT_METHOD else f" method={method}")


@dataclass(frozen=True)
class Status:
    """The facts of one status line, as text: ``count`` (``k/n``), ``phase`` (``training``, ``built in 0:25``),
    ``step`` (``50/100`` or empty), ``left`` and ``elapsed`` (durations), ``model`` (ratio and seed) and
    ``worker`` (an xdist worker's id, empty in a single process). Plain strings, so it travels as JSON."""

    count: str
    phase: str
    left: str
    elapsed: str
    model: str
    step: str = ""
    worker: str = ""

    def __str__(self) -> str:
        return status_line([self])


PREFIX, SHORT_PREFIX = "prunebench build: ", "build: "
COMPACT, LEVELS = 3, 5  # _status_text's first compact level, and how many levels there are
WORKER_SEPARATOR = " ; "


def _status_text(status: Status, level: int, phase_width: int | None = None) -> str:
    """One status at a level of detail: 0 is everything; 1 drops the model's description, 2 the elapsed time,
    3 is the compact form, 4 drops the training step. ``phase_width`` cuts the phase's name, the last resort."""
    who = f"{status.worker} " if status.worker else ""
    if level < COMPACT:
        phase = f"{status.phase} step {status.step}" if status.step else status.phase
        count = f"model {status.count}" + (f" {status.model}" if level == 0 else "")
        elapsed = f" | elapsed {status.elapsed}" if level < 2 else ""
        return f"{who}{count} | {phase}{elapsed} | left ~{status.left}"
    phase = status.phase if phase_width is None else status.phase[:phase_width].rstrip()
    step = f" {status.step}" if status.step and level == COMPACT else ""
    return f"{who}{status.count} {phase}{step} left ~{status.left}".replace("  ", " ")


def _joined(statuses: Sequence[Status], level: int, phase_width: int | None = None) -> str:
    prefix = PREFIX if level < COMPACT else SHORT_PREFIX
    return prefix + WORKER_SEPARATOR.join(_status_text(status, level, phase_width) for status in statuses)


def status_line(statuses: Sequence[Status], width: int | None = None) -> str:
    """The status line of one process (or of several xdist workers, side by side) in at most ``width``
    characters (None: no limit). The parts go in order of use: the model's description first, then the
    elapsed time, the words around the numbers, the training step, last the phase's name is cut; ``k/n`` and
    the time left stay while they fit at all, and the time left longest."""
    for level in range(LEVELS):
        text = _joined(statuses, level)
        if width is None or len(text) <= width:
            return text
    for phase_width in range(max(len(status.phase) for status in statuses), -1, -1):
        text = _joined(statuses, LEVELS - 1, phase_width)
        if len(text) <= width:
            return text
    return text[-width:]  # narrower than every count and time left: the time left, at least, stays


@dataclass
class _Current:
    spec: Spec
    index: int  # 1-based
    started: float
    phase: str | None = None
    phase_started: float = 0.0
    step: int = 0
    steps: int = 0
    training_seconds: float = 0.0  # in finished training phases of this model
    built: bool = False  # False: no phase ran, the cache had it


class BuildProgress:
    """The build phase's progress; call :meth:`model_started`, :meth:`phase`, :meth:`step`, :meth:`model_finished`.

    ``benchmarking_seconds``: the caller's estimate of the benchmarking that follows the build, part of the
    time left (0: none)."""

    def __init__(self, plan: Sequence[Spec], max_steps: int, retrain_steps: int,
                 emit: Callable[[Status, str], None], live: bool, clock: Callable[[], float] = time.monotonic,
                 min_interval: float = 0.5, benchmarking_seconds: float = 0.0):
        self.plan = list(plan)
        self.max_steps, self.retrain_steps = max_steps, retrain_steps
        self.emit, self.live, self.clock, self.min_interval = emit, live, clock, min_interval
        self.benchmarking_seconds = benchmarking_seconds
        self.started_at: float | None = None
        self.current: _Current | None = None
        self.done: list = []  # specs finished, in order
        self.steps_timed = 0
        self.training_seconds = 0.0  # over every finished training phase
        self.overheads: list[float] = []  # seconds outside training, per built model
        self._last_live = float("-inf")

    # events -----------------------------------------------------------------------------------------

    def model_started(self, spec: Spec) -> None:
        now = self.clock()
        if self.started_at is None:
            self.started_at = now
        index = len(self.done) + 1
        self.current = _Current(spec, index, now)
        if self.live:
            self._live(now, force=True)

    def phase(self, name: str) -> None:
        now = self.clock()
        current = self._require_current()
        self._close_phase(now)
        current.built = True
        current.phase, current.phase_started, current.step, current.steps = name, now, 0, 0
        if self.live:
            self._live(now, force=True)
        else:
            self.emit(self.status(now), "line")

    def step(self, done: int, total: int) -> None:
        """``done`` of ``total`` optimizer steps of the current training phase have run."""
        current = self._require_current()
        current.step, current.steps = done, total
        if self.live:
            self._live(self.clock(), force=done >= total)

    def model_finished(self) -> None:
        now = self.clock()
        current = self._require_current()
        self._close_phase(now)
        if current.built:
            self.overheads.append(max(0.0, now - current.started - current.training_seconds))
        self.done.append(current.spec)
        self.current = None
        self.emit(self.finish_status(current, now), "end" if self.live else "line")

    # arithmetic -------------------------------------------------------------------------------------

    def total_models(self) -> int:
        unplanned = sum(1 for spec in self._started() if spec not in self.plan)
        return len(self.plan) + unplanned

    def steps_of(self, spec: Spec) -> int:
        return self.max_steps if spec.ratio == 0 else self.retrain_steps

    def seconds_per_step(self, now: float) -> float | None:
        seconds, steps = self.training_seconds, self.steps_timed
        current = self.current
        if current is not None and current.phase in TRAINING_PHASES and current.step:
            seconds += now - current.phase_started
            steps += current.step
        return seconds / steps if steps else None

    def remaining_seconds(self, now: float) -> float | None:
        """Of the build and the benchmarking after it; None until a training step has been timed."""
        rate = self.seconds_per_step(now)
        if rate is None:
            return None
        started = self._started()
        waiting = [spec for spec in self.plan if spec not in started]
        steps = sum(self.steps_of(spec) for spec in waiting)
        overhead = sum(self.overheads) / len(self.overheads) if self.overheads else 0.0
        seconds = steps * rate + overhead * len(waiting) + self.benchmarking_seconds
        current = self.current
        if current is not None:
            if current.phase is None or current.phase in TRAINING_PHASES:
                steps_left = (current.steps - current.step) if current.phase is not None and current.steps \
                    else self.steps_of(current.spec)
                seconds += max(0, steps_left) * rate + overhead
            else:  # past training: what is left of its share of the average overhead
                spent = now - current.started - current.training_seconds
                seconds += max(0.0, overhead - spent)
        return seconds

    # text -------------------------------------------------------------------------------------------

    def status(self, now: float | None = None) -> Status:
        now = self.clock() if now is None else now
        current = self._require_current()
        phase, step = current.phase or "starting", ""
        if current.phase in TRAINING_PHASES and current.steps:
            step = f"{current.step}/{current.steps}"
        return self._status(current, now, phase, step)

    def finish_status(self, current: _Current, now: float) -> Status:
        what = f"built in {format_duration(now - current.started)}" if current.built else "reused from the cache"
        return self._status(current, now, what, "")

    # internals --------------------------------------------------------------------------------------

    def _status(self, current: _Current, now: float, phase: str, step: str) -> Status:
        return Status(count=f"{current.index}/{self.total_models()}", phase=phase, step=step,
                      left=format_duration(self.remaining_seconds(now)),
                      elapsed=format_duration(now - self.started_at), model=spec_label(current.spec))

    def _started(self) -> list:
        return self.done + ([self.current.spec] if self.current is not None else [])

    def _require_current(self) -> _Current:
        if self.current is None:
            raise RuntimeError("progress: no model started")
        return self.current

    def _close_phase(self, now: float) -> None:
        current = self.current
        if current is not None and current.phase in TRAINING_PHASES and current.step:
            seconds = now - current.phase_started
            current.training_seconds += seconds
            self.training_seconds += seconds
            self.steps_timed += current.step
        if current is not None:
            current.phase = None

    def _live(self, now: float, force: bool) -> None:
        if force or now - self._last_live >= self.min_interval:
            self._last_live = now
            self.emit(self.status(now), "live")


class NoProgress:
    """What the builder calls when nothing listens."""

    def model_started(self, spec) -> None: ...

    def phase(self, name: str) -> None: ...

    def step(self, done: int, total: int) -> None: ...

    def model_finished(self) -> None: ...


class TerminalSink:
    """``emit`` on pytest's terminal reporter, past output capturing (the build runs inside fixtures): the live
    line fitted to the terminal's width (:func:`status_line`), other lines whole."""

    def __init__(self, reporter, capture_manager=None):
        self.reporter, self.capture_manager = reporter, capture_manager
        self.live_on_screen = False

    def __call__(self, status, kind: str) -> None:
        """``status``: a :class:`Status`, or any text for ``kind == "line"``."""
        if kind == "line":
            with self._uncaptured():
                self._fresh_line()
                self.reporter.write_line(str(status))
        else:
            self.show([status], kind)

    def show(self, statuses: Sequence[Status], kind: str) -> None:
        """The live line (``kind`` ``live`` or ``end``) of several statuses: xdist workers' side by side."""
        with self._uncaptured():
            if not self.live_on_screen:
                self._fresh_line()
                self.live_on_screen = True
            self.reporter.rewrite(status_line(statuses, self.width()), erase=True)
            if kind == "end":
                self.end_live()
            else:
                self.reporter.write("", flush=True)

    def end_live(self) -> None:
        """Leave the live line on screen, the cursor on the next line."""
        if self.live_on_screen:
            self.reporter.write("\n", flush=True)
            self.live_on_screen = False

    def width(self) -> int:
        """Characters a line may take: the terminal's width less one (a full line would wrap on some)."""
        return max(20, self.reporter._tw.fullwidth - 1)

    def _fresh_line(self) -> None:
        """Start on a line of its own: after a test's name, or after xdist workers' results (letters written
        without a file name, so ``ensure_newline`` does not see them)."""
        self.reporter.ensure_newline()  # pytest re-prints the file name on its next result
        if self.reporter._tw.width_of_current_line:
            self.reporter.write("\n")

    def _uncaptured(self):
        if self.capture_manager is None:
            return nullcontext()
        return self.capture_manager.global_and_fixture_disabled()


class WorkerFileSink:
    """``emit`` of an xdist worker: its progress as a JSON file, ``{"live": status or null, "lines": [status,
    ...]}``, rewritten whole (atomically) on each call, for :class:`ControllerDisplay` to show. ``lines``
    keeps every finished or per-phase line, so the controller misses none between two polls."""

    def __init__(self, path: Path, worker: str):
        self.path, self.worker = Path(path), worker
        self.record: dict = {"live": None, "lines": []}

    def __call__(self, status: Status, kind: str) -> None:
        entry = asdict(replace(status, worker=self.worker))
        if kind == "live":
            self.record["live"] = entry
        else:
            self.record["live"] = None
            self.record["lines"].append(entry)
        atomic.write_text(self.path, json.dumps(self.record))


def read_worker_records(folder: Path) -> dict[str, dict]:
    """Each worker's record in ``folder`` by worker id (sorted); a file that does not parse is skipped."""
    records = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            records[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return records


class ControllerDisplay:
    """The xdist controller's view of its workers' build progress: it reads their files (:class:`WorkerFileSink`)
    and shows, through a :class:`TerminalSink`, each worker's new lines and one live line of every worker
    building now. Registered as a pytest plugin: it ends the live line before each test result is written
    (the results' letters would share its line), and polls from a thread of its own, as the controller's hooks
    run only when a worker reports and a build runs for minutes without a report."""

    PLUGIN_NAME = "prunebench-progress-display"

    def __init__(self, folder: Path, sink: TerminalSink, live: bool, interval: float = 0.5):
        self.folder, self.sink, self.live, self.interval = Path(folder), sink, live, interval
        self.lock = threading.Lock()
        self._shown_lines: dict[str, int] = {}
        self._shown_live: list[dict] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def of_controller(cls, config) -> ControllerDisplay | None:
        """The controller's display, made (with a fresh session folder), registered and started on first use;
        None without a terminal reporter."""
        display = config.pluginmanager.get_plugin(cls.PLUGIN_NAME)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if display is None and reporter is not None:
            folder = Path(tempfile.mkdtemp(prefix="prunebench-progress-"))
            display = cls(folder, TerminalSink(reporter), live=bool(getattr(reporter, "isatty", False)))
            config.pluginmanager.register(display, cls.PLUGIN_NAME)
            display.start()
        return display

    def worker_input(self) -> dict:
        return {RELAY_KEY: {"folder": str(self.folder), "live": self.live}}

    def poll(self) -> None:
        """Show what the workers wrote since the last poll."""
        records = read_worker_records(self.folder)
        kept = self._keep_new_lines(records)
        live = [record["live"] for record in records.values() if record.get("live")]
        if self.live and live and (kept or live != self._shown_live):
            self.sink.show([Status(**entry) for entry in live], "live")
        self._shown_live = live

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="prunebench-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, show what is left and end the live line; the folder goes."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            self.poll()
            self.sink.end_live()
        shutil.rmtree(self.folder, ignore_errors=True)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report):
        """Before a test result: the workers' new lines (a worker reports its first result as soon as its
        models are built, often before the next poll), and the live line ended."""
        with self.lock:
            self._keep_new_lines(read_worker_records(self.folder))
            self.sink.end_live()
            self._shown_live = None  # drawn again on the next poll
            return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        self.stop()

    def _keep_new_lines(self, records: dict[str, dict]) -> int:
        """Show the lines the workers kept since the last call, each over the live line if one is on screen,
        else on a line of its own; how many."""
        kept = 0
        for worker, record in records.items():
            lines = record.get("lines", [])
            for entry in lines[self._shown_lines.get(worker, 0):]:
                self.sink(Status(**entry), "end" if self.sink.live_on_screen else "line")
                kept += 1
            self._shown_lines[worker] = len(lines)
        return kept

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self.lock:
                self.poll()


def attach_to_pytest(builder, plan: Sequence[Spec], config, benchmarking_seconds: float = 0.0) -> None:
    """Give ``builder`` a progress display: on pytest's terminal reporter, a live line when the reporter writes
    to a terminal, one line per phase otherwise; on an xdist worker, its file for the controller to show
    (:class:`ControllerDisplay`), which then counts a share of the benchmarking (``benchmarking_seconds`` /
    workers: they share the benchmarks). Nothing without a terminal reporter or a controller's folder."""
    settings = builder.settings
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        relay = worker_input.get(RELAY_KEY)
        if relay is None:
            return
        worker = worker_input["workerid"]
        sink, live = WorkerFileSink(Path(relay["folder"]) / f"{worker}.json", worker), relay["live"]
        benchmarking_seconds /= max(1, worker_input.get("workercount", 1))
    else:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        sink = TerminalSink(reporter, config.pluginmanager.get_plugin("capturemanager"))
        live = bool(getattr(reporter, "isatty", False))
    builder.progress = BuildProgress(plan, settings.max_steps, settings.retrain_steps, sink, live=live,
                                     benchmarking_seconds=benchmarking_seconds)


class TaskProgress:
    """Progress of a build spread over a cluster (``prunebench.build.ray_cluster``): one line per finished task with
    how many are done, running and failed, through ``emit(text)``; the clock is injected, as above."""

    def __init__(self, total: int, emit: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.total, self.emit, self.clock = total, emit, clock
        self.started_at = clock()
        self.done = 0
        self.failures = 0

    def finished(self, spec: Spec, outcome: str, where: str, seconds: float, running: int) -> None:
        """``outcome``: ``built`` or ``reused`` (the shared cache had it)."""
        self.done += 1
        self.emit(self._line(running, f"{spec_label(spec)} {outcome} on {where} in {format_duration(seconds)}"))

    def failed(self, spec: Spec, reason: str, running: int) -> None:
        self.failures += 1
        self.emit(self._line(running, f"{spec_label(spec)} FAILED: {reason}"))

    def _line(self, running: int, what: str) -> str:
        counts = (f"{self.done}/{self.total} done, {running} running, {self.failures} failed, "
                  f"{max(0, self.total - self.done - self.failures - running)} waiting")
        return (f"prunebench ray build: {counts} | {what} | elapsed "
                f"{format_duration(self.clock() - self.started_at)}")
