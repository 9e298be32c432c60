"""Block pruning: weights removed in small dense blocks that sparse kernels can run a block at a time (pure NumPy).

Block shapes follow TFLite's convention for a fully connected kernel, ``[outputs, inputs]`` (the transpose of
the Keras kernel ``[inputs, outputs]`` stored here): ``1x4`` is one output unit by four consecutive inputs,
the float block size of LiteRT's block-sparse FULLY_CONNECTED kernel, which the converter
(``tf.lite.Optimize.EXPERIMENTAL_SPARSITY``) encodes and runs without densifying; ``4x4`` blocks are four
such 1x4 blocks stacked over four outputs, the usual SIMD tile. A block's score is the mean magnitude of its
weights (tfmot's ``block_pooling_type="AVG"``); each layer loses ``round(sparsity * blocks)`` blocks,
smallest scores first (the paper's per-layer count, applied to blocks). A layer whose outputs do not divide
into the block's rows (``w_fc2``: 10 outputs) is pruned in 1-row blocks of the same width.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from prunebench.prune.ratio import prune_count

BLOCK_SHAPES = {"1x4": (1, 4), "4x4": (4, 4)}  # name -> (outputs, inputs), TFLite's [out, in] order
BLOCK_RANKING_PREFIX = "block"


def block_ranking(shape_name: str) -> str:
    """The ranking name of blocks of ``shape_name`` (one of ``BLOCK_SHAPES``), e.g. ``block1x4``."""
    if shape_name not in BLOCK_SHAPES:
        raise ValueError(f"block shape {shape_name!r}: choose from {', '.join(BLOCK_SHAPES)}")
    return BLOCK_RANKING_PREFIX + shape_name


BLOCK_RANKINGS = tuple(block_ranking(name) for name in BLOCK_SHAPES)
LITERT_BLOCK_INPUTS = BLOCK_SHAPES["1x4"][1]  # LiteRT's float block: one output by this many inputs


def input_blocks(kernel: np.ndarray, width: int = LITERT_BLOCK_INPUTS) -> np.ndarray:
    """The Keras kernel [inputs, outputs] as float32 [outputs, input blocks, width]: each output's consecutive
    inputs in blocks of ``width``, the last one zero-padded to a whole block. The one layout of 1 x width
    blocks that the block formats (prune/formats/structured.py) and block engines (numba_bcsr.py) store."""
    inputs, outputs = np.shape(kernel)
    count = -(-inputs // width)
    padded = np.zeros((outputs, count * width), np.float32)
    padded[:, :inputs] = np.asarray(kernel).T
    return padded.reshape(outputs, count, width)


def ranking_block(ranking: str) -> tuple[int, int] | None:
    """The (outputs, inputs) block a ranking prunes in, or None for a ranking of single weights or neurons."""
    return BLOCK_SHAPES[ranking.removeprefix(BLOCK_RANKING_PREFIX)] if ranking in BLOCK_RANKINGS else None


def layer_block(kernel_shape: tuple[int, ...], block: tuple[int, int]) -> tuple[int, int]:
    """The (outputs, inputs) block used on a Keras kernel of ``kernel_shape`` [inputs, outputs]: ``block``,
    or 1 row of its width when the outputs do not divide into its rows. The inputs must divide."""
    inputs, outputs = kernel_shape
    rows, columns = block
    if inputs % columns:
        raise ValueError(f"a kernel with {inputs} inputs does not divide into blocks {columns} inputs wide")
    return (rows if outputs % rows == 0 else 1), columns


def block_scores(kernel: np.ndarray, block: tuple[int, int]) -> np.ndarray:
    """Mean magnitude of each block of the Keras kernel [inputs, outputs], as an array
    [outputs / rows, inputs / columns] in float64."""
    rows, columns = layer_block(kernel.shape, block)
    transposed = np.abs(np.asarray(kernel, dtype=np.float64)).T
    outputs, inputs = transposed.shape
    return transposed.reshape(outputs // rows, rows, inputs // columns, columns).mean(axis=(1, 3))


def expand_blocks(kept_blocks: np.ndarray, kernel_shape: tuple[int, ...], block: tuple[int, int]) -> np.ndarray:
    """The weight keep-mask [inputs, outputs] of a block keep-mask [outputs / rows, inputs / columns]."""
    rows, columns = layer_block(kernel_shape, block)
    return np.repeat(np.repeat(kept_blocks, rows, axis=0), columns, axis=1).T.copy()


def block_masks(weights: Mapping[str, np.ndarray], names: tuple[str, ...], sparsity: float,
                block: tuple[int, int], keep: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Keep-masks pruning ``round(sparsity * blocks)`` blocks of each variable, smallest mean magnitude first.
    Blocks already pruned (``keep`` False anywhere in the block) rank below every other, so they stay
    pruned; ties break by index."""
    masks = {}
    for name in names:
        shape = np.shape(weights[name])
        scores = block_scores(weights[name], block)
        if keep is not None:
            alive = block_scores(np.asarray(keep[name], dtype=np.float64), block) == 1.0
            scores = np.where(alive, scores, -1.0)
        flat = np.ones(scores.size, dtype=bool)
        flat[np.argsort(scores.ravel(), kind="stable")[:prune_count(scores.size, sparsity)]] = False
        masks[name] = expand_blocks(flat.reshape(scores.shape), shape, block)
    return masks


def pruned_weight_count(kernel_shape: tuple[int, ...], block: tuple[int, int], sparsity: float) -> int:
    """How many weights ``block_masks`` prunes in a kernel of ``kernel_shape`` at ``sparsity``."""
    rows, columns = layer_block(kernel_shape, block)
    blocks = kernel_shape[0] * kernel_shape[1] // (rows * columns)
    return prune_count(blocks, sparsity) * rows * columns
