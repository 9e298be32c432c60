"""The benchmark suite's configuration and bookkeeping, kept out of conftest.py so it can be tested.

A profile fixes the paper's protocol (or a CI-sized one); single options override single fields.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prunebench.errors import UsageError
from prunebench.model.constants import DEVICES  # noqa: F401  (bench/ imports DEVICES from here)
from prunebench.model.workloads import DEFAULT_WORKLOAD, PAPER_CNN, Workload, get_workload, prunable, shapes
from prunebench.prune.methods import DEFAULT_METHOD, METHODS, check_variables, removes_neurons
from prunebench.prune.policy import parse_variable_names
from prunebench.prune.ratio import overall_ratio
from prunebench.results.profiles import PROFILES, SHARED_SETTINGS
from prunebench.results.spec import ModelSpec, Settings
from prunebench.suite.rounds import ORDER_SEED

# FC1 alone, on the baseline's w_fc1 pruned by magnitude at these ratios (issue: where sparse pays off).
FC1_RATIOS = (0.0, 0.5, 0.7, 0.9, 0.95, 0.99)
BLOCK_FC1_RATIOS = tuple(ratio for ratio in FC1_RATIOS if ratio >= 0.9)  # FC1 in 1x4 blocks, the goals' range
# The ratios each FC1 scope is timed at: neuron pruning removes whole neurons at the weight-by-weight ratios.
SCOPE_RATIOS = {"fc1": FC1_RATIOS, "fc1-neurons": FC1_RATIOS, "fc1-blocks": BLOCK_FC1_RATIOS}
# Whole-network engines per profile: the paper's two networks in CI, every engine for the paper profile.
NETWORK_ENGINES = {"quick": ("tf-dense", "tf-sparse"), "paper": None, "methods": ("tf-dense", "tf-sparse")}
# The profile whose steps and batch are each workload's own protocol (model/workloads/base.py Training): the
# paper's protocol for the paper's CNN, Han et al.'s anchor for a LeNet.
OWN_PROTOCOL_PROFILE = "paper"


@dataclass(frozen=True)
class SuiteConfig:
    profile: str
    settings: Settings  # seed is per model; this one's is unused
    ratios: tuple[float, ...]
    seeds: tuple[int, ...]
    network_engines: tuple[str, ...]
    fc1_engines: tuple[str, ...]
    data_dir: str | None
    eval_images: int
    batches: tuple  # FC1 benchmarks
    network_batches: tuple  # whole-network benchmarks, the time verdicts' subjects
    accuracy_margin: float
    time_margin: float
    methods: tuple[str, ...] = (DEFAULT_METHOD,)  # pruning methods (prune/methods/), each at every ratio and seed
    workload: Workload = PAPER_CNN  # the network (model/workloads/); settings.workload names it unless the paper's
    policies: tuple[str, ...] = ()  # the workload's per-layer ratio maps (``--ratios han``), each beside the ratios
    formats: tuple[str, ...] = SHARED_SETTINGS["formats"]  # the storage formats of each model's size table

    @classmethod
    def from_options(cls, get, available_engines: Callable[[], tuple[str, ...]]) -> SuiteConfig:
        """``get(dest)`` reads one parsed option (pytest's ``config.getoption``); ``available_engines()`` gives the
        registered engines' names, asked for only once the other options are good (the registry imports
        TensorFlow: a bad ratio or variable name is refused without waiting for it)."""
        profile = PROFILES[get("profile")]
        workload = _named("--workload", get_workload, get("workload") or DEFAULT_WORKLOAD)
        if get("profile") == OWN_PROTOCOL_PROFILE:  # the paper CNN's is the paper profile's, number for number
            training = workload.training
            profile = {**profile, "max_steps": training.steps, "batch_size": training.batch_size,
                       "retrain_steps": training.retrain_steps}
        max_steps = get("max_steps") or profile["max_steps"]
        retrain_steps = get("retrain_steps") or (profile["retrain_steps"] if not get("max_steps")
                                                 else max(1, max_steps // 5))
        variables = get("pruning_variable_names")
        settings = Settings(max_steps=max_steps, batch_size=get("batch_size") or profile["batch_size"],
                            retrain_steps=retrain_steps, seed=0,
                            variables=_named("--pruning-variable-names", parse_variable_names, variables,
                                             prunable(workload)) if variables else workload.default_pruned,
                            deterministic=bool(get("deterministic")),
                            workload=None if workload.name == DEFAULT_WORKLOAD else workload.name)
        methods = tuple(get("methods") or profile.get("methods") or (DEFAULT_METHOD,))
        check_variables(methods, settings.variables)
        narrowing = [method for method in methods if removes_neurons(method)]
        if narrowing and settings.workload is not None:  # the engines narrow the paper CNN's fc1 only
            raise UsageError(f"method {narrowing[0]!r} removes the paper CNN's fc1 neurons; workload "
                             f"{workload.name} takes the other methods")
        chosen = get("ratios") or profile["ratios"]
        policies = tuple(ratio for ratio in chosen if isinstance(ratio, str))
        for policy in policies:
            check_policy(workload, policy, settings.variables, methods)
        ratios = tuple(r for r in chosen if not isinstance(r, str) and r > 0)
        if not ratios and not policies:
            raise UsageError("--ratios: give at least one ratio above 0 (ratio 0, the baseline, is always run)")
        available = tuple(available_engines())
        engines = _engine_list(get("engines"), available) or NETWORK_ENGINES[get("profile")] or available
        return cls(profile=get("profile"), settings=settings, ratios=tuple(sorted(ratios)),
                   seeds=tuple(range(get("first_seed"), get("first_seed") + (get("seeds") or profile["seeds"]))),
                   network_engines=tuple(engines),
                   fc1_engines=tuple(engines if get("engines") else available),
                   data_dir=get("data_dir"), eval_images=profile["eval_images"], batches=profile["batches"],
                   network_batches=profile["network_batches"], accuracy_margin=get("accuracy_margin"),
                   time_margin=get("time_margin"),
                   methods=methods, workload=workload, policies=policies,
                   formats=tuple(get("formats") or profile.get("formats", SHARED_SETTINGS["formats"])))

    def model_specs(self) -> list[ModelSpec]:
        """Baselines (ratio 0) first, then every (ratio, seed) in an order uncorrelated with the ratio.

        Tests run in this order, so the benchmarks do: were they sorted by ratio, any drift of the
        machine over the run (warm-up, heat, a background job) would correlate with the ratio and could
        pass for the very correlation claim (c) is about. A plain shuffle is not enough: the first one
        tried here had rank correlation 0.52 with the ratio, and warm-up drift refuted (c) for tf-dense.
        """
        pruned = [ModelSpec(ratio, seed, method) for method in self.methods for ratio in self.ratios
                  for seed in self.seeds]
        totals = {name: math.prod(shape) for name, shape in shapes(self.workload).items()
                  if name in self.settings.variables}
        pruned += [ModelSpec(overall_ratio(self.workload.ratio_presets[policy], totals), seed, method, policy)
                   for method in self.methods for policy in self.policies for seed in self.seeds]
        return [ModelSpec(0.0, seed) for seed in self.seeds] + decorrelated_order(pruned)

    def profile_record(self) -> dict:
        s = self.settings
        return {"name": self.profile, "max_steps": s.max_steps, "batch_size": s.batch_size,
                "retrain_steps": s.retrain_steps, "ratios": list(self.ratios), "seeds": list(self.seeds),
                "variables": list(s.variables), "learning_rate": self.workload.training.learning_rate,
                "eval_images": self.eval_images,
                **({} if self.methods == (DEFAULT_METHOD,) else {"methods": list(self.methods)}),
                **({} if self.formats == SHARED_SETTINGS["formats"] else {"formats": list(self.formats)}),
                **({} if s.workload is None else {"workload": s.workload}),
                **({} if not self.policies else {"policies": {policy: dict(self.workload.ratio_presets[policy])
                                                              for policy in self.policies}})}

    def margins(self) -> dict:
        return {"accuracy": self.accuracy_margin, "time": self.time_margin}


def _named(option: str, parse, *args):
    """``parse(*args)``, its usage error naming the option it came from (as argparse names it)."""
    try:
        return parse(*args)
    except UsageError as error:
        message = str(error)
        raise UsageError(message if message.startswith(option) else f"{option}: {message}") from None


def check_policy(workload: Workload, policy: str, variables: tuple[str, ...], methods: tuple[str, ...]) -> None:
    """A per-layer ratio map must be the workload's, name exactly the pruned variables and meet methods that
    rank each layer on its own."""
    presets = workload.ratio_presets
    if policy not in presets:
        known = f"it has {', '.join(presets)}" if presets else "it has none"
        raise UsageError(f"--ratios: workload {workload.name} has no per-layer ratio map {policy!r} ({known})")
    if set(presets[policy]) != set(variables):
        raise UsageError(f"--ratios {policy}: the map names {', '.join(presets[policy])}; the pruned variables are "
                         f"{', '.join(variables)}")
    for method in methods:
        if METHODS[method].ranking != "layer":
            raise UsageError(f"--ratios {policy}: method {method!r} ranks by {METHODS[method].ranking}, not per layer")


def decorrelated_order(specs: list[ModelSpec]) -> list[ModelSpec]:
    """The first seeded shuffle whose run order has |Spearman rho| <= 0.1 with the ratio, else the least
    correlated of 1,000 tries (a handful of models cannot do better); deterministic either way."""
    ratios = [spec.ratio for spec in specs]
    if len(set(ratios)) < 2:
        return list(specs)
    best, best_rho = list(range(len(specs))), float("inf")
    for seed in range(ORDER_SEED, ORDER_SEED + 1_000):
        order = list(range(len(specs)))
        random.Random(seed).shuffle(order)
        rho = abs(_rank_correlation(order, ratios))
        if rho < best_rho:
            best, best_rho = order, rho
        if rho <= 0.1:
            break
    return [specs[i] for i in best]


def _rank_correlation(order: list[int], ratios: list[float]) -> float:
    """Spearman rho between position in the run and ratio."""
    from scipy.stats import spearmanr

    return float(spearmanr(range(len(order)), [ratios[i] for i in order]).statistic)


def _engine_list(text: str | None, available: tuple[str, ...]) -> tuple[str, ...] | None:
    if not text:
        return None
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        if name not in available:
            raise UsageError(f"--engines: unknown engine {name!r}: choose from {', '.join(available)}")
    if not names:
        raise UsageError("--engines: the list is empty")
    return names


CPU_OVERRIDE = "PRUNEBENCH_CPU"  # names the CPU model instead of /proc/cpuinfo: how a run is judged on another class


def cpu_model() -> str:
    """The CPU model name, the first half of the machine class (``claims.machine_class``)."""
    if os.environ.get(CPU_OVERRIDE, "").strip():
        return os.environ[CPU_OVERRIDE].strip()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_record() -> dict:
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "python": platform.python_version(), "cpu": cpu_model(),
            "threads": os.cpu_count() or 1,
            "gpus": [gpu.name for gpu in tf.config.list_physical_devices("GPU")]}


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
