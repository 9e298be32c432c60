"""Every option declared once, shared by the ``prunebench`` command line and the pytest suite.

Both argparse and pytest's ``parser.addoption`` take the same arguments, so one ``Option`` adds itself
to either. Values are checked by the parsers below and the number parsers of ``prunebench.validators``:
a bad value is a one-line usage error naming it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prunebench.errors import UsageError
from prunebench.model.workloads import DEFAULT_WORKLOAD, WORKLOADS
from prunebench.prune.formats.registry import parse_formats
from prunebench.prune.methods import DEFAULT_METHOD, METHODS, parse_methods
from prunebench.prune.ratio import parse_ratio
from prunebench.validators import argparse_type, margin, non_negative_int, positive_int
from prunebench.verdicts.margins import DEFAULT_ACCURACY_MARGIN, DEFAULT_TIME_MARGIN


def directory_path(text: str) -> Path:
    """A directory to write into: it may not exist yet, but it may not be an existing file."""
    if not text.strip():
        raise UsageError("empty path")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{text!r} is not a directory")
    return path


def ratio_list(text: str) -> tuple[float | str, ...]:
    """Ratios, and names of a workload's per-layer ratio maps (``han``: checked against the workload later)."""
    ratios = tuple(part.strip() if part.strip().isidentifier() else parse_ratio(part)
                   for part in text.split(",") if part.strip())
    if not ratios:
        raise UsageError("ratio list is empty")
    if len(set(ratios)) != len(ratios):
        raise UsageError(f"ratio list {text!r} names a ratio twice")
    return ratios


def variable_list(text: str) -> str:
    """``--pruning-variable-names``: kept as text until the workload, whose variables it names, is known
    (``prune.policy.parse_variable_names``)."""
    if not text.strip():
        raise UsageError("pruning variable list is empty")
    return text.strip()


def workload_name(text: str) -> str:
    """``--workload``: a registered name or package.module:factory, resolved (and imported) by the suite."""
    if not text.strip():
        raise UsageError("empty workload")
    return text.strip()


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    dest: str
    parse: Callable[[str], Any] | None
    default: Any
    help: str
    extra: dict = field(default_factory=dict)

    def add_to(self, add: Callable[..., Any], *aliases: str, **overrides: Any) -> None:
        """``add`` is ``ArgumentParser.add_argument`` or pytest's ``parser.addoption``; ``aliases`` are
        extra flags, e.g. the paper's ``--train-data-dir`` for ``--data-dir``."""
        kwargs = {"dest": self.dest, "default": self.default, "help": self.help, **self.extra}
        if self.parse is not None:
            kwargs["type"] = argparse_type(self.parse, self.dest)
        kwargs.update(overrides)
        add(*aliases, *self.flags, **kwargs)


DATA_DIR = Option(("--data-dir",), "data_dir", None, None,
                  "directory of the four MNIST IDX files (gz or raw); default $MNIST_DIR, else Keras' download")
MAX_STEPS = Option(("--max-steps",), "max_steps", positive_int, None, "training steps (step 1)")
BATCH_SIZE = Option(("--batch-size",), "batch_size", positive_int, None, "batch size")
RETRAIN_STEPS = Option(("--retrain-steps",), "retrain_steps", positive_int, None,
                       "retraining steps after pruning (step 2); default: max-steps // 5")
VARIABLES = Option(("--pruning-variable-names",), "pruning_variable_names", variable_list, None,
                   "comma list of kernels to prune or 'all' (default: the workload's, w_fc1,w_fc2 for the paper's CNN)")
WORKLOAD = Option(("--workload",), "workload", workload_name, None,
                  f"the network: {', '.join(WORKLOADS)} (default {DEFAULT_WORKLOAD}), or package.module:factory "
                  "returning a keras.Model or a Workload (docs/workloads.md)")
DETERMINISTIC = Option(("--deterministic",), "deterministic", None, False,
                       "enable TensorFlow op determinism: identical weights run to run (slower)",
                       {"action": "store_true"})
RATIOS = Option(("--ratios",), "ratios", ratio_list, None,
                "comma list of pruning ratios in [0, 1), or of a workload's per-layer ratio maps (han: Han et al.'s "
                "for the LeNets)")
SEEDS = Option(("--seeds",), "seeds", positive_int, None, "number of seeds (models) per ratio")
FIRST_SEED = Option(("--first-seed",), "first_seed", non_negative_int, 0,
                    "first seed of the range, to split a sweep's seeds across machines (default 0)")
ENGINES = Option(("--engines",), "engines", None, None, "comma list of inference engines to benchmark")
PROFILE = Option(("--profile",), "profile", None, "quick",
                 "suite profile: quick (CI, minutes), paper (the paper's protocol) or methods (pruning methods "
                 "compared at high ratios)",
                 {"choices": ("quick", "paper", "methods")})
METHODS_OPTION = Option(("--methods",), "methods", parse_methods, None,
                        f"comma list of pruning methods ({', '.join(METHODS)}); default: the profile's "
                        f"({DEFAULT_METHOD}, the paper's, except in the methods profile)")
FORMATS_OPTION = Option(("--formats",), "formats", parse_formats, None,
                        "comma list of storage formats for each model's size table (default: the profile's; the "
                        "quick profile measures a smaller table than the others, docs/usage.md)")
RESULTS_DIR = Option(("--results-dir",), "results_dir", directory_path, None,
                     "directory of results.json, report.md, figures and benchmark JSON (default $PRUNEBENCH_RESULTS, "
                     "else results/ of the checkout, else of the working directory)")


# Equivalence margins of the absence claims (b) and (c); why these defaults: docs/verdicts.md.
ACCURACY_MARGIN = Option(("--accuracy-margin",), "accuracy_margin", margin, DEFAULT_ACCURACY_MARGIN,
                         "claim (b): largest accuracy change from the baseline that counts as none, as a "
                         f"fraction (default {DEFAULT_ACCURACY_MARGIN}, i.e. 1 percentage point)")
TIME_MARGIN = Option(("--time-margin",), "time_margin", margin, DEFAULT_TIME_MARGIN,
                     "claim (c): largest relative change of prediction time from the baseline that counts as "
                     f"none (default {DEFAULT_TIME_MARGIN}, i.e. 10%)")

RAY = Option(("--ray",), "ray", None, None,
             "build the models on this Ray cluster (host:port, ray://host:port, or auto: $RAY_ADDRESS), one "
             "task per model into the shared cache ($PRUNEBENCH_CACHE: a directory every node mounts or an "
             "fsspec URL), then time serially here from it (needs the ray extra)", {"metavar": "ADDRESS"})

SUITE_OPTIONS = (PROFILE, ACCURACY_MARGIN, TIME_MARGIN, DATA_DIR, MAX_STEPS, BATCH_SIZE, RETRAIN_STEPS, VARIABLES,
                 RATIOS, SEEDS, FIRST_SEED, ENGINES,
                 DETERMINISTIC, RESULTS_DIR, METHODS_OPTION, WORKLOAD, FORMATS_OPTION, RAY)


def use_results_dir(directory: Path | None) -> None:
    """Make ``--results-dir`` the results directory of this process and its children (``paths.results_dir``
    reads ``PRUNEBENCH_RESULTS``); absolute, since some code changes directory. None leaves it as it is."""
    if directory is not None:
        os.environ["PRUNEBENCH_RESULTS"] = str(Path(directory).resolve())


def default_retrain_steps(max_steps: int) -> int:
    return max(1, max_steps // 5)
