"""``prunebench interleave``: the pairs are run in alternating order, each in its own process and results
directory, and judged by the paired test; failures are one line. The benchmark commands here are small
scripts that write results (the real suite's A/B series is in docs/compare.md)."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest

from prunebench.cli import main
from prunebench.compare.interleave import run_order


def test_run_order_alternates_which_side_goes_first():
    assert run_order(3) == [(1, "base"), (1, "new"), (2, "new"), (2, "base"), (3, "base"), (3, "new")]


def test_unchanged_pairs_pass_and_are_listed(tmp_path, writer, capsys):
    command, order = writer
    out = tmp_path / "ab"
    assert main(["interleave", "--base", command("base"), "--new", command("new"), "--pairs", "3",
                 "--out", str(out)]) == 0
    assert order.read_text().split() == ["base", "new", "new", "base", "base", "new"]
    listed = (out / "pairs.txt").read_text().split()
    assert listed == [str(out / f"{side}-{pair:02d}" / "results.json")
                      for pair in (1, 2, 3) for side in ("base", "new")]
    assert all(Path(path).is_file() for path in listed) and (out / "new-02.log").is_file()
    captured = capsys.readouterr()
    assert "run 6/6: pair 3 new" in captured.err and "over 3 interleaved pairs" in captured.out
    assert "PASSED" in captured.out


def test_a_slowed_engine_fails_on_time(tmp_path, writer, capsys):
    command, _ = writer
    assert main(["interleave", "--base", command("base"), "--new", command("new", "tf-sparse", 1.5), "--pairs", "3",
                 "--out", str(tmp_path / "ab")]) == 1
    out = capsys.readouterr().out
    slower = [line for line in out.splitlines() if line.startswith("time:")]
    assert slower and all(line.startswith("time: tf-sparse/") for line in slower)
    assert all(abs(float(re.search(r" slower x([0-9.]+) ", line).group(1)) - 1.5) < 0.02 for line in slower)


def test_bad_runs_and_places_are_one_line(tmp_path, writer, capsys):
    command, _ = writer
    out = tmp_path / "ab"
    assert main(["interleave", "--base", f"{sys.executable} -c 'raise SystemExit(3)'", "--new", command("new"),
                 "--pairs", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"prunebench interleave: error: pair 1 base: the command exited with status 3 and wrote no "
                       f"results.json; its output is in {(out / 'base-01.log').resolve()}")
    # a directory that is not empty is never written into
    assert main(["interleave", "--base", command("base"), "--new", command("new"), "--out", str(out)]) == 1
    assert "exists and is not an empty directory" in capsys.readouterr().err
    assert main(["interleave", "--base", "'unclosed", "--new", command("new"), "--out", str(tmp_path / "x")]) == 2
    assert "--base \"'unclosed\": No closing quotation" in capsys.readouterr().err
    assert main(["interleave", "--base", "no-such-program-here", "--new", command("new"),
                 "--out", str(tmp_path / "y")]) == 1
    assert "cannot start" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["interleave", "--base", "a", "--new", "b", "--out", str(tmp_path / "z"), "--pairs", "1"])
    assert stop.value.code == 2 and "must be >= 2" in capsys.readouterr().err


def test_interleaved_results_must_be_one_machine(tmp_path, writer, capsys):
    command, _ = writer
    template = json.loads(Path(command("base").split()[2]).read_text())
    other = copy.deepcopy(template)
    other["machine"]["cpu"] = "Intel Xeon"
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(other))
    new = command("new").replace(str(command("base").split()[2]), str(foreign))
    assert main(["interleave", "--base", command("base"), "--new", new, "--pairs", "2",
                 "--out", str(tmp_path / "ab")]) == 1
    assert "interleaved runs are made on one machine" in capsys.readouterr().err
