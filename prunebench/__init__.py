"""prunebench: what does pruning really buy? Size, accuracy and prediction time of pruned TensorFlow models,
benchmarked with pytest, compared between machines, and the claims of a 2020 paper judged in CI.

The parts, from the bottom up (README.md, "The tree"): ``results`` (the results JSON and what every part
reads from it), ``model`` and ``prune`` (the design's own folders model/ and prune/), ``build`` (training,
pruning and measuring models into a cache), ``verdicts``, ``compare`` and ``report`` (judging and showing
results from the JSON alone), ``suite`` (the pytest side) and ``cli`` (the command line, wiring only).
"""

__version__ = "0.1.0"
