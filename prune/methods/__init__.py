"""Pruning methods behind one protocol (``PruningMethod``, base.py) and one registry (``METHODS``).

TensorFlow-free: the options and the suite's configuration import this; the Keras side is keras_run.py.
"""

from __future__ import annotations

from prunebench.errors import UsageError
from prunebench.prune.methods.base import PruneEvent, PruningMethod, check_plan, nested_masks
from prunebench.prune.methods.gradual import Gradual
from prunebench.prune.methods.iterative import Iterative
from prunebench.prune.methods.oneshot import OneShot

DEFAULT_METHOD = "oneshot"

METHODS: dict[str, PruningMethod] = {
    method.name: method
    for method in (OneShot(), OneShot(name="oneshot-global", ranking="global"), Iterative(), Gradual())
}


def parse_methods(text: str) -> tuple[str, ...]:
    """``--methods``: a comma list of registered method names."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise UsageError(f"method list is empty: choose from {', '.join(METHODS)}")
    for name in names:
        if name not in METHODS:
            raise UsageError(f"unknown pruning method {name!r}: choose from {', '.join(METHODS)}")
    if len(set(names)) != len(names):
        raise UsageError(f"method list {text!r} names a method twice")
    return names


__all__ = ["DEFAULT_METHOD", "METHODS", "PruneEvent", "PruningMethod", "check_plan", "nested_masks",
           "parse_methods"]
