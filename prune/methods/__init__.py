"""Pruning methods behind one protocol (``PruningMethod``, base.py) and one registry (``METHODS``).

TensorFlow-free: the options and the suite's configuration import this; the Keras side is keras_run.py.
"""

from __future__ import annotations

from prunebench.errors import UsageError
from prunebench.prune.methods.base import PruneEvent, PruningMethod, check_plan, layer_plan, nested_masks
from prunebench.prune.methods.blocks import BLOCK_RANKINGS, BLOCK_SHAPES, block_ranking
from prunebench.prune.methods.gradual import Gradual
from prunebench.prune.methods.iterative import Iterative
from prunebench.prune.methods.oneshot import OneShot
from prunebench.prune.methods.structured import NEURON_VARIABLES
from prunebench.validators import registry_names

DEFAULT_METHOD = OneShot.name  # the paper's method: one magnitude cut, then retraining

METHODS: dict[str, PruningMethod] = {
    method.name: method
    for method in (OneShot(), OneShot(name="oneshot-global", ranking="global"), Iterative(), Gradual(),
                   Gradual(name="gradual-global", ranking="global"), OneShot(name="structured", ranking="neuron"),
                   *(OneShot(name=f"blocks-{shape}", ranking=block_ranking(shape)) for shape in BLOCK_SHAPES))
}


def removes_neurons(method: str) -> bool:
    """Whether ``method`` prunes whole fc1 neurons, so its models are timed and stored narrower."""
    return METHODS[method].ranking == "neuron"


def inference_weights(method: str, weights: dict) -> dict:
    """The weights an engine runs: a neuron-pruned model without its removed neurons (a narrower dense
    network, structured.py ``shrink``), any other as stored."""
    if removes_neurons(method):
        from prunebench.prune.methods.structured import shrink

        return shrink(weights)
    return weights


def check_variables(methods: tuple[str, ...], variables: tuple[str, ...]) -> None:
    """Neuron pruning defines its own variables (a neuron is a w_fc1 column and a w_fc2 row); block pruning
    needs fully connected kernels (blocks of a [outputs, inputs] matrix)."""
    for method in methods:
        if removes_neurons(method) and tuple(sorted(variables)) != NEURON_VARIABLES:
            raise UsageError(f"method {method!r} prunes whole fc1 neurons, i.e. exactly "
                             f"{','.join(NEURON_VARIABLES)}; the pruned variables are {','.join(variables)}")
        not_dense = sorted(set(variables) - set(NEURON_VARIABLES))
        if METHODS[method].ranking in BLOCK_RANKINGS and not_dense:
            raise UsageError(f"method {method!r} prunes blocks of fully connected kernels "
                             f"({','.join(NEURON_VARIABLES)}), not {','.join(not_dense)}")


def parse_methods(text: str) -> tuple[str, ...]:
    """``--methods``: a comma list of registered method names."""
    return registry_names(text, METHODS, "method", "pruning method")


__all__ = ["DEFAULT_METHOD", "METHODS", "PruneEvent", "PruningMethod", "check_plan", "check_variables",
           "inference_weights", "layer_plan", "nested_masks", "parse_methods", "removes_neurons"]
