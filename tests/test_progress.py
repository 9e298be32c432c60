"""The build progress display: text, time estimate, when it writes, and how it reaches pytest's terminal."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from prunebench.build.progress import BuildProgress, TerminalSink, attach_to_pytest, format_duration
from prunebench.results.spec import ModelSpec, Settings

PLAN = [ModelSpec(0.0, 0), ModelSpec(0.5, 0), ModelSpec(0.9, 0)]
MAX_STEPS, RETRAIN = 100, 20


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def progress(live: bool) -> tuple[BuildProgress, Clock, list]:
    clock, emitted = Clock(), []
    return BuildProgress(PLAN, MAX_STEPS, RETRAIN, lambda text, kind: emitted.append((kind, text)), live=live,
                         clock=clock), clock, emitted


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00"), (0.4, "0:00"), (59.6, "1:00"), (61, "1:01"), (3599, "59:59"), (3600, "1:00:00"),
    (3725, "1:02:05"), (45 * 60 + 7, "45:07"), (None, "?"), (-1, "?"), (float("nan"), "?"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_live_line_shows_model_phase_step_elapsed_and_time_left():
    bar, clock, emitted = progress(live=True)
    bar.model_started(PLAN[0])
    assert emitted[-1] == ("live", "prunebench build: model 1/3 ratio=0 seed=0 | starting | elapsed 0:00 | left ~?")
    bar.phase("training")
    clock.now = 10.0
    bar.step(50, 100)  # 0.2 s per step: 50 steps left here, 2 x 20 retraining steps to come, no overhead known
    assert emitted[-1] == ("live", "prunebench build: model 1/3 ratio=0 seed=0 | training step 50/100 | "
                                   "elapsed 0:10 | left ~0:18")
    count = len(emitted)
    clock.now = 10.1
    bar.step(51, 100)
    assert len(emitted) == count, "redrawn at most every min_interval seconds"
    clock.now = 20.0
    bar.step(100, 100)
    assert emitted[-1][1].endswith("training step 100/100 | elapsed 0:20 | left ~0:08")
    bar.phase("measuring")
    clock.now = 25.0  # 5 s outside training: the overhead expected of each model still to come
    bar.model_finished()
    assert emitted[-1] == ("end",
                           "prunebench build: model 1/3 ratio=0 seed=0 built in 0:25 | elapsed 0:25 | left ~0:18")

    bar.model_started(PLAN[1])
    bar.phase("retraining")
    clock.now = 27.0
    bar.step(10, 20)  # now 0.2 s per step overall (22 s over 110 steps)
    assert emitted[-1] == ("live", "prunebench build: model 2/3 ratio=0.5 seed=0 | retraining step 10/20 | "
                                   "elapsed 0:27 | left ~0:16")  # 10*0.2 + 5, then 20*0.2 + 5 for the last
    clock.now = 29.0
    bar.phase("sparsifying")
    clock.now = 31.0
    bar.phase("measuring")
    assert emitted[-1][1] == "prunebench build: model 2/3 ratio=0.5 seed=0 | measuring | elapsed 0:31 | left ~0:12"


def test_a_model_from_the_cache_and_an_unplanned_one():
    bar, clock, emitted = progress(live=True)
    bar.model_started(PLAN[0])
    bar.model_finished()
    assert emitted[-1] == ("end",
                           "prunebench build: model 1/3 ratio=0 seed=0 reused from the cache | elapsed 0:00 | left ~?")
    bar.model_started(ModelSpec(0.3, 7))
    assert emitted[-1][1].startswith("prunebench build: model 2/4 ratio=0.3 seed=7 | starting")


def test_without_a_terminal_one_line_per_phase_and_per_model():
    bar, clock, emitted = progress(live=False)
    bar.model_started(PLAN[0])
    bar.phase("training")
    for step in range(1, 101):
        clock.now = step * 0.1
        bar.step(step, 100)
    bar.phase("measuring")
    clock.now = 12.0
    bar.model_finished()
    assert [kind for kind, _ in emitted] == ["line"] * 3
    assert emitted[0][1] == "prunebench build: model 1/3 ratio=0 seed=0 | training | elapsed 0:00 | left ~?"
    assert emitted[1][1] == "prunebench build: model 1/3 ratio=0 seed=0 | measuring | elapsed 0:10 | left ~0:04"
    assert emitted[2][1] == "prunebench build: model 1/3 ratio=0 seed=0 built in 0:12 | elapsed 0:12 | left ~0:08"


def test_events_without_a_started_model_are_a_bug():
    bar, _, _ = progress(live=True)
    with pytest.raises(RuntimeError, match="no model started"):
        bar.phase("training")


class FakeReporter:
    isatty = True

    def __init__(self):
        self.calls = []

        class Writer:
            fullwidth = 40

        self._tw = Writer()

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


class FakeCapture:
    def __init__(self):
        self.disabled = 0

    @contextmanager
    def global_and_fixture_disabled(self):
        self.disabled += 1
        yield


def test_terminal_sink_rewrites_one_line_past_capturing():
    reporter, capture = FakeReporter(), FakeCapture()
    sink = TerminalSink(reporter, capture)
    sink("x" * 100, "live")
    sink("second", "live")
    sink("done", "end")
    sink("a line", "line")
    names = [name for name, _, _ in reporter.calls]
    assert names == ["ensure_newline", "rewrite", "write", "rewrite", "write", "rewrite", "write", "write_line"]
    assert reporter.calls[1][1] == ("x" * 39,) and reporter.calls[1][2] == {"erase": True}, "cut to the width"
    assert reporter.calls[6][1] == ("\n",)
    assert capture.disabled == 4


def test_attach_to_pytest_picks_live_or_lines():
    class Builder:
        settings = Settings(max_steps=MAX_STEPS, batch_size=50, retrain_steps=RETRAIN, seed=0, variables=("w_fc1",))
        progress = None

    class Plugins:
        def __init__(self, reporter):
            self.plugins = {"terminalreporter": reporter, "capturemanager": None}

        def get_plugin(self, name):
            return self.plugins[name]

    class Config:
        def __init__(self, reporter):
            self.pluginmanager = Plugins(reporter)

    builder = Builder()
    attach_to_pytest(builder, PLAN, Config(None))
    assert builder.progress is None
    reporter = FakeReporter()
    attach_to_pytest(builder, PLAN, Config(reporter))
    assert builder.progress.live and builder.progress.plan == PLAN and builder.progress.retrain_steps == RETRAIN
    reporter.isatty = False
    attach_to_pytest(builder, PLAN, Config(reporter))
    assert not builder.progress.live


def test_training_reports_every_step(mnist):
    from prunebench.model.cnn import build_cnn
    from prunebench.model.train import compile_for_training, train

    model = build_cnn()
    compile_for_training(model)
    steps = []
    train(model, mnist, 3, 8, seed=0, on_step=lambda done, total: steps.append((done, total)))
    assert steps == [(1, 3), (2, 3), (3, 3)]
