"""Bad input at every entry point: one line naming the input and what is wrong, a non-zero exit, no traceback.

Exit codes: 2 for usage errors (argparse and ``UsageError``), 1 for bad files (``DataError``), 4 for a
bad pytest suite option (pytest's own usage-error code). The CLI runs in-process through ``main``; a few
end-to-end runs of the console script and of pytest check the same from outside. Every check reads the
whole of stderr: the error line, argparse's usage block before it for a usage error, and nothing else (no
TensorFlow C++ log, no warning).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prunebench.cli import main
from prunebench.results.contract import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
DATA_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")
TEST_IMAGES, TEST_LABELS = DATA_FILES[2], DATA_FILES[3]


def error_line(stderr: str, command: str, code: int) -> str:
    """The one error line that is the whole of ``stderr``, after argparse's usage block for a usage error."""
    assert stderr.endswith("\n") and "Traceback" not in stderr, stderr
    *usage, message = stderr.splitlines()
    if usage:  # argparse: "usage: prunebench ..." then indented continuation lines, then the error
        assert code == 2, stderr
        assert usage[0].startswith(f"usage: prunebench {command}"), stderr
        assert all(line.startswith(" ") for line in usage[1:]), stderr
    assert message.startswith(f"prunebench {command}: error: "), stderr
    return message


def refused(capsys, argv: list, code: int, *fragments: str) -> str:
    """Run ``prunebench argv`` in-process; assert the exit code, that stdout is empty, and that stderr is
    one error line holding ``fragments`` (after argparse's usage block for a usage error)."""
    try:
        exit_code = main([str(arg) for arg in argv])
    except SystemExit as stop:  # argparse
        exit_code = stop.code
    out, err = capsys.readouterr()
    assert exit_code == code, err
    assert out == "", out
    message = error_line(err, argv[0], code)
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------- files to break

def idx(dims: tuple[int, ...], payload: bytes | None = None, magic: int | None = None) -> bytes:
    header = (0x0800 | len(dims) if magic is None else magic).to_bytes(4, "big")
    header += b"".join(d.to_bytes(4, "big") for d in dims)
    return header + (bytes(math.prod(dims)) if payload is None else payload)


def data_dir(root: Path, **replace: bytes | None) -> Path:
    """Four tiny IDX files (4 blank images, labels 0); ``replace`` swaps one file's bytes, None deletes it."""
    directory = root / "mnist"
    directory.mkdir()
    files = dict.fromkeys(DATA_FILES[::2], idx((4, 28, 28))) | dict.fromkeys(DATA_FILES[1::2], idx((4,)))
    for name, content in (files | replace).items():
        if content is not None:
            (directory / name).write_bytes(content)
    return directory


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def copy_step(train_dir: Path, step: str, destination: Path) -> Path:
    return Path(shutil.copytree(train_dir / step, destination / step))


def file_contents(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_dir) -> Path:
    """A real, tiny ``train -1 -2 -3`` run (5 + 2 steps): checkpoints of every kind to corrupt copies of."""
    train_dir = tmp_path_factory.mktemp("trained") / "t"
    assert main(["train", "-1", "-2", "-3", "--train-data-dir", str(mnist_dir), "--train-dir", str(train_dir),
                 "--max-steps", "5", "--retrain-steps", "2"]) == 0
    return train_dir


@pytest.fixture
def good_data(tmp_path) -> Path:
    return data_dir(tmp_path)


@pytest.fixture
def a_file(tmp_path) -> Path:
    """A regular file: no directory can be made below it, not even by root."""
    path = tmp_path / "file.txt"
    path.write_text("not a directory\n")
    return path


# ---------------------------------------------------------------- command-line values (exit 2)

