"""Block pruning's mask maths on its own (prune/methods/blocks.py), without TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from prunebench.prune.methods import METHODS, nested_masks
from prunebench.prune.methods.blocks import (
    BLOCK_RANKINGS,
    BLOCK_SHAPES,
    block_masks,
    block_ranking,
    block_scores,
    layer_block,
    pruned_weight_count,
    ranking_block,
)
from prunebench.prune.ratio import prune_count


def kernels(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w_fc1": rng.standard_normal((64, 16)).astype(np.float32),
            "w_fc2": rng.standard_normal((16, 10)).astype(np.float32)}


def test_every_block_shape_has_a_registered_method():
    assert {METHODS[name].ranking for name in METHODS} >= set(BLOCK_RANKINGS)
    assert [ranking_block(block_ranking(name)) for name in BLOCK_SHAPES] == list(BLOCK_SHAPES.values())
    assert ranking_block("layer") is None and ranking_block("neuron") is None
    with pytest.raises(ValueError, match="block shape '2x2'"):
        block_ranking("2x2")


def test_a_1x4_block_is_one_output_by_four_consecutive_inputs():
    kernel = np.zeros((8, 3), np.float32)  # [inputs, outputs]
    kernel[4:8, 1] = [1, 2, 3, 4]  # inputs 4-7 of output 1: one block, mean magnitude 2.5
    kernel[0, 2] = 8.0  # alone in its block: mean 2.0
    scores = block_scores(kernel, BLOCK_SHAPES["1x4"])
    assert scores.shape == (3, 2)  # [outputs, input blocks]
    assert scores[1, 1] == 2.5 and scores[2, 0] == 2.0 and scores.sum() == 4.5
    keep = block_masks({"k": kernel}, ("k",), 5 / 6, BLOCK_SHAPES["1x4"])["k"]  # 5 of 6 blocks go
    expected = np.zeros((8, 3), bool)
    expected[4:8, 1] = True  # only the block with the largest mean stays, though 8.0 is the largest weight
    np.testing.assert_array_equal(keep, expected)


@pytest.mark.parametrize("shape", list(BLOCK_SHAPES))
@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.9, 0.99])
def test_counts_are_exact_and_every_block_is_whole(shape, sparsity):
    weights, block = kernels(), BLOCK_SHAPES[shape]
    masks = block_masks(weights, tuple(weights), sparsity, block)
    for name, keep in masks.items():
        assert keep.shape == weights[name].shape
        assert int((~keep).sum()) == pruned_weight_count(weights[name].shape, block, sparsity)
        rows, columns = layer_block(weights[name].shape, block)
        tiles = keep.T.reshape(keep.shape[1] // rows, rows, keep.shape[0] // columns, columns)
        assert (tiles.all(axis=(1, 3)) | ~tiles.any(axis=(1, 3))).all()


def test_outputs_that_do_not_divide_fall_back_to_one_row_blocks():
    assert layer_block((3136, 1024), BLOCK_SHAPES["4x4"]) == (4, 4)
    assert layer_block((1024, 10), BLOCK_SHAPES["4x4"]) == (1, 4)  # w_fc2's 10 outputs
    with pytest.raises(ValueError, match="6 inputs"):
        layer_block((6, 8), BLOCK_SHAPES["1x4"])
    assert pruned_weight_count((3136, 1024), BLOCK_SHAPES["4x4"], 0.9) == 16 * prune_count(3136 * 1024 // 16, 0.9)


def test_the_smallest_blocks_go_first():
    weights = kernels()
    block = BLOCK_SHAPES["4x4"]
    keep = block_masks(weights, ("w_fc1",), 0.5, block)["w_fc1"]
    scores = block_scores(weights["w_fc1"], block)
    kept = block_scores(keep.astype(np.float64), block) == 1.0
    assert scores[kept].min() >= scores[~kept].max()


@pytest.mark.parametrize("ranking", BLOCK_RANKINGS)
def test_masks_stay_nested_up_the_ladder(ranking):
    weights, keep = kernels(), None
    for sparsity in (0.5, 0.75, 0.9):
        # grow the pruned blocks' magnitudes so they would win if they were ranked again
        if keep is not None:
            weights = {name: np.where(keep[name], w, 100.0).astype(np.float32) for name, w in weights.items()}
        masks = nested_masks(weights, tuple(weights), sparsity, ranking, keep=keep)
        if keep is not None:
            assert all((masks[name] <= keep[name]).all() for name in masks)
        keep = masks
