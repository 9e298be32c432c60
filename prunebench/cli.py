"""``prunebench``: the paper's three commands (train -1 -2 -3, eval-dense, eval-sparse) and the suite's tools.

Bad input ends in one line on stderr (argparse's usage block before it for a usage error) and a non-zero
exit (2 for usage errors), never a traceback. Arguments and paths are checked before TensorFlow is
imported, and TensorFlow's C++ start-up log is kept off stderr unless asked for (see ``prunebench.model.tf_import``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from prunebench.errors import DataError, PrunebenchError, UsageError
from prunebench.model.constants import PAPER_TRAIN_STEPS
from prunebench.model.tf_import import import_tensorflow
from prunebench.prune.policy import DEFAULT_PRUNED, parse_variable_names
from prunebench.prune.ratio import parse_ratio
from prunebench.report.figure_files import ACROSS_FILE
from prunebench.results import atomic, paths
from prunebench.suite.options import (
    ACCURACY_MARGIN,
    BATCH_SIZE,
    DATA_DIR,
    DETERMINISTIC,
    MAX_STEPS,
    RAY,
    RESULTS_DIR,
    RETRAIN_STEPS,
    SUITE_OPTIONS,
    TIME_MARGIN,
    VARIABLES,
    default_retrain_steps,
)
from prunebench.suite.options import ENGINES as ENGINES_OPTION
from prunebench.validators import argparse_type, non_negative_int, positive_float, steps_or_all

_NEGATIVE_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


# What ``build`` reads of the suite's options: what decides which models exist and how they are trained.
# Margins, engines and the results folder concern timing and judging, which build does not do.
BUILD_OPTIONS = tuple(option for option in SUITE_OPTIONS
                      if option not in (ACCURACY_MARGIN, TIME_MARGIN, ENGINES_OPTION, RESULTS_DIR, RAY))


def _parser() -> argparse.ArgumentParser:
    description = __doc__.splitlines()[0].replace("``", "")  # reStructuredText markup is not for --help
    parser = argparse.ArgumentParser(prog="prunebench", description=description)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="the paper's train.py: -1 train, -2 prune+retrain, -3 sparsify")
    train.add_argument("-1", "--train-baseline", action="store_true", help="step 1: train into TRAIN_DIR/step_1")
    train.add_argument("-2", "--prune-retrain", action="store_true",
                       help="step 2: prune into step_2_1, retrain into step_2_2")
    train.add_argument("-3", "--sparsify", action="store_true", help="step 3: sparse model into step_3")
    DATA_DIR.add_to(train.add_argument, "--train-data-dir")
    train.add_argument("--train-dir", required=True, type=Path, help="where the step directories go")
    train.add_argument("--variables-dir", type=Path, help="readable dumps of the pruned variables")
    MAX_STEPS.add_to(train.add_argument, default=PAPER_TRAIN_STEPS)
    BATCH_SIZE.add_to(train.add_argument, default=32)
    RETRAIN_STEPS.add_to(train.add_argument)
    train.add_argument("--sparse-ratio", type=argparse_type(parse_ratio, "ratio"), default=0.9,
                       help="pruning ratio in [0, 1) (default 0.9)")
    # the paper's commands train its CNN: its kernels are the names to check (the suite checks a workload's)
    VARIABLES.add_to(train.add_argument, default=DEFAULT_PRUNED,
                     type=argparse_type(parse_variable_names, VARIABLES.dest))
    train.add_argument("--seed", type=argparse_type(non_negative_int, "seed"), default=0,
                       help="random seed (default 0)")
    DETERMINISTIC.add_to(train.add_argument)

    for name, network, example in (("eval-dense", "dense", "step_2_2"), ("eval-sparse", "sparse", "step_3")):
        evaluate = commands.add_parser(name, help=f"the paper's eval_predict_with_{network}_network.py")
        DATA_DIR.add_to(evaluate.add_argument, "--test-data-dir")
        evaluate.add_argument("--checkpoint-dir", required=True, type=Path, help=f"e.g. TRAIN_DIR/{example}")
        BATCH_SIZE.add_to(evaluate.add_argument, default=32)
        MAX_STEPS.add_to(evaluate.add_argument, default=10, type=argparse_type(steps_or_all, "steps"),
                         help="batches to predict; 0 or 'all' for the whole test set (default 10)")
        evaluate.add_argument("--json", type=Path, help="also write the result as JSON here")

    merge = commands.add_parser("merge", help="merge the results JSON of a sweep split across machines")
    merge.add_argument("-o", "--output", type=Path, required=True,
                       help="merged results JSON to write (never one of the parts)")
    merge.add_argument("parts", type=Path, nargs="+", metavar="PART",
                       help="results JSON of the parts, or their run folders")

    build = commands.add_parser("build", help="build the suite's models into the cache: serially here, or one Ray "
                                              "task per model on a cluster (--ray ADDRESS or $RAY_ADDRESS)")
    for option in BUILD_OPTIONS:
        option.add_to(build.add_argument, help=option.help.replace("%", "%%"))  # argparse formats help
    RAY.add_to(build.add_argument, help="build on this Ray cluster (host:port, ray://host:port, or auto: "
                                        "$RAY_ADDRESS), one task per model into the shared cache (needs the ray "
                                        "extra); without it the models are built here, one after another")
    build.add_argument("--cache", help="cache root: a directory every node mounts, or an fsspec URL (file://, s3://, "
                                       "gs://); default $PRUNEBENCH_CACHE, else the checkout's .cache/prunebench")
    build.add_argument("--num-cpus", type=argparse_type(positive_float, "cpus"), default=1.0,
                       help="CPUs each Ray task requests (TensorFlow gets as many threads; default 1)")
    build.add_argument("--max-retries", type=argparse_type(non_negative_int, "retries"), default=3,
                       help="Ray retries of a task whose worker died (default 3)")
    build.add_argument("--json", type=Path, help="write what each task did (where, built or reused, seconds) here")

    report = commands.add_parser("report", help="rebuild report.md and figures from a results JSON alone; with "
                                                "several, set the paper's claims side by side across their networks")
    report.add_argument("results_json", type=Path, nargs="*",
                        help="results JSON (default: results.json in the results directory); several: write "
                             f"{ACROSS_FILE} to --out, each run's verdicts in a column")
    RESULTS_DIR.add_to(report.add_argument)
    report.add_argument("--out", type=Path, help="output directory (default: beside the JSON; needed with several)")

    compare = commands.add_parser("compare", help="compare results JSON (baselines, then the new run): compression, "
                                                  "claims, timings")
    from prunebench.compare.command import add_arguments as add_compare_arguments

    add_compare_arguments(compare)

    interleave = commands.add_parser("interleave", help="time base and new code in runs made back to back in "
                                                        "pairs, then judge time pair by pair (an A/B)")
    from prunebench.compare.interleave import add_arguments as add_interleave_arguments

    add_interleave_arguments(interleave)
    return parser


def _checked_options(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings, of the parser and its sub-commands, whose value is checked (numbers, names)."""
    options = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                options |= _checked_options(command)
        elif action.nargs != 0 and action.type not in (None, Path):
            options.update(action.option_strings)
    return options


