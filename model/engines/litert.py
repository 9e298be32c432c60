"""``tflite-dense`` and ``tflite-sparse``: the TF network converted to a .tflite model, run by LiteRT with XNNPACK.

``tflite-sparse`` converts with ``tf.lite.Optimize.EXPERIMENTAL_SPARSITY``, which stores sufficiently sparse
constant kernels in TFLite's sparse encoding; the converter itself picks which tensors qualify, so
``pruned`` is only validated. The file gets smaller. An unstructured kernel the converter does not judge
sparse enough gets a DENSIFY op and runs dense (see ``fc1_weight_bytes_read``); a kernel pruned in 1x4 blocks
(one output by four inputs, prune/methods/blocks.py) stays encoded and runs on FULLY_CONNECTED's block-sparse
kernel. The interpreter comes from ``ai_edge_litert`` (pip ai-edge-litert) when installed, else from
``tf.lite``; both get ``num_threads`` = the cores this process may use (what TensorFlow's own intra-op pool
uses), set explicitly because LiteRT's default is not documented as stable.

Converting one FC1 layer takes about half a second, and the FC1 benchmarks convert dozens: a session may
keep the converted bytes on disk (``FC1_CONVERSIONS``), under a hash of everything that affects them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from prunebench.model.constants import WORK_CONVERTER, WORK_DENSE
from prunebench.model.engines.hygiene import cpu_threads
from prunebench.model.engines.spec import (
    DEFAULT_PRUNED,
    PAPER_LAYERS,
    checked_fc1,
    checked_pruned,
    checked_weights,
    require_available,
)
from prunebench.model.engines.tf_graph import TfEngine
from prunebench.model.workloads.layers import Layer
from prunebench.results import atomic

DENSE_TF = TfEngine("tf-dense", sparse=False)


def interpreter_class() -> type:
    if importlib.util.find_spec("ai_edge_litert") is not None:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    return tf.lite.Interpreter


def positive_zeros(array: np.ndarray) -> np.ndarray:
    """``array`` with every zero as +0.0: a -0.0 would be written into the .tflite file as is."""
    return np.where(array == 0, np.float32(0.0), array).astype(np.float32, copy=False)


def converted(function: tf.types.experimental.PolymorphicFunction, sparse: bool) -> bytes:
    holder = tf.Module()
    holder.function = function
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], holder)
    if sparse:
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    return converter.convert()


@functools.cache
def converter_fingerprint() -> str:
    """What besides the arrays decides a conversion's bytes: TensorFlow's version (its converter) and the
    source of the modules that build the converted function and convert it."""
    from prunebench.model.engines import tf_graph

    digest = hashlib.sha256(tf.__version__.encode())
    for module_file in (__file__, tf_graph.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()


class ConversionCache:
    """Converted FC1 layers as files ``<key>.tflite`` in ``directory``; off (every call converts) while it is
    None. The key hashes the kernel and bias (shape, dtype, bytes), the sparse flag and
    ``converter_fingerprint``; the converter is deterministic, so a file holds exactly the bytes a conversion
    would return now. Files are written whole under a temporary name (``prunebench.results.atomic``), so
    concurrent sessions at worst convert the same layer twice."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory

    def key(self, w_fc1: np.ndarray, b_fc1: np.ndarray, sparse: bool) -> str:
        digest = hashlib.sha256(f"{converter_fingerprint()} sparse={sparse}".encode())
        for array in (w_fc1, b_fc1):
            digest.update(f"{array.shape} {array.dtype}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:32]

    def get(self, w_fc1: np.ndarray, b_fc1: np.ndarray, sparse: bool, convert: Callable[[], bytes]) -> bytes:
        if self.directory is None:
            return convert()
        path = self.directory / f"{self.key(w_fc1, b_fc1, sparse)}.tflite"
        if path.is_file():
            return path.read_bytes()
        model = convert()
        atomic.write_bytes(path, model)
        return model


FC1_CONVERSIONS = ConversionCache()  # the benchmark session points it into its model cache (conftest.py)
LITERT_CACHE_FOLDER = "litert-fc1"  # that folder, beside the cached models


def fc1_model_bytes(w_fc1: np.ndarray, b_fc1: np.ndarray, sparse: bool) -> bytes:
    """The .tflite flatbuffer of FC1 alone, relu(x @ w_fc1 + b_fc1); from ``FC1_CONVERSIONS`` where it holds it."""
    w_fc1, b_fc1 = positive_zeros(w_fc1), np.asarray(b_fc1, np.float32)
    return FC1_CONVERSIONS.get(w_fc1, b_fc1, sparse,
                               lambda: converted(DENSE_TF.fc1_function(w_fc1, b_fc1), sparse))


def tflite_model_bytes(weights: Mapping[str, np.ndarray], pruned: Sequence[str] = DEFAULT_PRUNED,
                       sparse: bool = False, layers: Sequence[Layer] = PAPER_LAYERS) -> bytes:
    """The .tflite flatbuffer of the whole network of ``layers``, as the suite reports its size."""
    checked_pruned(pruned, layers)
    weights = {name: positive_zeros(w) for name, w in checked_weights(weights, layers).items()}
    return converted(DENSE_TF.network_function(weights, pruned, layers=layers), sparse)


def fc1_weight_bytes_read(w_fc1: np.ndarray) -> int:
    """Bytes of the sparse-converted FC1's kernel one call reads.

    Where the converter inserts a DENSIFY op, XNNPACK densifies at load and every call reads the dense kernel;
    a kernel it keeps in the sparse encoding (very sparse, or pruned in 1x4 blocks) is read directly by the
    FULLY_CONNECTED kernel (counted as the whole encoded model, bias included); with nothing sparse enough to
    encode, the kernel stays dense. The converted model's own ops decide, not a threshold of ours
    (docs/engines.md: what the converter did at which ratio).
    """
    model = fc1_model_bytes(w_fc1, np.zeros(w_fc1.shape[1], np.float32), sparse=True)
    operators = {op["op_name"] for op in interpreter_class()(model_content=model)._get_ops_details()}
    dense_bytes = 4 * w_fc1.size
    return dense_bytes if "DENSIFY" in operators else min(len(model), dense_bytes)  # min: nothing encoded


def interpreted(model: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """Run ``model``; one interpreter per batch size, sized and allocated on that size's first call."""
    interpreters: dict[int, tuple] = {}

    def prepared(shape: tuple[int, ...]) -> tuple:
        interpreter = interpreter_class()(model_content=model, num_threads=cpu_threads())
        interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], shape)
        interpreter.allocate_tensors()
        return interpreter, interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]

    def predict(x: np.ndarray) -> np.ndarray:
        if x.shape[0] not in interpreters:
            interpreters[x.shape[0]] = prepared(x.shape)
        interpreter, input_index, output_index = interpreters[x.shape[0]]
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)

    return predict