@pytest.mark.parametrize("option, value, what", [
    ("--sparse-ratio", "1.5", "'1.5' is outside [0, 1)"),
    ("--sparse-ratio", "1", "'1' is outside [0, 1)"),
    ("--sparse-ratio", "-0.1", "'-0.1' is outside [0, 1)"),
    ("--sparse-ratio", "nan", "'nan' is outside [0, 1)"),
    ("--sparse-ratio", "ninety", "'ninety' is not a number"),
    ("--pruning-variable-names", "w_fc9", "unknown pruning variable 'w_fc9'"),
    ("--pruning-variable-names", "w_fc1,w_fc1", "'w_fc1' is named more than once"),
    ("--pruning-variable-names", "", "list is empty"),
    ("--pruning-variable-names", ",", "list is empty"),
    ("--max-steps", "0", "'0' must be at least 1"),
    ("--max-steps", "-1", "'-1' must be at least 1"),
    ("--max-steps", "ten", "'ten' is not a whole number"),
    ("--retrain-steps", "0", "'0' must be at least 1"),
    ("--retrain-steps", "-2", "'-2' must be at least 1"),
    ("--batch-size", "0", "'0' must be at least 1"),
    ("--batch-size", "-32", "'-32' must be at least 1"),
    ("--seed", "-5", "'-5' must be at least 0"),
])
def test_train_refuses_a_bad_value(capsys, tmp_path, option, value, what):
    refused(capsys, ["train", "-1", "--train-dir", tmp_path / "t", option, value], 2,
            f"argument {option}: ", what)
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("option, value, what", [
    ("--max-steps", "-1", "'-1' must be at least 0"),
    ("--max-steps", "some", "'some' is not a whole number"),
    ("--batch-size", "0", "'0' must be at least 1"),
])
def test_eval_refuses_a_bad_value(capsys, tmp_path, option, value, what):
    refused(capsys, ["eval-dense", "--checkpoint-dir", tmp_path, option, value], 2, f"argument {option}: ", what)


def test_train_without_a_step_is_a_usage_error(capsys, tmp_path):
    refused(capsys, ["train", "--train-dir", tmp_path / "t"], 2, "choose at least one step")


@pytest.mark.parametrize("value, what", [
    ("lzma", "unknown storage format 'lzma': choose from dense-float32,"),
    ("bitmask,bitmask", "names a format twice"),
    (",", "format list is empty"),
])
def test_build_refuses_a_bad_format_list(capsys, tmp_path, value, what):
    refused(capsys, ["build", "--cache", tmp_path / "c", "--formats", value], 2, "argument --formats: ", what)
    assert not (tmp_path / "c").exists()


# ---------------------------------------------------------------- MNIST files (exit 1)

