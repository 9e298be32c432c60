"""What to prune: the variables named on the command line, by the paper's names or a workload's own."""

from __future__ import annotations

from prunebench.errors import UsageError
from prunebench.model.constants import WEIGHT_KERNELS

DEFAULT_PRUNED = ("w_fc1", "w_fc2")


def parse_variable_names(text: str, kernels: tuple[str, ...] = WEIGHT_KERNELS) -> tuple[str, ...]:
    """A comma list of kernel names, or ``all`` for every weight kernel (the paper's alternative); ``kernels``:
    the workload's (model.workloads.prunable), the paper CNN's by default."""
    if text.strip() == "all":
        return kernels
    names = tuple(part.strip() for part in text.split(","))
    if not any(names):
        raise UsageError("pruning variable list is empty: name at least one of " + ", ".join(kernels))
    for name in names:
        if name not in kernels:
            raise UsageError(f"unknown pruning variable {name!r}: choose from {', '.join(kernels)} or 'all'")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise UsageError(f"pruning variable {duplicated[0]!r} is named more than once")
    return names
