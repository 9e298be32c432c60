"""The inference engines in the report: time per call by engine for the whole network and for FC1 alone, the
crossover of each sparse engine with the best dense one, FC1 against its memory-bandwidth bound, and FC1 pruned
with structure (whole neurons, 1x4 blocks) against FC1 pruned weight by weight."""

from __future__ import annotations

from prunebench.report.markdown import (
    MISSING,
    NO_TIMINGS,
    SCOPE_TITLES,
    count_text,
    mib_text,
    ms_text,
    parse_timing_key,
    significant,
    table,
)
from prunebench.results.readers import best_dense, dig, fc1_entries, fc1_times, median_of, percent
from prunebench.verdicts.stats import crossover


def timing_keys(groups: dict[float, list[dict]]) -> list[str]:
    return sorted({key for models in groups.values() for model in models for key in model["timings"]})


def timing_groups(groups: dict[float, list[dict]]) -> dict[tuple[str, str, str], list[str]]:
    """Timing keys grouped by (device, scope, batch): the engines that can be compared with each other."""
    comparable: dict[tuple[str, str, str], list[str]] = {}
    for key in timing_keys(groups):
        engine, device, scope, batch = parse_timing_key(key)
        comparable.setdefault((device, scope, batch), []).append(key)
    return comparable


def engine_medians(groups: dict[float, list[dict]], keys: list[str]) -> dict[str, list[float | None]]:
    """Per engine, its median time at each ratio (seconds)."""
    return {parse_timing_key(key)[0]: [median_of(models, dig("timings", key, "median_s")) for models in groups.values()]
            for key in keys}


def engines_section(groups: dict[float, list[dict]], sparse: dict[str, bool], title: str, what: str,
                    figure: str = "") -> str:
    """Per (scope, batch, device), each engine's median ms per ratio and each sparse engine's crossover;
    ``figure``, a figure link set under the title."""
    timing = timing_groups(groups)
    if not timing:
        return f"## {title}\n\n{NO_TIMINGS}\n"
    ratios = list(groups)
    parts = [f"## {title}\n\n{figure + chr(10) if figure else ''}{what} Median time per call (ms, median over "
             "seeds). Crossover: smallest ratio from which a sparse engine is at least as fast as the best dense "
             "engine at every larger ratio.\n"]
    for (device, scope, batch), keys in timing.items():
        medians = engine_medians(groups, keys)
        rows = [[percent(ratio), *[ms_text(times[i]) for times in medians.values()]]
                for i, ratio in enumerate(ratios)]
        best = best_dense(medians, sparse)
        any_dense = not all(sparse[engine] for engine in medians)
        crossings = [f"{engine}: " + (MISSING if not any_dense else
                                      percent(start) if (start := crossover(ratios, times, best)) is not None
                                      else "never (within measured ratios)")
                     for engine, times in medians.items() if sparse[engine]]
        parts.append(f"### {SCOPE_TITLES.get(scope, scope)}, batch {batch}, {device.upper()}\n\n"
                     + table(["ratio", *medians], rows)
                     + "\nCrossover vs best dense engine: " + ("; ".join(crossings) or "no sparse engine") + "\n")
    return "\n".join(parts)


def bandwidth_section(results: dict, groups: dict[float, list[dict]]) -> str:
    """``groups`` are the FC1 entries; each holds ``fc1_bytes`` per timing key (bytes that call reads)."""
    bandwidth = results.get("bandwidth_bytes_per_s")
    fc1_keys = [key for key in timing_keys(groups) if parse_timing_key(key)[2] == "fc1"]
    if not bandwidth or not fc1_keys or not any(model.get("fc1_bytes") for models in groups.values()
                                                 for model in models):
        return ("## FC1 memory-bandwidth bound\n\nNot available: needs the measured bandwidth, fc1 timings and "
                "the bytes each engine reads for FC1.\n")
    rows = []
    for ratio, models in groups.items():
        for key in fc1_keys:
            engine, _, _, batch = parse_timing_key(key)
            measured = median_of(models, dig("timings", key, "median_s"))
            fc1_bytes = median_of(models, dig("fc1_bytes", key))
            if measured is None or fc1_bytes is None:
                continue
            bound = fc1_bytes / bandwidth
            rows.append([percent(ratio), engine, batch, mib_text(fc1_bytes), ms_text(measured), ms_text(bound),
                         f"{significant(measured / bound)}x"])
    return (f"## FC1 memory-bandwidth bound\n\nBandwidth {bandwidth / 1e9:.3g} GB/s; a call cannot be faster "
            "than reading its bytes once.\n\n"
            + table(["ratio", "engine", "batch", "MiB read", "measured (ms)", "bound (ms)", "measured / bound"],
                    rows))


