"""``prunebench interleave``: time the base and the new code in runs made back to back, pair by pair, then
judge time with ``prunebench compare --interleaved`` (the A/B of asv's ``continuous``).

Why: on shared machines a whole engine's timings move by 10-30% for minutes at a time. Baselines stored
earlier sit in another such episode than the run being judged, so no test against them can see a 25%
slowdown reliably (docs/compare.md, "Known limit"). Two runs made one right after the other share their
episode; the paired test over several pairs then sees what the code changed.

Each run is its own process (``--base`` / ``--new``, a command split like a shell line but not run by a
shell), started in its own directory with ``PRUNEBENCH_RESULTS`` set to OUT/base-NN or OUT/new-NN; its
output goes to the ``.log`` beside that. The order alternates, base first in odd pairs and new first in
even ones, so that whatever favours the first (or second) run of a pair falls on both sides alike.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from prunebench.compare.command import CATEGORIES, parse_fail_on
from prunebench.compare.command import add_arguments as add_compare_arguments
from prunebench.compare.command import run as run_compare
from prunebench.compare.stats import MIN_PAIRS
from prunebench.errors import DataError, UsageError
from prunebench.results.contract import RESULTS_FILE
from prunebench.validators import argparse_type, whole_number

DEFAULT_PAIRS = 8
SIDES = ("base", "new")
PAIRS_FILE = "pairs.txt"


def run_order(pairs: int) -> list[tuple[int, str]]:
    """(pair, side) in the order the runs are made: base, new; new, base; base, new; ..."""
    return [(pair, side) for pair in range(1, pairs + 1)
            for side in (SIDES if pair % 2 else SIDES[::-1])]


def results_dir(out: Path, pair: int, side: str) -> Path:
    return out / f"{side}-{pair:02d}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, metavar="COMMAND",
                        help="the command that benchmarks the base code, e.g. \"../base/.venv/bin/pytest bench "
                             "--profile quick\"; it must write results.json to $PRUNEBENCH_RESULTS")
    parser.add_argument("--new", required=True, metavar="COMMAND", help="the same for the new code")
    parser.add_argument("--base-dir", type=Path, default=Path("."), help="where the base command runs (default .)")
    parser.add_argument("--new-dir", type=Path, default=Path("."), help="where the new command runs (default .)")
    parser.add_argument("--pairs", type=argparse_type(whole_number("pairs", MIN_PAIRS), "pairs"), default=DEFAULT_PAIRS,
                        help=f"pairs of runs (default {DEFAULT_PAIRS}; the paired test has pairs - 1 degrees of "
                             "freedom)")
    parser.add_argument("--out", type=Path, required=True,
                        help="a new or empty directory for the runs' results and logs")
    parser.add_argument("--fail-on", type=parse_fail_on, default=CATEGORIES, metavar="LIST",
                        help="what makes the exit status 1, as for compare (default: "
                             f"{','.join(CATEGORIES)}: an A/B exists to judge time)")


def _command(text: str, option: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise UsageError(f"{option} {text!r}: {error}") from None
    if not words:
        raise UsageError(f"{option}: the command is empty")
    return words


def run(args: argparse.Namespace) -> None:
    commands = {"base": _command(args.base, "--base"), "new": _command(args.new, "--new")}
    dirs = {"base": args.base_dir, "new": args.new_dir}
    for side, directory in dirs.items():
        if not directory.is_dir():
            raise UsageError(f"--{side}-dir {directory}: not a directory")
    out = args.out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"--out {out}: exists and is not an empty directory; the runs would mix with what is there")
    out.mkdir(parents=True, exist_ok=True)
    order = run_order(args.pairs)
    for index, (pair, side) in enumerate(order, 1):
        target = results_dir(out, pair, side).resolve()
        log = target.with_suffix(".log")
        started = time.perf_counter()
        try:
            with log.open("w") as stream:
                status = subprocess.run(commands[side], cwd=dirs[side], stdout=stream, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PRUNEBENCH_RESULTS": str(target)}).returncode
        except OSError as error:
            raise DataError(f"--{side} {getattr(args, side)!r}: cannot start ({error.strerror or error})") from None
        seconds = time.perf_counter() - started
        print(f"run {index}/{len(order)}: pair {pair} {side}, {seconds:.0f} s, exit {status}", file=sys.stderr,
              flush=True)
        if status != 0 and not (target / RESULTS_FILE).is_file():
            raise DataError(f"pair {pair} {side}: the command exited with status {status} and wrote no "
                            f"{RESULTS_FILE}; its output is in {log}")
    paths = [str(results_dir(out, pair, side) / RESULTS_FILE) for pair in range(1, args.pairs + 1) for side in SIDES]
    (out / PAIRS_FILE).write_text("\n".join(paths) + "\n")
    print(f"prunebench interleave: {args.pairs} pairs in {out}; judged as "
          f"prunebench compare --interleaved $(cat {out / PAIRS_FILE})", file=sys.stderr, flush=True)
    compare = argparse.ArgumentParser(prog="prunebench compare")
    add_compare_arguments(compare)
    run_compare(compare.parse_args(["--interleaved", *paths, "--fail-on", ",".join(args.fail_on) or "none"]))
