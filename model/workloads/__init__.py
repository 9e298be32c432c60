"""Workloads: the networks the suite prunes, behind one protocol (``Workload``, base.py) and one registry.

``WORKLOADS`` holds the paper's CNN (the default, ``paper-cnn``) and Han et al.'s two LeNets; ``--workload
package.module:factory`` adds a user's own (user.py). A workload gives its data, its Keras model, its
training protocol, its prunable variables by readable name and its layer stack (layers.py), which is all the
engines need to run it. TensorFlow-free: the options and the suite's configuration import this.
"""

from __future__ import annotations

from prunebench.errors import UsageError
from prunebench.model.workloads.base import Training, Workload
from prunebench.model.workloads.layers import kernel_names, variable_names, weight_shapes
from prunebench.model.workloads.lenet import HAN, LENET_5, LENET_300_100
from prunebench.model.workloads.paper_cnn import PAPER_CNN
from prunebench.model.workloads.user import is_reference, user_workload

WORKLOADS: dict[str, Workload] = {workload.name: workload for workload in (PAPER_CNN, LENET_300_100, LENET_5)}
DEFAULT_WORKLOAD = PAPER_CNN.name


def get_workload(text: str) -> Workload:
    """``--workload``: a registered name, or ``package.module:factory`` for a user's own network."""
    text = text.strip()
    if is_reference(text):
        return user_workload(text)
    if text not in WORKLOADS:
        raise UsageError(f"unknown workload {text!r}: choose from {', '.join(WORKLOADS)} or give "
                         "package.module:factory")
    return WORKLOADS[text]


def prunable(workload: Workload) -> tuple[str, ...]:
    """The variables a workload may prune: its kernels."""
    return kernel_names(workload.layers)


def shapes(workload: Workload) -> dict[str, tuple[int, ...]]:
    return weight_shapes(workload.layers, workload.input_shape)


__all__ = ["DEFAULT_WORKLOAD", "HAN", "PAPER_CNN", "WORKLOADS", "Training", "Workload", "get_workload", "prunable",
           "shapes", "variable_names"]