def _attach_negative_values(argv: list[str], checked_options: set[str]) -> list[str]:
    """``-1`` is also train's step flag, so argparse reads ``--max-steps -1`` as a missing value; attach
    such a number to its option (``--max-steps=-1``) so that it is checked, and refused, as the value it is."""
    joined: list[str] = []
    for token in argv:
        if joined and joined[-1] in checked_options and _NEGATIVE_NUMBER.fullmatch(token):
            joined[-1] = f"{joined[-1]}={token}"
        else:
            joined.append(token)
    return joined


def _check_output(path: Path | None, option: str, *, directory: bool) -> None:
    """Refuse an output location that cannot be written now, not after an hour of training: create the
    directory (or the file's parent) up front, and refuse a directory where a file is due."""
    if path is None:
        return
    folder = path if directory else path.parent
    where = "the directory" if directory else f"its directory {folder}"
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{option} {path}: cannot create {where}: {folder} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"{option} {path}: cannot create {where}: {error.strerror or error}") from None
    if not directory and path.is_dir():
        raise DataError(f"{option} {path}: is a directory, expected a file name")
    if not os.access(folder, os.W_OK):
        raise DataError(f"{option} {path}: {folder} is not writable")


def _check_checkpoint_dir(directory: Path) -> None:
    """The cheap part of reading a checkpoint, done before TensorFlow is imported (its full check, of the
    manifest's kind and the tensors, is ``prunebench.model.checkpoint.read_manifest`` and the reader)."""
    if not directory.is_dir():
        raise DataError(f"checkpoint directory {directory} does not exist or is not a directory")
    if not (directory / "manifest.json").is_file():
        raise DataError(f"checkpoint directory {directory} holds no prunebench checkpoint (manifest.json missing)")


