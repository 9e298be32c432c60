"""Inference engines behind one protocol (``registry.InferenceEngine``), one module each, and the registry
``ENGINES`` the benchmarks iterate over.

Importing the package sets the thread-spin limits (``hygiene``) and nothing else: the registry, which
imports TensorFlow and every engine's library, loads on the first use of one of its names. A command that
refuses a bad option, or only needs ``hygiene``, does not wait for TensorFlow.
"""

from __future__ import annotations

from prunebench.model.engines.hygiene import bound_spinning

bound_spinning()

__all__ = ["ENGINES", "InferenceEngine", "tflite_model_bytes"]


def __getattr__(name: str):
    if name in __all__:
        from prunebench.model.engines import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
