"""``prunebench compare BASE... NEW``: what changed between two results JSON files (docs/compare.md).

Four sections, each judged by its own rule:

- compression: the deterministic measures of every (method, ratio, seed) model, compared exactly (thresholds,
  nonzero counts, sizes, every format's bytes), accuracy to a tolerance in test images; any change fails. A
  model only one run built is named as left out.
- claims: verdicts matched by (id, subject, range, method); a changed verdict fails.
- timings, same machine class: each timing family's shift in the new run against the spread of that shift
  over two or more baseline runs, plus a minimum factor (``prunebench.compare.stats``); a significant
  slowdown beyond the factor fails under ``--fail-on time``. One baseline run judges no time. With
  ``--interleaved``, runs made back to back in pairs (base, new, base, new, ...) are judged pair by pair
  (a paired test), which cancels the machine's slow episodes that stored baselines cannot.
- timings, different machines: only what carries over (speed relative to ``tf-dense`` in the same run, the
  FC1 crossover ratios, time x measured bandwidth); absolute times are not compared and nothing fails.

Library code raises ``PrunebenchError``; ``prunebench.cli`` turns it into one line and the exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from prunebench.compare.baselines import class_slug, earlier_baselines, find_baseline, save_baseline
from prunebench.compare.claims import claim_line, compare_claims
from prunebench.compare.compression import compare_compression, compression_line
from prunebench.compare.reading import load_for_compare, raw_rounds, with_embedded_rounds
from prunebench.compare.render import render_markdown, render_text
from prunebench.compare.stats import ALPHA, FACTOR, MIN_PAIRS
from prunebench.compare.timings import (
    compare_bandwidth,
    compare_crossovers,
    compare_speedups,
    compare_times,
    same_machine_class,
    time_line,
)
from prunebench.errors import DataError, PrunebenchError, UsageError
from prunebench.results import atomic
from prunebench.results.machine import machine_class
from prunebench.validators import argparse_type, min_factor, significance_level, whole_number

CATEGORIES = ("compression", "claims", "time")
DEFAULT_FAIL_ON = ("compression", "claims")
DEFAULT_HISTORY = 5  # baseline runs the time verdict uses with --against


class RegressionsFound(PrunebenchError):
    """The comparison found failing items; they were printed one a line before this is raised."""


def compare(base: dict, new: dict, *, base_path: Path, new_path: Path, base_rounds: dict | None = None,
            new_rounds: dict | None = None, history: Sequence[tuple[dict, Path]] = (),
            earlier_new: Sequence[tuple[dict, Path]] = (), rounds_notes: tuple[str, str] = ("", ""),
            factor: float = FACTOR, alpha: float = ALPHA, p_adjust: str = "holm", tolerance_images: int = 0,
            fail_on: Iterable[str] = DEFAULT_FAIL_ON) -> dict:
    """The whole comparison of ``new`` with ``base``. ``history``: earlier baseline runs, oldest first, for
    the time verdict; with ``earlier_new`` (the new run made right after each of them) the runs are
    interleaved pairs, judged by the paired test."""
    fail_on = tuple(fail_on)
    same = same_machine_class(base, new)
    if earlier_new:
        strangers = [str(path) for results, path in [*history, *earlier_new] if not same_machine_class(results, new)]
        if strangers or not same:
            raise DataError("interleaved runs are made on one machine, but these are of another machine class: "
                            + ", ".join(strangers or [str(base_path)]))
    report: dict[str, Any] = {
        "kind": "prunebench-compare", "schema_version": 1,
        "base": _describe(base, base_path), "new": _describe(new, new_path),
        "same_machine_class": same, "absolute_times_compared": same,
        "settings": {"factor": factor, "alpha": alpha, "p_adjust": p_adjust,
                     "accuracy_tolerance_images": tolerance_images, "fail_on": list(fail_on)},
        "compression": compare_compression(base, new, tolerance_images),
        "claims": compare_claims(base, new),
        "speedups": compare_speedups(base, new, factor),
        "crossovers": compare_crossovers(base, new),
        "bandwidth": compare_bandwidth(base, new, factor),
    }
    if same:
        # Earlier baselines of another machine class say nothing about this one's run-to-run spread.
        runs, dropped = [], []
        for results, path in history:
            (runs if same_machine_class(results, new) else dropped).append((results, path))
        report["history"] = [str(path) for _, path in runs]
        report["history_dropped"] = [str(path) for _, path in dropped]
        report["interleaved"] = ([[str(b), str(n)] for (_, b), (_, n) in zip(history, earlier_new)] if earlier_new
                                 else None)
        report["timings"] = compare_times(base, new, base_rounds or {}, new_rounds or {},
                                          history=[results for results, _ in runs],
                                          earlier_new=[results for results, _ in earlier_new], factor=factor,
                                          alpha=alpha, p_adjust=p_adjust)
        report["timings"]["raw_rounds"] = {"base": rounds_notes[0], "new": rounds_notes[1]}
    else:
        report["timings"] = None
    failures = []
    if "compression" in fail_on:
        failures += [compression_line(item) for item in report["compression"]["changes"]]
    if "claims" in fail_on:
        failures += [claim_line(item) for item in report["claims"]["changes"]]
    if "time" in fail_on and report["timings"]:
        failures += [time_line(family) for family in report["timings"]["families"] if family["verdict"] == "slower"]
    report["failures"] = failures
    report["exit_status"] = 1 if failures else 0
    return report


def _describe(results: dict, path: Path) -> dict:
    cpu, gpus = machine_class(results.get("machine"))
    return {"path": str(path), "created": results.get("created"), "profile": results["profile"].get("name"),
            "schema_version": results["schema_version"], "cpu": cpu, "gpus": list(gpus),
            "machine_class": class_slug(results), "tensorflow": results["machine"].get("tensorflow")}


def parse_fail_on(text: str) -> tuple[str, ...]:
    """An argparse type: the comma list of --fail-on (``none``: nothing fails)."""
    chosen = tuple(part.strip() for part in text.split(",") if part.strip() and part.strip() != "none")
    unknown = [part for part in chosen if part not in CATEGORIES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; choose from {','.join(CATEGORIES)} or none")
    return chosen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``compare`` sub-command's arguments (the CLI wires them in)."""
    parser.add_argument("results", type=Path, nargs="+", metavar="RESULTS",
                        help="BASE... NEW (the last BASE is compared in full; earlier ones, oldest first, only "
                             "add baseline runs for the time verdict); or NEW with --against; or the results to "
                             "store with --save")
    parser.add_argument("--against", metavar="BASELINE",
                        help="compare RESULTS with a stored baseline: latest, a number, a --save name or a path")
    parser.add_argument("--interleaved", action="store_true",
                        help="RESULTS are BASE1 NEW1 BASE2 NEW2 ...: pairs made back to back on one machine, "
                             "in the order they ran; time is judged pair by pair (a paired test over the "
                             "pairs), the last pair is compared in full")
    parser.add_argument("--history", type=argparse_type(whole_number("runs", 1), "runs"), default=DEFAULT_HISTORY,
                        metavar="N",
                        help="with --against: judge time against the N newest baselines of the machine class up "
                             f"to the chosen one (default {DEFAULT_HISTORY}; time needs at least 2)")
    parser.add_argument("--save", metavar="NAME",
                        help="store RESULTS as the next baseline of its machine class (NNNN_NAME.json) and exit")
    parser.add_argument("--allow-missing-baseline", action="store_true",
                        help="with --against: no baseline yet is a note and exit 0, not an error")
    parser.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    parser.add_argument("--output", type=Path, help="write the output here (atomically) instead of stdout")
    parser.add_argument("--fail-on", type=parse_fail_on, default=DEFAULT_FAIL_ON, metavar="LIST",
                        help="comma list of compression,claims,time (or none) that makes the exit status 1 "
                             "(default compression,claims)")
    parser.add_argument("--factor", type=argparse_type(min_factor, "factor"), default=FACTOR,
                        help=f"minimum median ratio for a time change (default {FACTOR})")
    parser.add_argument("--alpha", type=argparse_type(significance_level, "alpha"), default=ALPHA,
                        help=f"significance level (default {ALPHA})")
    parser.add_argument("--p-adjust", choices=("holm", "none"), default="holm",
                        help="adjust the Mann-Whitney p over the benchmarks compared (default holm)")
    parser.add_argument("--accuracy-tolerance", type=argparse_type(whole_number("images", 0), "images"), default=0,
                        metavar="IMAGES", help="accuracy change tolerated, in test images (default 0)")
    parser.add_argument("--show", choices=("changes", "all"), default="changes",
                        help="table rows: only changes (default) or every comparison")
    parser.add_argument("--base-benchmarks", type=Path, metavar="JSON",
                        help="pytest-benchmark JSON with BASE's raw rounds (default: the one BASE names)")
    parser.add_argument("--new-benchmarks", type=Path, metavar="JSON",
                        help="pytest-benchmark JSON with NEW's raw rounds (default: the one NEW names)")