class LiteRtEngine:
    def __init__(self, name: str, sparse: bool):
        self.name = name
        self.sparse = sparse
        self.fc1_storage = "tflite-sparse" if sparse else "dense"  # see fc1_weight_bytes_read
        self.devices = ("cpu",)
        # The converter keeps a kernel sparse only where it judges it sparse enough (docs/engines.md): its
        # work depends on the ratio through the converter's choice.
        self.work = WORK_CONVERTER if sparse else WORK_DENSE
        self.sparse_kinds = ("converter",) if sparse else ()  # the converter picks the kernels it keeps sparse

    def unavailable_reason(self, device: str) -> str | None:
        return "CPU only (no GPU delegate wired up)" if device == "gpu" else None

    def network(self, weights: Mapping[str, np.ndarray], pruned: Sequence[str] = DEFAULT_PRUNED,
                device: str = "cpu", layers: Sequence[Layer] = PAPER_LAYERS) -> Callable[[np.ndarray], np.ndarray]:
        require_available(self, device)
        return interpreted(tflite_model_bytes(weights, pruned, self.sparse, layers))

    def fc1(self, w_fc1: np.ndarray, b_fc1: np.ndarray, device: str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
        require_available(self, device)
        w_fc1, b_fc1 = checked_fc1(w_fc1, b_fc1)
        return interpreted(fc1_model_bytes(w_fc1, b_fc1, self.sparse))
