"""pytest wiring for the benchmark suite: options, session fixtures, machine info, results at the end.

The logic lives in ``prunebench.suite.config`` / ``prunebench.build.builder``; this file only connects it to pytest.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from prunebench.model.engines.hygiene import bound_spinning  # noqa: E402  (sets thread-spin limits before numpy loads)

bound_spinning()

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from bench.session import state_of, suite_config  # noqa: E402
from prunebench.errors import PrunebenchError  # noqa: E402
from prunebench.results import paths  # noqa: E402
from prunebench.suite.options import SUITE_OPTIONS, use_results_dir  # noqa: E402
from prunebench.verdicts.judging import OUTCOMES  # noqa: E402


def pytest_addoption(parser):
    group = parser.getgroup("prunebench", "prunebench benchmark suite")
    for option in SUITE_OPTIONS:
        option.add_to(group.addoption)


def pytest_collection(session):
    """Check suite options given on the command line before collecting, so that a bad one (an unknown
    engine, no ratio above 0) ends the run with one usage line (exit 4), not a collection error per
    module. Only when one was given: a good set imports TensorFlow with the engine registry, whose names
    are checked last (``SuiteConfig.from_options``), so a bad ratio or variable is refused without it."""
    config = session.config
    if any(config.getoption(option.dest) != option.default for option in SUITE_OPTIONS):
        suite_config(config)


def pytest_configure(config):
    """Save pytest-benchmark's JSON under results/ (via a temporary name) unless the user chose a path."""
    use_results_dir(config.getoption("results_dir"))  # --results-dir: PRUNEBENCH_RESULTS for paths.results_dir()
    state = state_of(config)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker or not hasattr(config.option, "benchmark_json") or config.option.benchmark_json is not None:
        return
    if config.option.benchmark_disable or config.option.benchmark_skip:
        return
    stamp = time.strftime("%Y%m%d-%H%M%S")
    profile = config.getoption("profile")
    state.benchmark_json = paths.results_dir() / "benchmarks" / f"{profile}-{stamp}.json"
    state.benchmark_json.parent.mkdir(parents=True, exist_ok=True)
    # pytest-benchmark writes the JSON non-atomically at session end: give it a temporary name
    config.option.benchmark_json = Path(str(state.benchmark_json) + ".tmp-writing")


def pytest_unconfigure(config):
    state = state_of(config)
    if state.benchmark_json is None:
        return
    pending = config.option.benchmark_json
    if pending.exists() and pending.stat().st_size > 0:
        os.replace(pending, state.benchmark_json)
    else:
        pending.unlink(missing_ok=True)


def pytest_benchmark_update_machine_info(config, machine_info):
    from prunebench.suite.config import machine_record

    record = machine_record()
    machine_info.update({"tensorflow": record["tensorflow"], "cpu_model": record["cpu"],
                         "threads": record["threads"], "gpus": record["gpus"]})


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Beside each network benchmark's record, whose round times every model of the sweep, one record per model
    of its own rounds (``prunebench.suite.benchmark_records``), so ``pytest-benchmark compare`` sees each
    model's time. Called when pytest-benchmark saves, after the claims' retiming: the records hold every round."""
    from prunebench.suite.benchmark_records import add_model_records

    state = state_of(config)
    add_model_records(output_json, state.network_sweeps, state.timings)


def pytest_collection_modifyitems(config, items):
    """Model checks first (they build the models), then the benchmarks, then the claims, which are judged
    on everything the run measured."""

    def phase(item) -> int:
        return 2 if item.get_closest_marker("claims") else 1 if item.get_closest_marker("benchmark") else 0

    items.sort(key=phase)


# A benchmark's engine argument, and whether it ranges over the suite's sparse engines only (True), dense
# ones only (False) or all of them (None).
ENGINE_ARGS = {"network_engine": None, "fc1_engine": None, "fc1_dense_engine": False, "fc1_sparse_engine": True}


def pytest_generate_tests(metafunc):
    """Models of the sweep, and the benchmarks' (ratio, engine, device, batch) items."""
    names = set(metafunc.fixturenames)
    engine_arg = next((name for name in ENGINE_ARGS if name in names), None)
    if "suite_model" not in names and engine_arg is None:
        return
    suite = suite_config(metafunc.config)
    if "suite_model" in names:
        specs = suite.model_specs()
        metafunc.parametrize("suite_model", specs, indirect=True, ids=[spec.id for spec in specs], scope="session")
    if engine_arg is not None:
        _parametrize_engines(metafunc, suite, engine_arg)