Run = tuple[dict, Path]  # a run's results and the path they were read from


def run(args: argparse.Namespace) -> None:
    """The ``compare`` sub-command. Prints the comparison; raises RegressionsFound after printing the
    failing items one a line on stderr, PrunebenchError on bad input."""
    if args.interleaved and (args.against or args.save is not None):
        raise UsageError("--interleaved takes its pairs on the command line, not with --against or --save")
    if args.save is not None:
        _save(args)
        return
    runs = _runs(args)
    if runs is None:
        return
    (base, base_path), (new, new_path), history, earlier_new = runs
    if args.output is not None and args.output.is_dir():
        raise DataError(f"--output {args.output}: is a directory, expected a file name")
    same = same_machine_class(base, new)
    base_rounds, base_note = raw_rounds(base, base_path, args.base_benchmarks) if same else ({}, "")
    new_rounds, new_note = raw_rounds(new, new_path, args.new_benchmarks) if same else ({}, "")
    report = compare(base, new, base_path=base_path, new_path=new_path, base_rounds=base_rounds,
                     new_rounds=new_rounds, history=history, earlier_new=earlier_new,
                     rounds_notes=(base_note, new_note), factor=args.factor,
                     alpha=args.alpha, p_adjust=args.p_adjust, tolerance_images=args.accuracy_tolerance,
                     fail_on=args.fail_on)
    _write(args, report)
    if report["failures"]:
        if args.format != "table" or args.output is not None:  # the table on stdout lists them already
            for line in report["failures"]:
                print(line, file=sys.stderr)
        counts = {category: sum(line.startswith(category + ":") for line in report["failures"])
                  for category in args.fail_on}
        raise RegressionsFound(f"{len(report['failures'])} failing items ("
                               + ", ".join(f"{category} {count}" for category, count in counts.items()) + ")")