@pytest.mark.parametrize("replace, what", [
    ({TEST_LABELS: None}, "missing MNIST file t10k-labels-idx1-ubyte"),
    ({TEST_LABELS: b""}, "t10k-labels-idx1-ubyte: empty file"),
    ({TEST_IMAGES: idx((4, 28, 28), magic=0x12345678)}, "t10k-images-idx3-ubyte: bad magic number 0x12345678"),
    ({TEST_IMAGES: idx((4, 28, 28), magic=0x0D03)}, "t10k-images-idx3-ubyte: IDX type code 0x0d"),
    ({TEST_IMAGES: idx((4, 28, 27))}, "t10k-images-idx3-ubyte: images are 28x27, expected 28x28"),
    ({TEST_LABELS: idx((4, 1))}, "t10k-labels-idx1-ubyte: IDX header has 2 dimensions, expected 1"),
    ({TEST_IMAGES: idx((4, 28, 28))[:-100]}, "t10k-images-idx3-ubyte: truncated: header says 4 items"),
    ({TEST_IMAGES: idx((4, 28, 28))[:10]}, "t10k-images-idx3-ubyte: truncated IDX header"),
    ({TEST_IMAGES: idx((4, 28, 28)) + b"\0"}, "t10k-images-idx3-ubyte: 1 trailing bytes"),
    ({TEST_IMAGES: gzip.compress(idx((4, 28, 28)))[:-20]}, "t10k-images-idx3-ubyte: corrupt gzip data"),
    ({TEST_LABELS: idx((5,))}, "t10k-labels-idx1-ubyte holds 5 labels but t10k-images-idx3-ubyte holds 4"),
    ({TEST_LABELS: idx((4,), bytes([1, 2, 10, 3]))}, "label 10 at index 2 is outside 0-9"),
    ({DATA_FILES[1]: idx((4,), bytes([0, 255, 0, 0]))}, "train-labels-idx1-ubyte: label 255 at index 1"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_eval_refuses_a_bad_data_file(capsys, tmp_path, trained, replace, what):
    refused(capsys, ["eval-dense", "--test-data-dir", data_dir(tmp_path, **replace),
                     "--checkpoint-dir", trained / "step_2_2"], 1, what)


def test_a_missing_or_non_directory_data_dir_is_refused(capsys, tmp_path, a_file):
    argv = ["train", "-1", "--train-dir", tmp_path / "t", "--train-data-dir"]
    refused(capsys, [*argv, tmp_path / "nowhere"], 1, f"{tmp_path / 'nowhere'}: MNIST data directory does not exist")
    refused(capsys, [*argv, a_file], 1, f"{a_file}: MNIST data path is not a directory")
    refused(capsys, [*argv, ""], 2, "empty path")
    assert not (tmp_path / "t").exists()


# ---------------------------------------------------------------- checkpoints (exit 1)

def corrupt_checkpoint(trained: Path, root: Path, how: str) -> Path:
    if how == "missing":
        return root / "no-such-step"
    if how == "empty":
        (root / "empty").mkdir()
        return root / "empty"
    step = copy_step(trained, "step_3" if how.startswith("sparse") else "step_2_2", root)
    if how.endswith("truncated data"):
        truncate(step / "model.ckpt.data-00000-of-00001")
    elif how == "truncated index":
        truncate(step / "model.ckpt.index")
    elif how == "no data file":
        (step / "model.ckpt.data-00000-of-00001").unlink()
    elif how == "corrupt manifest":
        (step / "manifest.json").write_text('{"kind": ')
    return step


UNREADABLE = "is unreadable (truncated or corrupt?)"
# How a checkpoint is damaged -> the command that reads it and what its one line says.
BAD_CHECKPOINTS = {
    "missing": ("eval-dense", "does not exist or is not a directory"),
    "empty": ("eval-sparse", "holds no prunebench checkpoint (manifest.json missing)"),
    "truncated data": ("eval-dense", UNREADABLE),
    "sparse truncated data": ("eval-sparse", UNREADABLE),
    "truncated index": ("eval-dense", UNREADABLE),
    "no data file": ("eval-dense", UNREADABLE),
    "corrupt manifest": ("eval-dense", "manifest.json: unreadable manifest"),
    "dense": ("eval-sparse", "is a dense checkpoint (step_1 or step_2_2); this needs a sparse model (step_3)"),
    "sparse": ("eval-dense", "is a sparse model (step_3); this needs a dense checkpoint (step_1 or step_2_2)"),
}


@pytest.mark.parametrize("how", BAD_CHECKPOINTS)
def test_eval_refuses_a_bad_checkpoint(capsys, tmp_path, trained, good_data, how):
    command, what = BAD_CHECKPOINTS[how]
    checkpoint = corrupt_checkpoint(trained, tmp_path, how)
    refused(capsys, [command, "--test-data-dir", good_data, "--checkpoint-dir", checkpoint], 1, str(checkpoint),
            what)


def test_prune_refuses_a_truncated_baseline(capsys, tmp_path, trained, good_data):
    truncate(copy_step(trained, "step_1", tmp_path / "t") / "model.ckpt.data-00000-of-00001")
    refused(capsys, ["train", "-2", "--train-data-dir", good_data, "--train-dir", tmp_path / "t"], 1,
            str(tmp_path / "t" / "step_1"), "unreadable (truncated or corrupt?)")
    assert sorted(path.name for path in (tmp_path / "t").iterdir()) == ["step_1"]


@pytest.mark.parametrize("data, what", [("missing dir", "does not exist"), ("truncated file", "truncated IDX header")])
def test_a_failing_run_leaves_what_was_written_intact(capsys, tmp_path, trained, data, what):
    copy_step(trained, "step_1", tmp_path / "t")
    before = file_contents(tmp_path / "t")
    bad = tmp_path / "nowhere" if data == "missing dir" else data_dir(tmp_path, **{TEST_IMAGES: b"\0\0\x08\x03"})
    refused(capsys, ["train", "-2", "-3", "--train-data-dir", bad, "--train-dir", tmp_path / "t"], 1, what)
    assert file_contents(tmp_path / "t") == before  # step_1 byte-identical, nothing half-written beside it


# ---------------------------------------------------------------- outputs that cannot be written (exit 1)

def test_train_refuses_an_unwritable_train_dir_before_training(capsys, tmp_path, good_data, a_file):
    out = a_file / "out"
    refused(capsys, ["train", "-1", "--train-data-dir", good_data, "--train-dir", out], 1,
            f"--train-dir {out}: cannot create the directory: Not a directory")
    refused(capsys, ["train", "-1", "--train-data-dir", good_data, "--train-dir", tmp_path / "t",
                     "--variables-dir", out], 1, f"--variables-dir {out}: cannot create")


def test_eval_refuses_an_unwritable_json_before_evaluating(capsys, tmp_path, trained, good_data, a_file):
    argv = ["eval-dense", "--test-data-dir", good_data, "--checkpoint-dir", trained / "step_2_2", "--json"]
    refused(capsys, [*argv, a_file / "result.json"], 1, f"--json {a_file / 'result.json'}: cannot create",
            f"{a_file} is a file")
    refused(capsys, [*argv, tmp_path], 1, f"--json {tmp_path}: is a directory")


# ---------------------------------------------------------------- results JSON (exit 1)

def minimal_results(**changes) -> dict:
    results = {"schema_version": SCHEMA_VERSION, "kind": "prunebench-results", "created": "2020-01-01T00:00:00+00:00",
               "profile": {"name": "quick", "ratios": [], "seeds": [], "variables": []}, "machine": {},
               "models": [], "claims": [], "phases": {}}
    return results | changes


@pytest.mark.parametrize("content, what", [
    ("{\"schema_version\": 1,", "not valid JSON"),
    ("\xff\xfe", "cannot read results file"),
    (json.dumps([1, 2]), "top level is list, expected an object"),
    (json.dumps(minimal_results(schema_version=999)), "schema_version is 999, this code reads "),
    (json.dumps(minimal_results(kind="pytest-benchmark")), "kind is 'pytest-benchmark'"),
    (json.dumps(minimal_results(models=[{"ratio": 0.5}])), "models[0] lacks required key 'seed'"),
])
def test_report_refuses_a_bad_results_file(capsys, tmp_path, content, what):
    path = tmp_path / "results.json"
    path.write_bytes(content.encode("latin-1"))
    refused(capsys, ["report", path], 1, str(path), what)


def test_report_refuses_a_missing_results_file_and_an_unwritable_out(capsys, tmp_path, a_file):
    refused(capsys, ["report", tmp_path / "results.json"], 1, "results file not found")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(minimal_results()))
    refused(capsys, ["report", good, "--out", a_file / "out"], 1, f"--out {a_file / 'out'}: cannot create")
    refused(capsys, ["report", good, good], 2, "report: give --out")


# ---------------------------------------------------------------- end to end: console script and pytest

def run(argv: list, **env: str) -> subprocess.CompletedProcess:
    """Run a command as a user would: no TensorFlow log settings inherited from this test process."""
    environ = {key: value for key, value in os.environ.items()
               if key not in ("TF_CPP_MIN_LOG_LEVEL", "PRUNEBENCH_TF_LOG")}
    return subprocess.run([str(arg) for arg in argv], cwd=ROOT, env=environ | env, capture_output=True,
                          text=True, timeout=120)


def prunebench() -> str:
    return shutil.which("prunebench") or "prunebench"


def console_cases(tmp_path: Path, trained: Path, a_file: Path) -> dict[str, tuple[list, int, str]]:
    """Bad input for every command of the console script: argv, exit code, part of the error line."""
    part = tmp_path / "part.json"
    part.write_text(json.dumps(minimal_results()))
    return {
        "train usage": (["train", "-1", "--train-dir", tmp_path, "--max-steps", "-1"], 2, "--max-steps: value '-1'"),
        "train no step": (["train", "--train-dir", tmp_path], 2, "choose at least one step"),
        "train data": (["train", "-2", "--train-data-dir", tmp_path / "nowhere", "--train-dir", tmp_path], 1,
                       "MNIST data directory does not exist"),
        "train step": (["train", "-3", "--train-dir", tmp_path / "t"], 1, "step 3 needs"),
        "eval-dense dir": (["eval-dense", "--checkpoint-dir", tmp_path / "nowhere"], 1, "does not exist"),
        "eval-sparse kind": (["eval-sparse", "--checkpoint-dir", trained / "step_2_2"], 1, "is a dense checkpoint"),
        "report json": (["report", a_file], 1, "not valid JSON"),
        "report missing": (["report", "--results-dir", tmp_path / "nowhere"], 1, "results file not found"),
        "report results-dir": (["report", "--results-dir", a_file], 2, f"'{a_file}' is not a directory"),
        "merge": (["merge", "-o", tmp_path / "merged.json", part, tmp_path / "nowhere.json"], 1,
                  "results file not found"),
    }


CONSOLE_CASES = ["train usage", "train no step", "train data", "train step", "eval-dense dir", "eval-sparse kind",
                 "report json", "report missing", "report results-dir", "merge"]


@pytest.mark.parametrize("case", CONSOLE_CASES)
def test_the_console_script_prints_one_line(tmp_path, trained, a_file, case):
    argv, code, what = console_cases(tmp_path, trained, a_file)[case]
    done = run([prunebench(), *argv])
    assert done.returncode == code, done.stderr
    assert done.stdout == "", done.stdout
    assert what in error_line(done.stderr, argv[0], code), done.stderr


@pytest.mark.parametrize("case", [case for case in CONSOLE_CASES if case != "eval-sparse kind"])
def test_bad_arguments_and_paths_are_refused_before_tensorflow_is_imported(tmp_path, trained, a_file, case):
    """Checking a path takes a tenth of a second; importing TensorFlow first took three."""
    argv, code, what = console_cases(tmp_path, trained, a_file)[case]
    script = ("import sys\nfrom prunebench.cli import main\ntry:\n    code = main(sys.argv[1:])\n"
              "except SystemExit as stop:\n    code = stop.code\nprint(code, 'tensorflow' in sys.modules)\n")
    done = run([sys.executable, "-c", script, *argv])
    assert done.stdout.split() == [str(code), "False"], done.stdout + done.stderr
    assert what in error_line(done.stderr, argv[0], code), done.stderr


def test_a_good_run_writes_nothing_to_stderr(trained, mnist_dir):
    """TensorFlow's C++ log stays off stderr past the import too (first op, first graph, first checkpoint)."""
    done = run([prunebench(), "eval-sparse", "--checkpoint-dir", trained / "step_3", "--test-data-dir", mnist_dir,
                "--max-steps", "1"])
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "accuracy" in done.stdout


@pytest.mark.parametrize("env", [{"PRUNEBENCH_TF_LOG": "1"}, {"TF_CPP_MIN_LOG_LEVEL": "0"}])
def test_tensorflow_log_shows_when_asked_for_and_the_error_stays_last(trained, env):
    done = run([prunebench(), "eval-sparse", "--checkpoint-dir", trained / "step_2_2"], **env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1].startswith("prunebench eval-sparse: error: "), done.stderr


@pytest.mark.parametrize("command", [[], ["train"], ["eval-dense"], ["eval-sparse"], ["merge"], ["report"]])
def test_help_is_plain_text(capsys, command):
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    out, err = capsys.readouterr()
    assert stop.value.code == 0 and err == ""
    assert out.startswith(f"usage: prunebench {' '.join(command)}".rstrip()) and "``" not in out, out


# pytest's own report of a bad option: the error line, and for an argparse type error its usage line before
# and the ini file and root directory after.
PYTEST_USAGE = ("ERROR: usage: ", "  inifile: ", "  rootdir: ")


@pytest.mark.parametrize("option, value, what", [
    ("--ratios", "1.5", "pruning ratio '1.5' is outside [0, 1)"),
    ("--seeds", "0", "value '0' must be at least 1"),
    ("--pruning-variable-names", "w_fc9", "unknown pruning variable 'w_fc9'"),
    ("--engines", "nope", "unknown engine 'nope'"),
    ("--results-dir", "pyproject.toml", "'pyproject.toml' is not a directory"),
])
def test_the_suite_refuses_a_bad_option_in_one_line(option, value, what):
    """Before TensorFlow is imported, but for an unknown engine: only the engine registry, which imports it,
    knows the engines' names (``SuiteConfig.from_options`` asks for them last)."""
    argv = ["bench", "--collect-only", "-q", "-p", "no:cacheprovider", option, value]
    report = "import sys, pytest; code = pytest.main(sys.argv[1:]); print('tensorflow' in sys.modules); sys.exit(code)"
    done = run([sys.executable, "-c", report, *argv])
    assert done.returncode in (2, 4) and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.splitlines()[-1:] == [str(option == "--engines")], done.stdout
    errors = [line for line in done.stderr.splitlines() if option in line and what in line]
    assert len(errors) == 1, done.stderr
    others = [line for line in done.stderr.splitlines() if line not in errors]
    assert all(line.startswith(PYTEST_USAGE) or not line for line in others), done.stderr