def _parametrize_engines(metafunc, suite, engine_arg: str) -> None:
    """Each engine on each device it runs on, with every ratio (FC1 kernels) and batch; one skipped item per
    engine and device this machine lacks (``bench.params``)."""
    from bench.params import engine_device_params, skipped_params
    from prunebench.model.engines import ENGINES
    from prunebench.suite.config import SCOPE_RATIOS

    if engine_arg == "network_engine":
        engines, batch_arg, batches = suite.network_engines, "network_batch", suite.network_batches
    else:
        engines, batch_arg, batches = suite.fc1_engines, "batch", suite.batches
    sparse = ENGINE_ARGS[engine_arg]
    engines = [name for name in engines if sparse is None or ENGINES[name].sparse == sparse]
    ratio_args = {"fc1_ratio": SCOPE_RATIOS["fc1"], "fc1_block_ratio": SCOPE_RATIOS["fc1-blocks"]}
    ratio_arg = next((name for name in ratio_args if name in metafunc.fixturenames), None)
    argnames = [*([ratio_arg] if ratio_arg else []), engine_arg, "device", batch_arg]
    params = engine_device_params(ENGINES, engines, batches, ratio_args.get(ratio_arg))
    if engine_arg != "network_engine" and suite.settings.workload is not None:
        params = skipped_params(len(argnames), f"FC1 alone is the paper CNN's layer; workload {suite.workload.name} "
                                               "is timed as a whole network")
    metafunc.parametrize(argnames, params)


@pytest.fixture(scope="session")
def suite(pytestconfig):
    return suite_config(pytestconfig)


@pytest.fixture(scope="session")
def mnist(suite):
    from prunebench.model.data import resolve_data_dir

    try:
        return suite.workload.load_data(resolve_data_dir(suite.data_dir))
    except PrunebenchError as error:
        pytest.exit(f"prunebench: {error}", returncode=2)


@pytest.fixture(scope="session")
def builder(pytestconfig, suite, mnist):
    from prunebench.build.builder import PhaseClock, make_builder

    state = state_of(pytestconfig)
    state.clock = PhaseClock()
    ray_address = pytestconfig.getoption("ray")
    if ray_address:  # --ray: the build phase runs on the cluster first; this session then times from the cache
        from prunebench.build.ray_cluster import build_suite

        build_suite(suite, ray_address, pytestconfig)
    state.builder = make_builder(mnist, suite.settings, suite.eval_images, shared=bool(ray_address), clock=state.clock,
                                 formats=suite.formats)
    _keep_fc1_conversions(state.builder.cache)
    return state.builder


def _keep_fc1_conversions(store) -> None:
    """Converted LiteRT FC1 layers beside the models, when the models are kept in a directory of this machine: a
    rerun reads them instead of converting dozens again (``litert.FC1_CONVERSIONS``)."""
    from prunebench.build.cache import ModelCache
    from prunebench.model.engines.litert import FC1_CONVERSIONS, LITERT_CACHE_FOLDER

    if isinstance(store, ModelCache):
        FC1_CONVERSIONS.directory = store.root / LITERT_CACHE_FOLDER


@pytest.fixture(scope="session")
def suite_model(request, builder):
    """One pruned, retrained, sparsified model (or a baseline at ratio 0), built once, cached on disk."""
    return builder.get(request.param)


@pytest.fixture(scope="session")
def all_models(suite, builder):
    """Every model of the profile, for tests that judge the whole sweep."""
    return [builder.get(spec) for spec in suite.model_specs()]


@pytest.fixture(scope="session")
def session_state(pytestconfig):
    return state_of(pytestconfig)


@pytest.fixture(scope="session")
def run_results(all_models, session_state):
    """This run's results as the session will write them, claims judged after retiming (``bench.retiming``);
    kept for the terminal summary."""
    from bench.retiming import final_results

    session_state.results = final_results(session_state)
    return session_state.results