def _save(args: argparse.Namespace) -> None:
    """--save NAME: the one RESULTS file, with its raw rounds embedded, as the next baseline of its class."""
    paths = list(args.results)
    if args.against or len(paths) != 1:
        raise UsageError("--save NAME takes exactly one RESULTS file and no --against")
    results = load_for_compare(paths[0])
    rounds, note = raw_rounds(results, paths[0], args.new_benchmarks)
    path = save_baseline(with_embedded_rounds(results, rounds), paths[0], args.save)
    print(f"{path}: baseline of machine class {class_slug(results)} (raw rounds: {note})")


def _runs(args: argparse.Namespace) -> tuple[Run, Run, list[Run], list[Run]] | None:
    """(base, new, earlier baseline runs, earlier new runs of interleaved pairs) as the arguments name them;
    None when --against found no baseline and --allow-missing-baseline makes that a note."""
    paths = list(args.results)
    if args.against:
        if len(paths) != 1:
            raise UsageError("--against BASELINE takes exactly one RESULTS file (the new run)")
        new = (load_for_compare(paths[0]), paths[0])
        base_path, note = find_baseline(args.against, new[0], paths[0])
        if base_path is None:
            if args.allow_missing_baseline:
                print(f"prunebench compare: {note}; nothing compared", file=sys.stderr)  # stdout: output only
                return None
            raise DataError(note)
        print(f"prunebench compare: {note}", file=sys.stderr)
        base = (load_for_compare(base_path), base_path)
        return base, new, _loaded(earlier_baselines(base_path, args.history - 1)), []
    if args.interleaved:
        if len(paths) < 2 * MIN_PAIRS or len(paths) % 2:
            raise UsageError(f"--interleaved expects BASE1 NEW1 BASE2 NEW2 ...: an even number of at least "
                             f"{2 * MIN_PAIRS} results files, got {len(paths)}")
        runs = _loaded(paths)
        *history, base = runs[0::2]
        *earlier_new, new = runs[1::2]
        return base, new, history, earlier_new
    if len(paths) < 2:
        raise UsageError(f"expected BASE... NEW results files, got {len(paths)} (or use --against / --save)")
    *earlier, base_path, new_path = paths
    base, new = _loaded([base_path, new_path])
    return base, new, _loaded(earlier), []


def _loaded(paths: Iterable[Path]) -> list[Run]:
    return [(load_for_compare(path), path) for path in paths]


def _write(args: argparse.Namespace, report: dict) -> None:
    """The report in the chosen format, to --output (atomically) or stdout."""
    show_all = args.show == "all"
    if args.format == "json":
        text = json.dumps(report, indent=1, sort_keys=True, allow_nan=False) + "\n"
    elif args.format == "markdown":
        text = render_markdown(report, show_all)
    else:
        text = render_text(report, show_all)
    if args.output is not None:
        try:
            atomic.write_text(args.output, text)
        except OSError as error:
            raise DataError(f"--output {args.output}: cannot write ({error.strerror or error})") from None
        print(f"{args.output}: comparison written", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