def fastest_fc1(entry: dict | None, sparse: dict[str, bool], want_sparse: bool, device: str,
                batch: str) -> float | None:
    """The fastest sparse (or dense) engine's median seconds on an ``fc1`` entry, FC1 pruned weight by weight:
    the reference the structured sections set their times beside."""
    return min(fc1_times(entry, sparse, want_sparse, device, "fc1", batch).values(), default=None)


def structured_fc1_section(results: dict, sparse: dict[str, bool]) -> str:
    """FC1 with whole neurons removed (a narrower dense layer) beside the unpruned best dense FC1 and the
    best unstructured sparse engine at the same ratio: what structure buys over sparsity."""
    title = "## FC1 with whole neurons removed (structured)\n\n"
    entries, unstructured = fc1_entries(results, "fc1_neurons"), fc1_entries(results, "fc1")
    if not any(entry.get("timings") for entry in entries.values()):
        return title + NO_TIMINGS + "\n"
    by_place: dict[tuple[str, str], dict[float, dict[str, float]]] = {}
    for ratio, entry in entries.items():
        for key, timing in entry["timings"].items():
            engine, device, _, batch = parse_timing_key(key)
            by_place.setdefault((device, batch), {}).setdefault(ratio, {})[engine] = timing["median_s"]

    parts = [title + "The seed-0 baseline's w_fc1 without the given share of its neurons (smallest incoming L2 "
             "norm), stored as the narrower dense layer it is, on the dense engines. Median ms per call; speedup "
             "over the best dense engine on the unpruned 3136x1024 layer in the same benchmark (its 0% row, so "
             "that row reads 1.00x); beside it, the best sparse engine on the same ratio pruned by magnitude "
             "(unstructured, from the FC1 benchmark).\n"]
    for (device, batch), ratios in sorted(by_place.items()):
        engines = sorted({engine for times in ratios.values() for engine in times})
        reference = min(ratios[0.0].values()) if 0.0 in ratios else None
        rows = []
        for ratio in sorted(ratios):
            times = ratios[ratio]
            fastest = min(times.values())
            rows.append([percent(ratio), count_text(entries[ratio].get("units")),
                         *[ms_text(times.get(engine)) for engine in engines],
                         MISSING if reference is None else f"{reference / fastest:.2f}x",
                         ms_text(fastest_fc1(unstructured.get(ratio), sparse, True, device, batch))])
        parts.append(f"### batch {batch}, {device.upper()}\n\n" + table(
            ["ratio", "neurons", *engines, "speedup vs unpruned best dense", "best sparse (unstructured) ms"], rows))
    return "\n".join(parts)


def blocks_fc1_section(results: dict, sparse: dict[str, bool]) -> str:
    """FC1 pruned in 1x4 blocks on the sparse engines, beside the best dense engine and the best sparse engine
    on the same ratio pruned weight by weight: what block structure buys the sparse kernels."""
    title = "## FC1 pruned in 1x4 blocks\n\n"
    entries, unstructured = fc1_entries(results, "fc1_blocks"), fc1_entries(results, "fc1")
    if not any(entry.get("timings") for entry in entries.values()):
        return title + NO_TIMINGS + "\n"
    places = sorted({parse_timing_key(key)[1::2] for entry in entries.values() for key in entry["timings"]})
    parts = [title + "The seed-0 baseline's w_fc1 pruned in blocks of one output by four consecutive inputs "
             "(smallest mean magnitude first, as the blocks-1x4 method prunes), on the sparse engines. Median ms "
             "per call; the speedup is over the best dense engine at the same ratio (test_fc1); beside it, the "
             "best sparse engine on the same ratio pruned weight by weight.\n"]
    for device, batch in places:
        blocked = {ratio: fc1_times(entry, sparse, True, device, "fc1-blocks", batch)
                   for ratio, entry in entries.items()}
        engines = sorted({engine for times in blocked.values() for engine in times})
        rows = []
        for ratio in sorted(entries):
            fastest = min(blocked[ratio].values(), default=None)
            reference = fastest_fc1(unstructured.get(ratio), sparse, False, device, batch)
            weightwise = fastest_fc1(unstructured.get(ratio), sparse, True, device, batch)
            rows.append([percent(ratio), *[ms_text(blocked[ratio].get(engine)) for engine in engines],
                         ms_text(reference),
                         MISSING if None in (fastest, reference) else f"{reference / fastest:.2f}x",
                         ms_text(weightwise)])
        parts.append(f"### batch {batch}, {device.upper()}\n\n" + table(
            ["ratio", *engines, "best dense ms", "speedup of the best block engine", "best sparse (unstructured) ms"],
            rows))
    return "\n".join(parts)
