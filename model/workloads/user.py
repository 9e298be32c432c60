"""``--workload package.module:factory``: a user's own network, loaded by import.

The factory takes no argument and returns either a ``keras.Model`` (a plain stack of Conv2D, MaxPooling2D,
Flatten and Dense layers on 28x28x1 MNIST images) or a whole ``Workload``. A model becomes a workload on MNIST
with the paper profile's steps and batch, Adam at its Keras default rate (base.py), and every kernel
pruned by default; the factory is called again for
each model built (under the seed, so its initial weights follow the seed). Every mistake is one line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect

from prunebench.errors import UsageError
from prunebench.model.workloads.base import KERAS_LEARNING_RATE, RETRAIN_LEARNING_RATE, Training, Workload
from prunebench.model.workloads.stack import MNIST_INPUT, StackWorkload
from prunebench.results.profiles import PROFILES

SEPARATOR = ":"


def is_reference(text: str) -> bool:
    """Whether ``text`` names a factory (``module:attribute``) rather than a registered workload."""
    return SEPARATOR in text


def factory_of(reference: str):
    module_name, _, attribute = reference.partition(SEPARATOR)
    if not module_name or not attribute or not all(part.isidentifier() for part in module_name.split(".")) \
            or not attribute.isidentifier():
        raise UsageError(f"--workload {reference!r}: expected package.module:factory")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:  # ModuleNotFoundError included
        raise UsageError(f"--workload {reference!r}: cannot import {module_name}: {error}") from None
    except Exception as error:  # the user's module itself failed; its message, on one line
        message = " ".join(str(error).split())
        raise UsageError(f"--workload {reference!r}: importing {module_name} raised "
                         f"{type(error).__name__}: {message}") from None
    factory = getattr(module, attribute, None)
    if factory is None:
        raise UsageError(f"--workload {reference!r}: module {module_name} has no {attribute}")
    if not callable(factory):
        raise UsageError(f"--workload {reference!r}: {attribute} is a {type(factory).__name__}, not a factory")
    if any(parameter.default is inspect.Parameter.empty and parameter.kind not in
           (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
           for parameter in inspect.signature(factory).parameters.values()):
        raise UsageError(f"--workload {reference!r}: {attribute} must be callable without arguments")
    return factory


def made_by(reference: str, factory):
    """What the factory returns, called once; anything but a Keras model or a Workload is a UsageError."""
    try:
        made = factory()
    except Exception as error:
        message = " ".join(str(error).split())
        raise UsageError(f"--workload {reference!r}: the factory raised {type(error).__name__}: {message}") from None
    if isinstance(made, Workload):
        return made
    import keras

    if not isinstance(made, keras.Model):
        raise UsageError(f"--workload {reference!r}: the factory returned a {type(made).__name__}, "
                         "not a keras.Model or a Workload")
    return made


def user_workload(reference: str) -> Workload:
    """The workload ``reference`` names (see the module docstring)."""
    factory = factory_of(reference)
    made = made_by(reference, factory)
    if isinstance(made, Workload):
        return made
    from prunebench.model.keras_model import describe

    if tuple(made.input_shape[1:]) != MNIST_INPUT:
        raise UsageError(f"--workload {reference!r}: the model takes {tuple(made.input_shape[1:])}, "
                         f"not MNIST's {MNIST_INPUT}")
    paper = PROFILES["paper"]
    return StackWorkload(name=reference, layers=describe(made),
                         training=Training(steps=paper["max_steps"], batch_size=paper["batch_size"],
                                           retrain_steps=paper["retrain_steps"], learning_rate=KERAS_LEARNING_RATE,
                                           retrain_learning_rate=RETRAIN_LEARNING_RATE),
                         model_factory=lambda seed: factory())


def source_digest(reference: str) -> str | None:
    """Hash of the factory's module file, so an edited model (another initializer, another layer) is a new
    cache entry, not a stale one; None where the module has no file (built in the session)."""
    spec = importlib.util.find_spec(reference.partition(SEPARATOR)[0])
    origin = None if spec is None else spec.origin
    if not origin or not origin.endswith(".py"):
        return None
    with open(origin, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()[:16]
