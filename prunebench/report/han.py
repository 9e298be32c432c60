"""Han et al.'s Table 1 beside a LeNet run: error before and after pruning, weights kept, the compression
factor and each layer's kept share, measured (median over seeds, [min–max]) next to the published row.

Read from the results alone, like every section: a model pruned at the ``han`` map carries ``policy``; its
parameters are its float32 weights' bytes over four, the pruned variables' totals and nonzeros are in its row.
"""

from __future__ import annotations

from prunebench.model.workloads.lenet import HAN, HAN_TABLE
from prunebench.report.markdown import MISSING, table, with_spread
from prunebench.results.readers import dig, smallest_lossless

FLOAT32_BYTES = 4


def error_percent(model: dict) -> float | None:
    accuracy = dig("accuracy", "dense")(model)
    return None if accuracy is None else (1.0 - accuracy) * 100


def parameters(model: dict) -> int | None:
    """Every parameter of the network, biases included (what Han et al.'s 267K and 431K count)."""
    size = dig("sizes", "weights_dense")(model)
    return None if size is None else size // FLOAT32_BYTES


def parameters_kept(model: dict) -> float | None:
    """Share of all parameters left nonzero: the pruned variables' nonzeros and every unpruned parameter."""
    total = parameters(model)
    if not total:
        return None
    pruned_total = sum(row["total"] for row in model["variables"].values())
    return (model["nonzero"] + total - pruned_total) / total


def layer_kept(name: str):
    def get(model: dict) -> float | None:
        row = model["variables"].get(name)
        return None if not row else row["nonzero"] / row["total"]
    return get


def lossless_factor(model: dict) -> float | None:
    """Dense float32 weights' bytes over the smallest lossless format's whole-model bytes."""
    best = smallest_lossless(model.get("formats") or {})
    dense = dig("sizes", "weights_dense")(model)
    return None if best is None or not dense else dense / best[0]


def percent_text(value: float) -> str:
    return f"{value:.2f}%"


def share_text(value: float) -> str:
    return f"{value * 100:.1f}%"


def factor_text(value: float) -> str:
    return f"{value:.1f}x"


def han_section(results: dict) -> str:
    """The section, or "" when the run is not a LeNet of Han et al.'s table or pruned no model at their map."""
    workload = results["profile"].get("workload")
    published = HAN_TABLE.get(workload)
    pruned = [model for model in results["models"] if model.get("policy") == HAN]
    if published is None or not pruned:
        return ""
    baselines = [model for model in results["models"] if model["ratio"] == 0]
    methods = sorted({model.get("method") for model in pruned} - {None})
    rows = [
        ["test error before pruning", with_spread(baselines, error_percent, percent_text),
         percent_text(published.error_before)],
        ["test error after pruning and retraining", with_spread(pruned, error_percent, percent_text),
         percent_text(published.error_after)],
        ["parameters", with_spread(baselines, parameters, "{:,}".format), f"{published.parameters // 1000}K"],
        ["parameters kept (biases included)", with_spread(pruned, parameters_kept, share_text),
         share_text(published.weights_kept)],
        ["compression (parameters before / after)",
         with_spread(pruned, lambda model: 1 / kept if (kept := parameters_kept(model)) else None, factor_text),
         factor_text(published.compression)],
        ["whole model, float32 / smallest lossless format (bytes)", with_spread(pruned, lossless_factor, factor_text),
         MISSING],
    ]
    layers = [[name, with_spread(pruned, layer_kept(name), share_text), share_text(share)]
              for name, share in published.kept.items()]
    return (f"## Han et al. (2015), Table 1: {workload}\n\n"
            f"{len(pruned)} model(s) pruned at Han et al.'s per-layer map (`--ratios {HAN}`, method "
            f"{', '.join(methods) or MISSING}) from {len(baselines)} baseline(s); every value is measured in this "
            "run on all of MNIST's test images (median over seeds, [min–max]). Han et al. give no byte sizes "
            "(their 12x counts parameters), so that cell is empty.\n\n"
            + table(["", "this run", "Han et al."], rows)
            + "\nShare of each layer's weights kept:\n\n" + table(["layer", "this run", "Han et al."], layers))
