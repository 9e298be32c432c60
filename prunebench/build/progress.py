"""Progress of the suite's build phase (train, prune and retrain, sparsify, measure per model).

:class:`BuildProgress` holds the state and makes the text: model k of n, ratio and seed, phase,
training step, elapsed time and an estimate of the time left. It does no I/O and reads time from an
injected clock, so it is tested on its own. Output goes through an ``emit(text, kind)`` callback:

* ``kind == "live"``: the new content of a status line that is rewritten in place (terminals);
* ``kind == "end"``: the status line's last content, after which it is left on screen;
* ``kind == "line"``: a line of its own (when output is not a terminal: one per phase).

:class:`TerminalSink` is such a callback on pytest's terminal reporter (wired up in conftest.py).

The estimate: seconds per training step observed so far times the training steps still to run
(``max_steps`` per baseline, ``retrain_steps`` per pruned model), plus, per model still to finish, the
average time built models spent outside training (sparsifying, measuring). Models later found in the
cache take no time, so the estimate errs long; it shows ``?`` until a training step has been timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from prunebench.prune.methods import DEFAULT_METHOD

TRAINING_PHASES = ("training", "retraining")


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
    """The build phase's progress; call :meth:`model_started`, :meth:`phase`, :meth:`step`, :meth:`model_finished`."""

    def __init__(self, plan: Sequence[Spec], max_steps: int, retrain_steps: int,
                 emit: Callable[[str, str], None], live: bool, clock: Callable[[], float] = time.monotonic,
                 min_interval: float = 0.5):
        self.plan = list(plan)
        self.max_steps, self.retrain_steps = max_steps, retrain_steps
        self.emit, self.live, self.clock, self.min_interval = emit, live, clock, min_interval
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
            self.emit(self.line(now), "line")

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
        self.emit(self.finish_line(current, now), "end" if self.live else "line")

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
        rate = self.seconds_per_step(now)
        if rate is None:
            return None
        started = self._started()
        waiting = [spec for spec in self.plan if spec not in started]
        steps = sum(self.steps_of(spec) for spec in waiting)
        overhead = sum(self.overheads) / len(self.overheads) if self.overheads else 0.0
        seconds = steps * rate + overhead * len(waiting)
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

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        current = self._require_current()
        parts = [f"model {current.index}/{self.total_models()} {spec_label(current.spec)}"]
        if current.phase is None:
            parts.append("starting")
        elif current.phase in TRAINING_PHASES and current.steps:
            parts.append(f"{current.phase} step {current.step}/{current.steps}")
        else:
            parts.append(current.phase)
        parts.append(f"elapsed {format_duration(now - self.started_at)}")
        parts.append(f"left ~{format_duration(self.remaining_seconds(now))}")
        return "prunebench build: " + " | ".join(parts)

    def finish_line(self, current: _Current, now: float) -> str:
        what = f"built in {format_duration(now - current.started)}" if current.built else "reused from the cache"
        return (f"prunebench build: model {current.index}/{self.total_models()} {spec_label(current.spec)} {what}"
                f" | elapsed {format_duration(now - self.started_at)}"
                f" | left ~{format_duration(self.remaining_seconds(now))}")

    # internals --------------------------------------------------------------------------------------

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
            self.emit(self.line(now), "live")


class NoProgress:
    """What the builder calls when nothing listens."""

    def model_started(self, spec) -> None: ...

    def phase(self, name: str) -> None: ...

    def step(self, done: int, total: int) -> None: ...

    def model_finished(self) -> None: ...


class TerminalSink:
    """``emit`` on pytest's terminal reporter, past output capturing (the build runs inside fixtures)."""

    def __init__(self, reporter, capture_manager=None):
        self.reporter, self.capture_manager = reporter, capture_manager
        self._live = False

    def __call__(self, text: str, kind: str) -> None:
        with self._uncaptured():
            if kind == "line":
                self.reporter.write_line(text)
                return
            if not self._live:
                self.reporter.ensure_newline()  # pytest re-prints the file name on its next result
                self._live = True
            width = max(20, getattr(getattr(self.reporter, "_tw", None), "fullwidth", 80) - 1)
            self.reporter.rewrite(text[:width], erase=True)
            if kind == "end":
                self.reporter.write("\n", flush=True)
                self._live = False
            else:
                self.reporter.write("", flush=True)

    def _uncaptured(self):
        if self.capture_manager is None:
            from contextlib import nullcontext

            return nullcontext()
        return self.capture_manager.global_and_fixture_disabled()


def attach_to_pytest(builder, plan: Sequence[Spec], config) -> None:
    """Give ``builder`` a progress display on pytest's terminal reporter: a live line when the reporter
    writes to a terminal, one line per phase otherwise. Nothing without a terminal reporter."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    sink = TerminalSink(reporter, config.pluginmanager.get_plugin("capturemanager"))
    settings = builder.settings
    builder.progress = BuildProgress(plan, settings.max_steps, settings.retrain_steps, sink,
                                     live=bool(getattr(reporter, "isatty", False)))


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