def _check_earlier_step(train_dir: Path, step: int, needed: str, producer: str) -> None:
    """A step run without the one before it needs that step's output already in TRAIN_DIR (same message as
    ``prunebench.build.pipeline``, which checks again)."""
    directory = train_dir / needed
    if not (directory / "manifest.json").is_file():
        raise DataError(f"step {step} needs {directory}, which is missing or incomplete: run {producer} first")


def _run_train(args: argparse.Namespace) -> None:
    if not (args.train_baseline or args.prune_retrain or args.sparsify):
        raise UsageError("train: choose at least one step: -1 (train), -2 (prune + retrain), -3 (sparsify)")
    from prunebench.model.data import load_mnist, resolve_data_dir

    needs_data = args.train_baseline or args.prune_retrain
    data = load_mnist(resolve_data_dir(args.data_dir)) if needs_data else None
    if args.prune_retrain and not args.train_baseline:
        _check_earlier_step(args.train_dir, 2, "step_1", "-1")
    if args.sparsify and not args.prune_retrain:
        _check_earlier_step(args.train_dir, 3, "step_2_2", "-2")
    _check_output(args.train_dir, "--train-dir", directory=True)
    _check_output(args.variables_dir, "--variables-dir", directory=True)
    import_tensorflow()  # only once the inputs are good, and quietly
    from prunebench.build.pipeline import Settings, run_steps

    settings = Settings(max_steps=args.max_steps, batch_size=args.batch_size,
                        retrain_steps=args.retrain_steps or default_retrain_steps(args.max_steps),
                        seed=args.seed, variables=tuple(args.pruning_variable_names),
                        deterministic=args.deterministic)
    steps = [step for step, chosen in ((1, args.train_baseline), (2, args.prune_retrain), (3, args.sparsify))
             if chosen]
    summary = run_steps(steps, data, settings, args.sparse_ratio, args.train_dir, args.variables_dir)
    print(json.dumps(summary, indent=1, sort_keys=True))


def _run_eval(args: argparse.Namespace) -> None:
    from prunebench.model.data import load_mnist, resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    _check_checkpoint_dir(args.checkpoint_dir)
    data = load_mnist(data_dir)
    _check_output(args.json, "--json", directory=False)
    import_tensorflow()  # only once the inputs are good, and quietly
    from prunebench.model.checkpoint import directory_bytes, load_dense
    from prunebench.model.engines import ENGINES
    from prunebench.model.evaluate import evaluate
    from prunebench.prune.paper_format import load_sparse

    if args.command == "eval-dense":
        weights, _, manifest = load_dense(args.checkpoint_dir)
        engine, pruned = "tf-dense", ()
    else:
        weights, manifest = load_sparse(args.checkpoint_dir)
        engine, pruned = "tf-sparse", tuple(manifest["pruned"])
    predict = ENGINES[engine].network(weights, pruned)
    result = evaluate(predict, data, args.batch_size, args.max_steps, network=engine,
                      model_bytes=directory_bytes(args.checkpoint_dir)).as_dict()
    result["checkpoint_dir"] = str(args.checkpoint_dir)
    rows = [("network", result["network"]), ("checkpoint", result["checkpoint_dir"]),
            ("images", f"{result['images']} ({result['batches']} batches of {result['batch_size']})"),
            ("accuracy", f"{result['accuracy']:.4f}"),
            ("prediction time", f"{result['prediction_seconds']:.4f} s total, "
                                f"{result['median_batch_seconds'] * 1e3:.3f} ms median per batch"),
            ("model size", f"{result['model_bytes']:,} bytes ({result['model_bytes'] / 2**20:.1f} MiB)")]
    width = max(len(key) for key, _ in rows)
    print("\n".join(f"{key:<{width}}  {value}" for key, value in rows))
    if args.json:
        atomic.write_text(args.json, json.dumps(result, indent=1, sort_keys=True) + "\n")


def _run_report(args: argparse.Namespace) -> None:
    from prunebench.results.contract import RESULTS_FILE, load_results, results_file

    if len(args.results_json) > 1:
        if args.out is None:
            raise UsageError("report: give --out, the directory for the page of several runs")
        runs = [load_results(path) for path in args.results_json]
        _check_output(args.out, "--out", directory=True)
        from prunebench.report.across import across_section

        atomic.write_text(args.out / ACROSS_FILE, across_section(runs))
        print(args.out / ACROSS_FILE)
        return
    named = next(iter(args.results_json), None)  # a results file, or a run's folder holding one
    results_json = results_file(named) if named else (args.results_dir or paths.results_dir()) / RESULTS_FILE
    results = load_results(results_json)
    out = args.out or results_json.parent
    _check_output(out, "--out", directory=True)
    from prunebench.report.document import write_report  # matplotlib: only once the inputs are good

    for path in write_report(results, out):
        print(path)


