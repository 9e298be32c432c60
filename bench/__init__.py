"""The benchmark suite: per-ratio models, inference benchmarks, the paper's claims."""
