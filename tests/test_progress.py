"""The build progress display: text, time estimate, when it writes, and how it reaches pytest's terminal."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from prunebench.build.progress import (
    RELAY_KEY,
    BuildProgress,
    ControllerDisplay,
    Status,
    TerminalSink,
    WorkerFileSink,
    attach_to_pytest,
    format_duration,
    read_worker_records,
    status_line,
)
from prunebench.results.spec import ModelSpec, Settings

PLAN = [ModelSpec(0.0, 0), ModelSpec(0.5, 0), ModelSpec(0.9, 0)]
MAX_STEPS, RETRAIN = 100, 20


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def progress(live: bool, benchmarking_seconds: float = 0.0) -> tuple[BuildProgress, Clock, list]:
    clock, emitted = Clock(), []
    return BuildProgress(PLAN, MAX_STEPS, RETRAIN, lambda status, kind: emitted.append((kind, str(status))),
                         live=live, clock=clock, benchmarking_seconds=benchmarking_seconds), clock, emitted


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
                           "prunebench build: model 1/3 ratio=0 seed=0 | built in 0:25 | elapsed 0:25 | left ~0:18")

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
    assert emitted[-1] == ("end", "prunebench build: model 1/3 ratio=0 seed=0 | reused from the cache | "
                                  "elapsed 0:00 | left ~?")
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
    assert emitted[2][1] == "prunebench build: model 1/3 ratio=0 seed=0 | built in 0:12 | elapsed 0:12 | left ~0:08"


def test_benchmarking_counts_to_the_time_left():
    bar, clock, emitted = progress(live=True, benchmarking_seconds=60.0)
    bar.model_started(PLAN[0])
    assert emitted[-1][1].endswith("left ~?"), "still unknown before a training step is timed"
    bar.phase("training")
    clock.now = 10.0
    bar.step(50, 100)
    assert emitted[-1][1].endswith("left ~1:18"), "the build's 0:18 and the benchmarking's 1:00"
    for spec in PLAN[1:]:
        bar.model_finished()
        bar.model_started(spec)
    bar.model_finished()
    assert emitted[-1][1].endswith("left ~1:00"), "every model built: the benchmarking is what is left"


TRAINING = Status(count="12/30", phase="retraining", step="1500/2000", left="1:02:05", elapsed="45:07",
                  model="ratio=0.95 seed=2 method=gradual-magnitude")


@pytest.mark.parametrize("width", [80, 40])
def test_a_narrow_line_keeps_the_count_the_phase_and_the_time_left(width):
    assert len(str(TRAINING)) > 80
    line = status_line([TRAINING], width)
    assert len(line) <= width
    assert "12/30 " in line and " retraining " in line and line.endswith("left ~1:02:05")


def test_the_least_useful_parts_go_first():
    assert status_line([TRAINING], 200) == str(TRAINING)
    without_model = "prunebench build: model 12/30 | retraining step 1500/2000 | elapsed 45:07 | left ~1:02:05"
    assert status_line([TRAINING], len(without_model)) == without_model, "the model's description first"
    assert status_line([TRAINING], 80) == "prunebench build: model 12/30 | retraining step 1500/2000 | left ~1:02:05"
    assert status_line([TRAINING], 50) == "build: 12/30 retraining 1500/2000 left ~1:02:05"
    assert status_line([TRAINING], 40) == "build: 12/30 retraining left ~1:02:05", "then the training step"
    assert status_line([TRAINING], 30) == "build: 12/30 ret left ~1:02:05", "then the phase is cut"
    assert status_line([TRAINING], 20) == " 12/30 left ~1:02:05", "narrower still: cut from the left"


class FakeReporter:
    isatty = True

    def __init__(self, width_of_current_line: int = 0):
        self.calls = []

        class Writer:
            fullwidth = 40

        self._tw = Writer()
        self._tw.width_of_current_line = width_of_current_line

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))

    def written(self) -> list[str]:
        """Text of every rewrite, line and write, in order."""
        return [args[0] for name, args, _ in self.calls if name in ("rewrite", "write_line", "write")]


class FakeCapture:
    def __init__(self):
        self.disabled = 0

    @contextmanager
    def global_and_fixture_disabled(self):
        self.disabled += 1
        yield


def test_terminal_sink_rewrites_one_line_fitted_to_the_width_past_capturing():
    reporter, capture = FakeReporter(), FakeCapture()
    sink = TerminalSink(reporter, capture)
    sink(TRAINING, "live")
    sink(TRAINING, "live")
    sink(TRAINING, "end")
    sink("a line", "line")
    names = [name for name, _, _ in reporter.calls]
    assert names == ["ensure_newline", "rewrite", "write", "rewrite", "write", "rewrite", "write",
                     "ensure_newline", "write_line"]
    assert reporter.calls[1][1] == (status_line([TRAINING], 39),) and reporter.calls[1][2] == {"erase": True}
    assert reporter.calls[6][1] == ("\n",)
    assert capture.disabled == 4


def test_terminal_sink_starts_below_results_written_without_a_file_name():
    reporter = FakeReporter(width_of_current_line=3)  # an xdist controller's "..."
    TerminalSink(reporter)(TRAINING, "live")
    assert reporter.written()[:2] == ["\n", status_line([TRAINING], 39)]


class Plugins:
    def __init__(self, reporter):
        self.plugins = {"terminalreporter": reporter, "capturemanager": None}

    def get_plugin(self, name):
        return self.plugins.get(name)

    def register(self, plugin, name):
        self.plugins[name] = plugin


class Config:
    def __init__(self, reporter, workerinput=None):
        self.pluginmanager = Plugins(reporter)
        if workerinput is not None:
            self.workerinput = workerinput


class Builder:
    settings = Settings(max_steps=MAX_STEPS, batch_size=50, retrain_steps=RETRAIN, seed=0, variables=("w_fc1",))
    progress = None


def test_attach_to_pytest_picks_live_or_lines():
    builder = Builder()
    attach_to_pytest(builder, PLAN, Config(None))
    assert builder.progress is None
    reporter = FakeReporter()
    attach_to_pytest(builder, PLAN, Config(reporter), benchmarking_seconds=30.0)
    assert builder.progress.live and builder.progress.plan == PLAN and builder.progress.retrain_steps == RETRAIN
    assert builder.progress.benchmarking_seconds == 30.0
    reporter.isatty = False
    attach_to_pytest(builder, PLAN, Config(reporter))
    assert not builder.progress.live


def test_attach_to_pytest_on_an_xdist_worker_writes_to_the_controllers_folder(tmp_path):
    builder = Builder()
    attach_to_pytest(builder, PLAN, Config(None, {"workerid": "gw1", "workercount": 2}))
    assert builder.progress is None, "no folder: a controller without a terminal"
    relay = {RELAY_KEY: {"folder": str(tmp_path), "live": True}}
    attach_to_pytest(builder, PLAN, Config(None, {"workerid": "gw1", "workercount": 2, **relay}),
                     benchmarking_seconds=30.0)
    assert builder.progress.live and builder.progress.benchmarking_seconds == 15.0, "the workers share the benchmarks"
    builder.progress.model_started(PLAN[0])
    record = json.loads((tmp_path / "gw1.json").read_text())
    assert record["live"]["worker"] == "gw1" and record["live"]["count"] == "1/3" and record["lines"] == []


def worker_progress(folder, worker: str, clock: Clock) -> BuildProgress:
    return BuildProgress(PLAN, MAX_STEPS, RETRAIN, WorkerFileSink(folder / f"{worker}.json", worker), live=True,
                         clock=clock)


def test_worker_files_keep_the_live_status_and_every_finished_line(tmp_path):
    clock = Clock()
    bar = worker_progress(tmp_path, "gw0", clock)
    bar.model_started(PLAN[0])
    bar.model_finished()
    bar.model_started(PLAN[1])
    record = read_worker_records(tmp_path)["gw0"]
    assert record["live"]["count"] == "2/3" and record["live"]["phase"] == "starting"
    assert [line["phase"] for line in record["lines"]] == ["reused from the cache"]
    (tmp_path / "gw9.json").write_text("{half")
    assert list(read_worker_records(tmp_path)) == ["gw0"], "a file that does not parse is skipped"


def test_the_controller_shows_its_workers_lines_and_one_live_line_of_all(tmp_path):
    clock, reporter = Clock(), FakeReporter()
    reporter._tw.fullwidth = 200
    display = ControllerDisplay(tmp_path, TerminalSink(reporter), live=True)
    first, second = worker_progress(tmp_path, "gw0", clock), worker_progress(tmp_path, "gw1", clock)
    first.model_started(PLAN[0])
    second.model_started(PLAN[1])
    display.poll()
    assert reporter.written()[-2] == ("prunebench build: gw0 model 1/3 ratio=0 seed=0 | starting | elapsed 0:00 | "
                                      "left ~? ; gw1 model 1/3 ratio=0.5 seed=0 | starting | elapsed 0:00 | left ~?")
    count = len(reporter.calls)
    display.poll()
    assert len(reporter.calls) == count, "drawn again only when a worker's line changed"

    first.model_finished()
    display.poll()
    assert reporter.written()[-4:] == [
        "prunebench build: gw0 model 1/3 ratio=0 seed=0 | reused from the cache | elapsed 0:00 | left ~?", "\n",
        "prunebench build: gw1 model 1/3 ratio=0.5 seed=0 | starting | elapsed 0:00 | left ~?", ""], \
        "the finished line kept where the live line was, the live line drawn again below it"

    second.model_finished()  # and its first result arrives before the next poll
    report_hook = display.pytest_runtest_logreport(report=None)
    next(report_hook)  # the result is about to be written
    assert reporter.written()[-2:] == [
        "prunebench build: gw1 model 1/3 ratio=0.5 seed=0 | reused from the cache | elapsed 0:00 | left ~?", "\n"]
    assert not display.sink.live_on_screen and display.lock.locked()
    with pytest.raises(StopIteration):
        report_hook.send(None)
    assert not display.lock.locked()

    display.stop()
    assert not tmp_path.exists(), "the session folder goes"


def test_a_controller_without_a_terminal_writes_each_workers_lines(tmp_path):
    clock, reporter = Clock(), FakeReporter()
    reporter.isatty = False
    display = ControllerDisplay(tmp_path, TerminalSink(reporter), live=False)
    bar = BuildProgress(PLAN, MAX_STEPS, RETRAIN, WorkerFileSink(tmp_path / "gw0.json", "gw0"), live=False,
                        clock=clock)
    bar.model_started(PLAN[0])
    bar.phase("training")
    display.poll()
    display.poll()
    assert [args for name, args, _ in reporter.calls if name == "write_line"] == [
        ("prunebench build: gw0 model 1/3 ratio=0 seed=0 | training | elapsed 0:00 | left ~?",)]


def test_the_controllers_display_is_made_once_and_handed_to_each_worker():
    assert ControllerDisplay.of_controller(Config(None)) is None
    config = Config(FakeReporter())
    display = ControllerDisplay.of_controller(config)
    try:
        assert ControllerDisplay.of_controller(config) is display
        folder = display.worker_input()[RELAY_KEY]["folder"]
        assert display.folder.is_dir() and folder == str(display.folder)
    finally:
        display.stop()
    assert not display.folder.exists()


def test_training_reports_every_step(mnist):
    from prunebench.model.cnn import build_cnn
    from prunebench.model.train import compile_for_training, train

    model = build_cnn()
    compile_for_training(model)
    steps = []
    train(model, mnist, 3, 8, seed=0, on_step=lambda done, total: steps.append((done, total)))
    assert steps == [(1, 3), (2, 3), (3, 3)]