def _run_merge(args: argparse.Namespace) -> None:
    from prunebench.results.contract import load_results, merge_results, results_file, save_results
    from prunebench.verdicts.judging import with_claims

    output = args.output.resolve()
    for part in args.parts:
        if results_file(part).resolve() == output:
            raise UsageError(f"--output {args.output} is one of the parts: merge writes a new file, it never "
                             "replaces its input")
    _check_output(args.output, "--output", directory=False)
    parts = [load_results(path) for path in args.parts]

    merged = with_claims(merge_results(parts))
    save_results(merged, args.output)
    print(f"{args.output}: {len(merged['models'])} models from {len(args.parts)} parts")


def _run_build(args: argparse.Namespace) -> None:
    """Phase 1 of the two-phase recipe: every model of the sweep into the cache, timed as a whole."""
    import time

    from prunebench.suite.config import SuiteConfig

    unused = {option.dest: option.default for option in SUITE_OPTIONS}  # what building does not read
    suite = SuiteConfig.from_options(lambda dest: getattr(args, dest, unused.get(dest)), lambda: ())  # no engines
    specs = suite.model_specs()
    address = args.ray or os.environ.get("RAY_ADDRESS")
    _check_output(args.json, "--json", directory=False)
    started = time.perf_counter()
    if address:
        from prunebench.build.ray_cluster import build_on_ray, job_for

        job = job_for(suite, args.cache, threads=max(1, int(args.num_cpus)))
        tasks = build_on_ray(specs, job, address, num_cpus=args.num_cpus, max_retries=args.max_retries,
                             emit=lambda text: print(text, flush=True))
        root = job.cache_root
    else:
        tasks = _build_serially(suite, specs, args.cache)
        root = args.cache or "the default cache"
    seconds = time.perf_counter() - started
    built = sum(1 for task in tasks if task["built"])
    print(f"prunebench build: {len(specs)} models ({built} built, {len(specs) - built} reused) in {seconds:.1f} s "
          f"into {root}" + (f" on Ray at {address}" if address else " serially"))
    if args.json:
        summary = {"seconds": seconds, "ray": address, "models": len(specs), "built": built, "tasks": tasks}
        atomic.write_text(args.json, json.dumps(summary, indent=1, sort_keys=True) + "\n")


def _build_serially(suite, specs, cache_root: str | None) -> list[dict]:
    import time

    from prunebench.model.data import load_mnist, resolve_data_dir

    data = load_mnist(resolve_data_dir(suite.data_dir))
    import_tensorflow()
    from prunebench.build.builder import make_builder
    from prunebench.build.progress import BuildProgress

    progress = BuildProgress(specs, suite.settings.max_steps, suite.settings.retrain_steps,
                             lambda text, kind: print(text, flush=True), live=False)
    builder = make_builder(data, suite.settings, suite.eval_images, cache_root, shared=True, progress=progress,
                           formats=suite.formats)
    cache = builder.cache
    tasks = []
    for spec in specs:
        before, started = len(cache.built), time.perf_counter()
        model = builder.get(spec)
        tasks.append({"id": spec.id, "entry": model.directory.name, "built": cache.built[before:],
                      "seconds": time.perf_counter() - started, "where": "here"})
    return tasks


def _run_compare(args: argparse.Namespace) -> None:
    from prunebench.compare.command import RegressionsFound, run

    try:
        run(args)  # failing items raise RegressionsFound (exit 1) after they are printed
    except RegressionsFound:
        raise
    except PrunebenchError as error:  # a usage or input error: exit 2, so that CI tells it from a regression
        raise UsageError(str(error)) from None


def _run_interleave(args: argparse.Namespace) -> None:
    from prunebench.compare.interleave import run

    run(args)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(_attach_negative_values(argv, _checked_options(parser)))
    run = {"train": _run_train, "eval-dense": _run_eval, "eval-sparse": _run_eval, "merge": _run_merge,
           "report": _run_report, "compare": _run_compare, "build": _run_build,
           "interleave": _run_interleave}
    try:
        run[args.command](args)
    except PrunebenchError as error:
        print(f"prunebench {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # e.g. an output directory that cannot be written
        where = f" {error.filename}" if error.filename else ""
        print(f"prunebench {args.command}: error: cannot write or read{where}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"prunebench {args.command}: interrupted; finished artifacts are complete, others were not written",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