@pytest.fixture(scope="session")
def reference_outputs():
    """What the engines' outputs are checked against, per (model, inputs): computed once, shared by every
    engine and device timed on them (``bench.outputs``)."""
    from bench.outputs import ReferenceOutputs

    return ReferenceOutputs()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Build progress (model k of n, phase, training step, time left) on pytest's terminal reporter, live on a
    terminal and one line per phase otherwise; an xdist worker's through a file to the controller's terminal
    (``prunebench.build.progress``). The time left counts the benchmarks to run after the build."""
    result = yield
    if fixturedef.argname == "builder":
        from bench.params import benchmarks_off
        from prunebench.build.progress import attach_to_pytest

        suite = request.getfixturevalue("suite")
        timed = benchmarks_off(request.config) is None
        attach_to_pytest(result, suite.model_specs(), request.config,
                         benchmarking_seconds(request.session.items, suite.profile, timed))
    return result


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist's controller, as each worker starts: the folder where the worker keeps its build progress
    for the controller to show (``prunebench.build.progress.ControllerDisplay``)."""
    from prunebench.build.progress import ControllerDisplay

    display = ControllerDisplay.of_controller(node.config)
    if display is not None:
        node.workerinput.update(display.worker_input())


# What a benchmark item without a declared time budget (an FC1 kernel, the engine-order and training-speed
# checks) is expected to take: a rough allowance, as its rounds take milliseconds and its cost is mostly the
# engine's tracing, compiling and output check before them.
BENCHMARK_ITEM_ALLOWANCE_S = 1.0


def benchmarking_seconds(items, profile: str, timed: bool) -> float:
    """A rough estimate of the benchmarking after the build, for its time left: a network benchmark's time
    budget (``bench.timing.NETWORK_BUDGET_S``, which its rounds beyond the pilot keep within; the pilot,
    warm-up and checks come on top, so it errs short), ``BENCHMARK_ITEM_ALLOWANCE_S`` per other benchmark
    item (it errs short for FC1 on a whole evaluation set, whose calls take seconds), nothing for a skipped
    one nor for the claims' retiming of undecided timings. Without timing (``timed`` False: pytest-benchmark
    off, each call runs once) every item gets the allowance."""
    from bench.timing import NETWORK_BUDGET_S

    def seconds(item) -> float:
        return NETWORK_BUDGET_S[profile] if timed and "network_engine" in item.fixturenames \
            else BENCHMARK_ITEM_ALLOWANCE_S

    return sum(seconds(item) for item in items
               if item.get_closest_marker("benchmark") is not None and item.get_closest_marker("skip") is None)


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """Benchmark wall time counts to the 'benchmarking' phase (model building has its own phases)."""
    state = state_of(pyfuncitem.config)
    start = time.perf_counter()
    yield
    if pyfuncitem.get_closest_marker("benchmark") is not None and state.clock is not None:
        state.clock.seconds["benchmarking"] += time.perf_counter() - start


def pytest_sessionfinish(session, exitstatus):
    from prunebench.suite.finish import finish_session

    state = state_of(session.config)
    state.written = finish_session(session.config, state)


def pytest_terminal_summary(terminalreporter, config):
    state = state_of(config)
    if state.clock is not None:
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in state.clock.seconds.items())
        terminalreporter.write_sep("-", "prunebench wall time per phase")
        terminalreporter.write_line(phases)
        if state.builder is not None:
            built = state.builder.cache.built
            terminalreporter.write_line(f"models built this run: {len(built)}; reused from cache: "
                                        f"{len(state.builder.loaded()) - len(built)}")
    if state.results is not None:
        _claims_and_goals_summary(terminalreporter, state.results)
    for path in state.written:
        terminalreporter.write_line(f"wrote {path}")


def _claims_and_goals_summary(terminalreporter, results: dict) -> None:
    """The claims by outcome (the undecided ones with their noise), then the goals: met, or their gap."""
    from prunebench.report.goals_table import goals_table
    from prunebench.verdicts.judging import summary_counts

    counts = summary_counts(results["claims"])
    terminalreporter.write_sep("-", "prunebench claims")
    terminalreporter.write_line(", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES))
    for subject, noise in counts["undecided_noise"].items():
        spread = "unknown" if noise is None else f"{noise * 100:.1f}%"
        terminalreporter.write_line(f"undecided: {subject}, rounds' IQR/median {spread}")
    if counts["too_noisy"]:
        terminalreporter.write_line(counts["too_noisy"])
    terminalreporter.write_sep("-", "prunebench goals (report.md has them too)")
    terminalreporter.write_line(goals_table(results))
