"""Magnitude pruning: what to prune (policy), how much (ratio), the mask maths, applying it, storage formats."""
