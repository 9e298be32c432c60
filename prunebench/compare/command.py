"""``prunebench compare BASE... NEW``: what changed between two results JSON files (docs/compare.md).

Four sections, each judged by its own rule:

- compression: the deterministic measures of every (ratio, seed) model, compared exactly (thresholds,
  nonzero counts, sizes, every format's bytes), accuracy to a tolerance in test images; any change fails.
- claims: verdicts matched by (id, subject, range); a changed verdict fails.
- timings, same machine class: each timing family's shift in the new run against the spread of that shift
  over two or more baseline runs, plus a minimum factor (``prunebench.compare.stats``); a significant
  slowdown beyond the factor fails under ``--fail-on time``. One baseline run judges no time. With
  ``--interleaved``, runs made back to back in pairs (base, new, base, new, ...) are judged pair by pair
  (a paired test), which cancels the machine's slow episodes that stored baselines cannot.
- timings, different machines: only what carries over (speed relative to ``tf-dense`` in the same run, the
  FC1 crossover ratios, time x measured bandwidth); absolute times are not compared and nothing fails.

Library code raises ``PrunebenchError``; ``prunebench.cli`` turns it into one line and the exit status.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from prunebench.compare.baselines import class_slug, earlier_baselines, find_baseline, save_baseline
from prunebench.compare.stats import (
    ALPHA,
    FACTOR,
    MIN_BASELINE_RUNS,
    MIN_PAIRS,
    VERDICTS,
    accuracy_images,
    between_run_test,
    beyond_factor,
    detectable_factor,
    mann_whitney_p,
    median_ratio,
    min_attainable_p,
    paired_runs_test,
    time_verdict,
)
from prunebench.errors import DataError, PrunebenchError, UsageError
from prunebench.model.constants import MNIST_TEST_IMAGES
from prunebench.results import atomic
from prunebench.results.keys import FC1_SECTIONS, SCOPES, ratio_key
from prunebench.results.machine import machine_class
from prunebench.results.profiles import ACCURACY_SETTINGS, WEIGHT_SETTINGS
from prunebench.verdicts.stats import crossover, holm

CATEGORIES = ("compression", "claims", "time")
DEFAULT_FAIL_ON = ("compression", "claims")
REFERENCE_ENGINE = "tf-dense"
# Profile settings that determine the trained weights, and those that also determine accuracy.
ABSENT = "absent"
DEFAULT_HISTORY = 5  # baseline runs the time verdict uses with --against
DETECTABLE_CAP = 1000.0  # a detectable slowdown above this is shown as '>x1000'
MAX_ROWS = 20  # rows of a relative-time table shown without --show all (largest changes first)


class RegressionsFound(PrunebenchError):
    """The comparison found failing items; they were printed one a line before this is raised."""


# ---- reading ------------------------------------------------------------------------------------------

def load_for_compare(path: str | Path) -> dict:
    """A results dict of schema 1 or newer, checked for everything compare reads; DataError otherwise."""
    from prunebench.results.contract import KIND, read_results_json, validate_results

    path = Path(path)
    results = read_results_json(path)
    if not isinstance(results, dict) or results.get("kind") != KIND:
        kind = results.get("kind") if isinstance(results, dict) else type(results).__name__
        raise DataError(f"{path}: not a prunebench results JSON (kind is {kind!r}, expected {KIND!r})")
    version = results.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DataError(f"{path}: schema_version is {version!r}; compare reads schema 1 and newer")
    # Newer schemas add fields (claims' range/effect/margin, timings' samples_s); what compare reads is
    # schema 1's structure, so check that whatever the version says.
    validate_results({**results, "schema_version": 1}, path)
    _check_details(results, path)
    return results


def _check_details(results: dict, path: Path) -> None:
    def fail(where: str, what: str) -> None:
        raise DataError(f"{path}: {where} {what}")

    def check_timings(where: str, timings: Any) -> None:
        if not isinstance(timings, dict):
            fail(where, "is not an object")
        for key, entry in timings.items():
            if len(key.split("/")) != 4:
                fail(f"{where}[{key!r}]", "is not an <engine>/<device>/<scope>/batch=<n> key")
            if not isinstance(entry, dict) or not _is_number(entry.get("median_s")):
                fail(f"{where}[{key!r}]", "lacks a numeric median_s")
            samples = entry.get("samples_s")
            if samples is not None and (not isinstance(samples, list) or not all(map(_is_number, samples))):
                fail(f"{where}[{key!r}].samples_s", "is not a list of numbers")

    for index, model in enumerate(results["models"]):
        check_timings(f"models[{index}].timings", model["timings"])
    for section in FC1_SECTIONS:
        fc1 = results.get(section) or []
        if not isinstance(fc1, list):
            fail(section, "is not a list")
        for index, entry in enumerate(fc1):
            if not isinstance(entry, dict) or not _is_number(entry.get("ratio")):
                fail(f"{section}[{index}]", "lacks a numeric ratio")
            check_timings(f"{section}[{index}].timings", entry.get("timings") or {})
    for index, claim in enumerate(results["claims"]):
        if not isinstance(claim, dict) or not all(isinstance(claim.get(key), str) for key in ("id", "subject", "verdict")):
            fail(f"claims[{index}]", "lacks a string id, subject or verdict")
    bandwidth = results.get("bandwidth_bytes_per_s")
    if bandwidth is not None and not _is_number(bandwidth):
        fail("bandwidth_bytes_per_s", "is not a number")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def timing_entries(results: dict) -> dict[tuple, dict]:
    """Every timing entry by identity: ("model", ratio, seed, key), or (scope, ratio, None, key) for the FC1
    sections (scope "fc1", "fc1-neurons" or "fc1-blocks")."""
    entries = {}
    for model in _paper_method(results):
        for key, entry in model["timings"].items():
            entries[("model", ratio_key(model["ratio"]), int(model["seed"]), key)] = entry
    for section, kind in FC1_SECTIONS.items():
        for fc1 in results.get(section) or []:
            for key, entry in (fc1.get("timings") or {}).items():
                entries[(kind, ratio_key(fc1["ratio"]), None, key)] = entry
    return entries


def label(ident: tuple) -> str:
    kind, ratio, seed, key = ident
    return f"ratio={ratio:g} seed={seed} {key}" if kind == "model" else f"{kind} ratio={ratio:g} {key}"


def benchmark_json_candidates(results: dict, results_path: Path) -> list[Path]:
    name = results.get("benchmark_json")
    if not isinstance(name, str) or not name:
        return []
    folder = results_path.parent
    candidates = [folder / name, folder / "benchmarks" / name, folder / "benchmarks" / Path(name).name]
    return list(dict.fromkeys(candidates))


def raw_rounds(results: dict, results_path: Path, override: Path | None = None) -> tuple[dict[tuple, list[float]], str]:
    """Raw rounds per timing identity and a note on where they came from.

    ``samples_s`` in the results (newer schema) come first; the rest is read from the pytest-benchmark JSON
    the results name (``stats.data``, saved with --benchmark-save-data). A benchmark's rounds are used only
    if their median is the median the results recorded, so a JSON of another run is never mixed in.
    """
    entries = timing_entries(results)
    rounds = {ident: [float(x) for x in entry["samples_s"]] for ident, entry in entries.items()
              if entry.get("samples_s")}
    notes = [f"{len(rounds)} from samples_s"] if rounds else []
    if len(rounds) == len(entries):
        return rounds, "; ".join(notes) or "no timings"
    if override is not None:
        if not override.is_file():
            raise DataError(f"{override}: pytest-benchmark JSON not found")
        candidates = [override]
    else:
        candidates = benchmark_json_candidates(results, results_path)
    path = next((candidate for candidate in candidates if candidate.is_file()), None)
    if path is None:
        tried = ", ".join(str(c) for c in candidates) or "the results name none (benchmark_json is null)"
        notes.append(f"no pytest-benchmark JSON ({tried})")
        return rounds, "; ".join(notes)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        benchmarks = document["benchmarks"]
        if not isinstance(benchmarks, list):
            raise TypeError
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise DataError(f"{path}: not a pytest-benchmark JSON (no 'benchmarks' list)") from None
    found = mismatched = without_data = 0
    for bench in benchmarks:
        ident = _benchmark_ident(bench)
        if ident is None or ident not in entries or ident in rounds:
            continue
        data = (bench.get("stats") or {}).get("data")
        if not data or not all(map(_is_number, data)):
            without_data += 1
            continue
        expected = float(entries[ident]["median_s"])
        if abs(statistics.median(data) - expected) > 1e-9 * max(abs(expected), 1e-12):
            mismatched += 1
            continue
        rounds[ident] = [float(x) for x in data]
        found += 1
    notes.append(f"{found} from {path}")
    if without_data:
        notes.append(f"{without_data} saved without rounds (run with --benchmark-save-data)")
    if mismatched:
        notes.append(f"{mismatched} ignored: their median is not the one the results recorded (another run's JSON?)")
    return rounds, "; ".join(notes)


def _benchmark_ident(bench: Any) -> tuple | None:
    """The results identity of one pytest-benchmark entry, from the extra_info and params the suite sets."""
    if not isinstance(bench, dict):
        return None
    info, params = bench.get("extra_info") or {}, bench.get("params") or {}
    scope, batch = info.get("scope"), params.get("batch")
    if scope not in SCOPES or batch is None or not _is_number(info.get("ratio")):
        return None
    key = f"{info.get('engine')}/{info.get('device')}/{scope}/batch={batch}"
    if scope == "network":
        return ("model", ratio_key(info["ratio"]), int(info.get("seed", 0)), key) if _is_number(info.get("seed")) else None
    return (scope, ratio_key(info["ratio"]), None, key)


def with_embedded_rounds(results: dict, rounds: dict[tuple, list[float]]) -> dict:
    """A copy of ``results`` whose timing entries carry their raw rounds as ``samples_s`` (self-contained)."""
    copy = json.loads(json.dumps(results))
    for ident, entry in timing_entries(copy).items():
        if ident in rounds and not entry.get("samples_s"):
            entry["samples_s"] = rounds[ident]
    if rounds:
        copy["benchmark_json"] = None
    return copy


# ---- compression: the deterministic measures --------------------------------------------------------------

def _profile_differences(base: dict, new: dict, keys: Iterable[str]) -> list[str]:
    return [f"{key} {base['profile'].get(key)!r} vs {new['profile'].get(key)!r}" for key in keys
            if base["profile"].get(key) != new["profile"].get(key)]


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        flat = {}
        for key in sorted(value):
            flat.update(_flatten(f"{prefix}.{key}" if prefix else str(key), value[key]))
        return flat
    return {prefix: value}


def model_measures(model: dict) -> dict[str, dict[str, Any]]:
    """The deterministic measures of one model, by what they depend on: the pruned variables' shapes
    (``structure``), the trained weights (``weights``), and the evaluation too (``accuracy``)."""
    variables = model.get("variables") or {}
    structure = {"nonzero": model.get("nonzero")}
    weights: dict[str, Any] = {}
    for name in sorted(variables):
        entry = variables[name] if isinstance(variables[name], dict) else {}
        structure[f"variables.{name}.total"] = entry.get("total")
        structure[f"variables.{name}.nonzero"] = entry.get("nonzero")
        weights[f"variables.{name}.threshold"] = entry.get("threshold")
    weights.update(_flatten("sizes", model.get("sizes") or {}))
    weights.update(_flatten("formats", model.get("formats") or {}))
    if model.get("entropy_bound") is not None:
        weights.update(_flatten("entropy_bound", model["entropy_bound"]))
    accuracy = _flatten("accuracy", model.get("accuracy") or {})
    for name, text in sorted((model.get("correct") or {}).items()):  # newer schema: per-image correctness
        accuracy[f"correct.{name}"] = text
    return {"structure": structure, "weights": weights, "accuracy": accuracy}


def _paper_method(results: dict) -> list[dict]:
    """The baselines and the one-shot models: compare does not yet key models by pruning method
    (prune/methods/), so it compares the paper's method only rather than mix methods up."""
    return [model for model in results["models"] if model["ratio"] == 0 or model.get("method", "oneshot") == "oneshot"]


def _models(results: dict) -> dict[tuple[float, int], dict]:
    return {(ratio_key(model["ratio"]), int(model["seed"])): model for model in _paper_method(results)}


def compare_compression(base: dict, new: dict, tolerance_images: int = 0) -> dict:
    """Every deterministic measure of the models both runs built; a change is any difference (accuracy:
    more than ``tolerance_images`` test images)."""
    skipped = {
        "structure": _profile_differences(base, new, ("variables",)),
        "weights": _profile_differences(base, new, WEIGHT_SETTINGS),
        "accuracy": _profile_differences(base, new, ACCURACY_SETTINGS),
    }
    images = new["profile"].get("eval_images") or MNIST_TEST_IMAGES
    base_models, new_models = _models(base), _models(new)
    changes, compared = [], 0
    for key in sorted(set(base_models) & set(new_models)):
        ratio, seed = key
        before, after = model_measures(base_models[key]), model_measures(new_models[key])
        for group in ("structure", "weights", "accuracy"):
            if skipped[group]:
                continue
            for measure in sorted(set(before[group]) | set(after[group])):
                old, now = before[group].get(measure, ABSENT), after[group].get(measure, ABSENT)
                compared += 1
                item = {"ratio": ratio, "seed": seed, "measure": measure, "base": old, "new": now}
                if group == "accuracy" and _is_number(old) and _is_number(now):
                    moved = accuracy_images(old, now, images)
                    if moved > tolerance_images:
                        changes.append({**item, "images": moved})
                elif measure.startswith("correct.") and ABSENT in (old, now) and old != now:
                    # recorded on one side only (schema 1 kept no per-image bits): say so, not the bits
                    changes.append({**item, "base": "recorded" if old != ABSENT else ABSENT,
                                    "new": "recorded" if now != ABSENT else ABSENT})
                elif measure.startswith("correct.") and isinstance(old, str) and isinstance(now, str):
                    flipped, right = _flipped_images(old, now)
                    if flipped > tolerance_images:  # right or wrong on other images, whatever the accuracy
                        changes.append({**item, "base": right[0], "new": right[1], "images": flipped})
                elif old != now:
                    changes.append(item)
    base_fc1 = {ratio_key(entry["ratio"]): entry for entry in base.get("fc1") or []}
    new_fc1 = {ratio_key(entry["ratio"]): entry for entry in new.get("fc1") or []}
    if not skipped["weights"]:
        for ratio in sorted(set(base_fc1) & set(new_fc1)):
            old, now = base_fc1[ratio].get("nonzero", ABSENT), new_fc1[ratio].get("nonzero", ABSENT)
            compared += 1
            if old != now:
                changes.append({"ratio": ratio, "seed": None, "measure": "fc1.nonzero", "base": old, "new": now})
    notes = []
    for group, what in (("structure", "nonzero counts"), ("weights", "thresholds, sizes and formats"),
                        ("accuracy", "accuracies")):
        if skipped[group]:
            notes.append(f"{what} not compared: the profiles differ ({'; '.join(skipped[group])})")
    for side, only in (("base", set(base_models) - set(new_models)), ("new", set(new_models) - set(base_models))):
        if only:
            notes.append(f"models only in {side}, not compared: "
                         + ", ".join(f"ratio={r:g} seed={s}" for r, s in sorted(only)))
    if base["machine"].get("tensorflow") != new["machine"].get("tensorflow"):
        notes.append(f"TensorFlow differs ({base['machine'].get('tensorflow')} vs {new['machine'].get('tensorflow')}): "
                     "a changed weight-dependent measure may come from it")
    return {"compared": compared, "models": len(set(base_models) & set(new_models)), "changes": changes,
            "accuracy_tolerance_images": tolerance_images, "eval_images": images, "notes": notes}


def _flipped_images(old: str, new: str) -> tuple[int, tuple[int, int]]:
    """Images whose correctness differs between two per-image bit vectors (base64 of packed bits), and the
    count of correct images in each; a string that is not such a vector counts as all different."""
    import base64
    import binascii

    import numpy as np

    try:
        a, b = (np.frombuffer(base64.b64decode(text, validate=True), dtype=np.uint8) for text in (old, new))
    except (binascii.Error, ValueError):
        return (0 if old == new else 1), (-1, -1)
    if len(a) != len(b):
        return max(len(a), len(b)) * 8, (int(np.unpackbits(a).sum()), int(np.unpackbits(b).sum()))
    return (int(np.unpackbits(a ^ b).sum()), (int(np.unpackbits(a).sum()), int(np.unpackbits(b).sum())))


def compression_line(item: dict) -> str:
    where = f"ratio={item['ratio']:g}" + (f" seed={item['seed']}" if item["seed"] is not None else "")
    if item["measure"].startswith("fc1."):
        where = f"fc1 {where}"
    extra = f" ({item['images']} images)" if "images" in item else ""
    return f"compression: {where} {item['measure']} {_value(item['base'])} -> {_value(item['new'])}{extra}"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return "null" if value is None else str(value)


# ---- claims -----------------------------------------------------------------------------------------------

def claim_key(claim: dict) -> tuple[str, str, str | None]:
    return claim["id"], claim["subject"], claim.get("range")


def _claim_side(claim: dict) -> dict:
    """Schema 1: rho and its bootstrap ci. Newer: equivalence claims add effect, its interval and margin."""
    equivalence = claim.get("effect") is not None
    return {"verdict": claim["verdict"], "effect": claim["effect"] if equivalence else claim.get("rho"),
            "interval": (claim.get("interval") or claim.get("ci")) if equivalence else claim.get("ci"),
            "rho": claim.get("rho"), "ci": claim.get("ci"), "p": claim.get("p_holm", claim.get("p")),
            "margin": claim.get("margin"), "n": claim.get("n")}


def compare_claims(base: dict, new: dict) -> dict:
    before = {claim_key(claim): claim for claim in base["claims"]}
    after = {claim_key(claim): claim for claim in new["claims"]}
    changes = []
    for key in sorted(set(before) & set(after), key=lambda k: (k[0], k[1], k[2] or "")):
        if before[key]["verdict"] != after[key]["verdict"]:
            changes.append({"id": key[0], "subject": key[1], "range": key[2],
                            "base": _claim_side(before[key]), "new": _claim_side(after[key])})
    notes = []
    for side, only in (("base", set(before) - set(after)), ("new", set(after) - set(before))):
        if only:
            notes.append(f"{len(only)} claims only in {side}, not compared: "
                         + ", ".join(_claim_name(*key) for key in sorted(only, key=lambda k: (k[0], k[1], k[2] or ""))[:6])
                         + (", ..." if len(only) > 6 else ""))
    if not base["claims"] or not new["claims"]:
        notes.append("a run has no claims (e.g. merged without recomputing): nothing to compare there")
    return {"compared": len(set(before) & set(after)), "changes": changes, "notes": notes}


def _claim_name(claim_id: str, subject: str, claim_range: str | None) -> str:
    return f"({claim_id}) {subject}" + (f" [{claim_range}]" if claim_range else "")


def _effect(side: dict) -> str:
    effect = "n/a" if not _is_number(side["effect"]) else f"{side['effect']:.3g}"
    ci = side["interval"]
    if isinstance(ci, list) and len(ci) == 2 and all(map(_is_number, ci)):
        effect += f" [{ci[0]:.3g}, {ci[1]:.3g}]"
    if _is_number(side.get("margin")):
        effect += f" margin {side['margin']:.3g}"
    return effect


def claim_line(item: dict) -> str:
    return (f"claims: {_claim_name(item['id'], item['subject'], item['range'])} {item['base']['verdict']} -> "
            f"{item['new']['verdict']} (effect {_effect(item['base'])} -> {_effect(item['new'])})")


# ---- timings ----------------------------------------------------------------------------------------------

def same_machine_class(base: dict, new: dict) -> bool:
    return machine_class(base.get("machine")) == machine_class(new.get("machine"))


def compare_times(base: dict, new: dict, base_rounds: dict, new_rounds: dict, *, history: Sequence[dict] = (),
                  earlier_new: Sequence[dict] = (), factor: float = FACTOR, alpha: float = ALPHA,
                  p_adjust: str = "holm") -> dict:
    """Same machine class. Verdicts per timing family, between runs: the new run against the baseline runs
    ``history`` + ``base``; or, given ``earlier_new`` (one per ``history`` run, each made right after it),
    the interleaved pairs ``zip(history + base, earlier_new + new)`` by a paired test (``compare_stats``).
    Per benchmark: both medians against ``base``, the factor and the within-run Mann-Whitney p on the raw
    rounds, which describes and gates nothing."""
    before, after = timing_entries(base), timing_entries(new)
    rows = []
    for ident in sorted(set(before) & set(after), key=_sort_ident):
        old, now = base_rounds.get(ident), new_rounds.get(ident)
        row = {"benchmark": label(ident), "family": ident[3], "base_median_s": float(before[ident]["median_s"]),
               "new_median_s": float(after[ident]["median_s"]), "p": None, "p_adjusted": None,
               "rounds": [len(old) if old else before[ident].get("rounds"), len(now) if now else after[ident].get("rounds")]}
        if old and now:
            row["factor"] = median_ratio(old, now)
            row["p"] = mann_whitney_p(old, now)
            if min_attainable_p(len(old), len(now)) >= alpha:
                row["note"] = f"{len(old)} vs {len(now)} rounds cannot reach p < {alpha}"
        else:
            row["factor"] = row["new_median_s"] / row["base_median_s"] if row["base_median_s"] else None
            missing = " and ".join(side for side, rounds in (("base", old), ("new", now)) if not rounds)
            row["note"] = f"no raw rounds in {missing}: no within-run p"
        rows.append(row)
    # Benchmarks whose rounds cannot reach alpha at all stay out of Holm's family (Tarone).
    testable = [None if "cannot reach" in row.get("note", "") else row["p"] for row in rows]
    for row, p in zip(rows, holm(testable) if p_adjust == "holm" else testable, strict=True):
        row["p_adjusted"] = p
    interleaved = bool(earlier_new)
    if interleaved and len(earlier_new) != len(history):
        raise UsageError(f"interleaved runs come in pairs: {len(history) + 1} base runs, {len(earlier_new) + 1} new")
    # A disturbed new run says nothing against stored baselines; in a pair, its base run shares the episode.
    noisy = None if interleaved else noisier_than_baselines([*history, base], new)
    families = judge_families([*history, base], [*earlier_new, new], paired=interleaved, factor=factor,
                              alpha=alpha, p_adjust=p_adjust, judge=noisy is None)
    verdicts = {family["family"]: family["verdict"] for family in families}
    for row in rows:
        verdict = verdicts.get(row["family"], "not judged")
        moved = row["factor"] is not None and (row["factor"] > factor if verdict == "slower" else row["factor"] < 1 / factor)
        if verdict in ("slower", "faster") and not moved:
            verdict = "unchanged"  # its family moved, this benchmark did not (by the factor)
        row["verdict"] = verdict
    counts = {verdict: sum(row["verdict"] == verdict for row in rows) for verdict in VERDICTS}
    family_counts = {verdict: sum(family["verdict"] == verdict for family in families) for verdict in VERDICTS}
    only = {side: len(set(a) - set(b)) for side, a, b in (("base", before, after), ("new", after, before))}
    return {"benchmarks": rows, "families": families, "counts": counts, "family_counts": family_counts,
            "baseline_runs": len(history) + 1, "interleaved_pairs": len(history) + 1 if interleaved else None,
            "noisy_run": noisy, "only_in": only, "factor": factor, "alpha": alpha,
            "p_adjust": p_adjust}


def noisier_than_baselines(baseline_runs: Sequence[dict], new: dict) -> str | None:
    """Why the new run is not judged on time, or None. A run whose machine noise (the median IQR/median of
    its timings, ``noise.machine``) exceeds that of every baseline run was disturbed in a way the baselines
    never were, so their spread says nothing about it: rerun it rather than judge it."""
    def noise(results: dict) -> float | None:
        value = results["noise"].get("machine") if isinstance(results.get("noise"), dict) else None
        return float(value) if _is_number(value) else None

    now, before = noise(new), [noise(run) for run in baseline_runs]
    if now is None or None in before or len(before) < MIN_BASELINE_RUNS or now <= max(before):
        return None
    return (f"the new run's machine noise (IQR/median {now:.3f}) exceeds every baseline run's "
            f"(at most {max(before):.3f}): a disturbed run; time not judged, rerun it")


def judge_families(baseline_runs: Sequence[dict], new_runs: Sequence[dict], *, paired: bool = False,
                   factor: float = FACTOR, alpha: float = ALPHA, p_adjust: str = "holm", judge: bool = True) -> list[dict]:
    """The time test of every timing family over the benchmarks that all runs timed: the last of
    ``new_runs`` against ``baseline_runs`` (``between_run_test``), or with ``paired`` the runs pair by pair
    (``paired_runs_test``). None is judged when ``judge`` is false: the families are listed only."""
    medians = [_medians(run) for run in baseline_runs]
    news = [_medians(run) for run in (new_runs if paired else new_runs[-1:])]
    members: dict[str, list[tuple]] = {}
    for ident in sorted(news[-1], key=_sort_ident):
        if all(run.get(ident, 0) > 0 for run in [*medians, *news]):
            members.setdefault(ident[3], []).append(ident)
    families = []
    for family, idents in sorted(members.items()):
        logs = [[math.log(run[i]) for i in idents] for run in medians]
        test = None
        if judge:
            test = (paired_runs_test(logs, [[math.log(run[i]) for i in idents] for run in news]) if paired
                    else between_run_test(logs, [math.log(news[-1][i]) for i in idents]))
        families.append({"family": family, "benchmarks": len(idents), "baseline_runs": len(medians),
                         "basis": f"{len(medians)} interleaved pairs" if paired else f"{len(medians)} baseline runs",
                         "factor": math.exp(test["d"]) if test else None,
                         "spread": math.exp(test["s"]) if test else None,
                         "scale": test["scale"] if test else None, "df": test["df"] if test else None,
                         "t": test["t"] if test else None, "p": test["p"] if test else None})
    pvalues = [family["p"] for family in families]
    judged = sum(p is not None for p in pvalues)
    for family, p in zip(families, holm(pvalues) if p_adjust == "holm" else pvalues, strict=True):
        family["p_adjusted"] = p
        family["verdict"] = "not judged" if p is None else time_verdict(family["factor"], p, factor=factor, alpha=alpha)
        family["detectable_factor"] = (None if p is None else detectable_factor(
            family["scale"], family["df"], judged if p_adjust == "holm" else 1, factor=factor, alpha=alpha))
    return families


def time_line(family: dict) -> str:
    return (f"time: {family['family']} {family['verdict']} x{family['factor']:.3f} over {family['benchmarks']} "
            f"benchmarks (against {family['basis']}: spread x{family['spread']:.3f}, "
            f"t {family['t']:.2f}, p_adj {family['p_adjusted']:.2g})")


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.4g}"


def _sort_ident(ident: tuple) -> tuple:
    kind, ratio, seed, key = ident
    return (kind, ratio, -1 if seed is None else seed, key)


def _medians(results: dict) -> dict[tuple, float]:
    return {ident: float(entry["median_s"]) for ident, entry in timing_entries(results).items()}


def compare_speedups(base: dict, new: dict, factor: float = FACTOR) -> dict:
    """Each engine's speedup over ``tf-dense`` measured in the same run, model (or FC1 ratio), device,
    scope and batch: carries over between machines (both sides of the ratio moved with the machine)."""
    before, after = _medians(base), _medians(new)
    rows, missing_reference = [], 0
    for ident in sorted(set(before) & set(after), key=_sort_ident):
        kind, ratio, seed, key = ident
        engine, device, scope, batch = key.split("/")
        if engine == REFERENCE_ENGINE:
            continue
        reference = (kind, ratio, seed, f"{REFERENCE_ENGINE}/{device}/{scope}/{batch}")
        if reference not in before or reference not in after:
            missing_reference += 1
            continue
        old, now = before[reference] / before[ident], after[reference] / after[ident]
        change = now / old
        rows.append({"benchmark": label(ident), "base_speedup": old, "new_speedup": now, "change": change,
                     "beyond_factor": beyond_factor(change, factor)})
    return {"rows": rows, "missing_reference": missing_reference}


def crossovers(results: dict, ratios: set[float]) -> dict[tuple[str, str, str], float | None]:
    """Per (device, batch, sparse engine): smallest FC1 ratio (among ``ratios``) from which the engine is at
    least as fast as the best dense engine at every larger ratio."""
    table: dict[tuple[str, str], dict[str, dict[float, float]]] = {}
    for entry in results.get("fc1") or []:
        ratio = ratio_key(entry["ratio"])
        if ratio not in ratios:
            continue
        for key, timing in (entry.get("timings") or {}).items():
            engine, device, _, batch = key.split("/")
            table.setdefault((device, batch), {}).setdefault(engine, {})[ratio] = float(timing["median_s"])
    found = {}
    recorded = results.get("engines") if isinstance(results.get("engines"), dict) else {}

    def is_sparse(engine: str) -> bool:
        """As the run recorded it (newer schema); schema 1 did not, and the registry (which imports TensorFlow,
        seconds) agrees with the engines' names: the dense ones say "dense"."""
        entry = recorded.get(engine)
        return bool(entry["sparse"]) if isinstance(entry, dict) and "sparse" in entry else "dense" not in engine

    for (device, batch), engines in table.items():
        dense = [times for engine, times in engines.items() if not is_sparse(engine)]
        ordered = sorted(ratios)
        best = [min((times[r] for times in dense if r in times), default=None) for r in ordered]
        for engine, times in engines.items():
            if is_sparse(engine):
                found[(device, batch.removeprefix("batch="), engine)] = crossover(ordered, [times.get(r) for r in ordered], best)
    return found


def compare_crossovers(base: dict, new: dict) -> list[dict]:
    common = ({ratio_key(e["ratio"]) for e in base.get("fc1") or []} & {ratio_key(e["ratio"]) for e in new.get("fc1") or []})
    before, after = crossovers(base, common), crossovers(new, common)
    return [{"device": device, "batch": batch, "engine": engine, "base": before.get((device, batch, engine)),
             "new": after.get((device, batch, engine)),
             "changed": before.get((device, batch, engine)) != after.get((device, batch, engine))}
            for device, batch, engine in sorted(set(before) | set(after),
                                                key=lambda k: (k[0], int(k[1]) if k[1].isdigit() else 1e9, k[2]))]


def compare_bandwidth(base: dict, new: dict, factor: float = FACTOR) -> dict:
    """Time x the bandwidth measured in the same run: the bytes the machine could have read meanwhile."""
    bandwidths = base.get("bandwidth_bytes_per_s"), new.get("bandwidth_bytes_per_s")
    if not all(bandwidths):
        return {"rows": [], "note": "not compared: a run has no measured bandwidth"}
    before, after = _medians(base), _medians(new)
    rows = []
    for ident in sorted(set(before) & set(after), key=_sort_ident):
        old, now = before[ident] * bandwidths[0], after[ident] * bandwidths[1]
        change = now / old if old else None
        rows.append({"benchmark": label(ident), "base_bytes": old, "new_bytes": now, "change": change,
                     "beyond_factor": beyond_factor(change, factor)})
    return {"rows": rows, "bandwidth_bytes_per_s": list(bandwidths), "note": None}


# ---- the whole comparison ---------------------------------------------------------------------------------

def compare(base: dict, new: dict, *, base_path: Path, new_path: Path, base_rounds: dict | None = None,
            new_rounds: dict | None = None, history: Sequence[tuple[dict, Path]] = (),
            earlier_new: Sequence[tuple[dict, Path]] = (), rounds_notes: tuple[str, str] = ("", ""),
            factor: float = FACTOR, alpha: float = ALPHA, p_adjust: str = "holm", tolerance_images: int = 0,
            fail_on: Iterable[str] = DEFAULT_FAIL_ON) -> dict:
    """The whole comparison of ``new`` with ``base``. ``history``: earlier baseline runs, oldest first, for
    the time verdict; with ``earlier_new`` (the new run made right after each of them) the runs are
    interleaved pairs, judged by the paired test."""
    fail_on = tuple(fail_on)
    same = same_machine_class(base, new)
    if earlier_new:
        strangers = [str(path) for results, path in [*history, *earlier_new] if not same_machine_class(results, new)]
        if strangers or not same:
            raise DataError("interleaved runs are made on one machine, but these are of another machine class: "
                            + ", ".join(strangers or [str(base_path)]))
    report: dict[str, Any] = {
        "kind": "prunebench-compare", "schema_version": 1,
        "base": _describe(base, base_path), "new": _describe(new, new_path),
        "same_machine_class": same, "absolute_times_compared": same,
        "settings": {"factor": factor, "alpha": alpha, "p_adjust": p_adjust,
                     "accuracy_tolerance_images": tolerance_images, "fail_on": list(fail_on)},
        "compression": compare_compression(base, new, tolerance_images),
        "claims": compare_claims(base, new),
        "speedups": compare_speedups(base, new, factor),
        "crossovers": compare_crossovers(base, new),
        "bandwidth": compare_bandwidth(base, new, factor),
    }
    if same:
        # Earlier baselines of another machine class say nothing about this one's run-to-run spread.
        runs, dropped = [], []
        for results, path in history:
            (runs if same_machine_class(results, new) else dropped).append((results, path))
        report["history"] = [str(path) for _, path in runs]
        report["history_dropped"] = [str(path) for _, path in dropped]
        report["interleaved"] = [[str(b), str(n)] for (_, b), (_, n) in zip(history, earlier_new)] if earlier_new else None
        report["timings"] = compare_times(base, new, base_rounds or {}, new_rounds or {},
                                          history=[results for results, _ in runs],
                                          earlier_new=[results for results, _ in earlier_new], factor=factor,
                                          alpha=alpha, p_adjust=p_adjust)
        report["timings"]["raw_rounds"] = {"base": rounds_notes[0], "new": rounds_notes[1]}
    else:
        report["timings"] = None
    failures = []
    if "compression" in fail_on:
        failures += [compression_line(item) for item in report["compression"]["changes"]]
    if "claims" in fail_on:
        failures += [claim_line(item) for item in report["claims"]["changes"]]
    if "time" in fail_on and report["timings"]:
        failures += [time_line(family) for family in report["timings"]["families"] if family["verdict"] == "slower"]
    report["failures"] = failures
    report["exit_status"] = 1 if failures else 0
    return report


def _describe(results: dict, path: Path) -> dict:
    cpu, gpus = machine_class(results.get("machine"))
    return {"path": str(path), "created": results.get("created"), "profile": results["profile"].get("name"),
            "schema_version": results["schema_version"], "cpu": cpu, "gpus": list(gpus),
            "machine_class": class_slug(results), "tensorflow": results["machine"].get("tensorflow")}


# ---- rendering --------------------------------------------------------------------------------------------

def _sections(report: dict, show_all: bool) -> list[tuple[str, list[str], tuple[list[str], list[list[str]]] | None]]:
    """(title, paragraphs, table or None) in order; rendered as text or markdown."""
    base, new = report["base"], report["new"]

    def machine(side: dict) -> str:
        return f"{side['cpu']}, " + (", ".join(side["gpus"]) if side["gpus"] else "no GPU")

    sections = [("prunebench compare", [
        f"base: {base['path']} ({base['profile']} profile, {base['created']}, {machine(base)}, TF {base['tensorflow']})",
        f"new:  {new['path']} ({new['profile']} profile, {new['created']}, {machine(new)}, TF {new['tensorflow']})",
        f"fails on: {', '.join(report['settings']['fail_on']) or 'nothing'}"], None)]

    comp = report["compression"]
    rows = [[f"{item['ratio']:g}", "" if item["seed"] is None else str(item["seed"]), item["measure"],
             _value(item["base"]), _value(item["new"])] for item in comp["changes"]]
    sections.append(("Compression (deterministic measures, compared exactly)", [
        f"{comp['compared']} measures of {comp['models']} models compared "
        f"(accuracy to {comp['accuracy_tolerance_images']} of {comp['eval_images']} test images): "
        + (f"{len(comp['changes'])} changed" if comp["changes"] else "no change"), *comp["notes"]],
        (["ratio", "seed", "measure", "base", "new"], rows) if rows else None))

    claims = report["claims"]
    rows = [[_claim_name(item["id"], item["subject"], item["range"]), item["base"]["verdict"], item["new"]["verdict"],
             _effect(item["base"]), _effect(item["new"])] for item in claims["changes"]]
    sections.append(("Claims", [f"{claims['compared']} claims matched by id, subject and range: "
                                + (f"{len(claims['changes'])} verdicts changed" if claims["changes"] else "no verdict changed"),
                                *claims["notes"]],
                     (["claim", "base", "new", "base effect [95% CI]", "new effect [95% CI]"], rows) if rows else None))

    settings = report["settings"]
    timings = report["timings"]
    if timings is None:
        sections.append(("Timings", [
            f"Absolute times were not compared: the machine classes differ ({machine(base)} vs {machine(new)}). "
            "Only quantities that carry over between machines follow: speedups over tf-dense, FC1 crossovers "
            "and time relative to the measured bandwidth. No time verdict is given."], None))
    else:
        sections += _timing_sections(report, show_all)

    speed = report["speedups"]
    moved = [row for row in speed["rows"] if row["beyond_factor"]]
    shown, hidden = _limit(speed["rows"] if show_all else moved, "change", show_all)
    paragraphs = [f"{len(speed['rows'])} engine timings relative to tf-dense of the same run: "
                  + (f"{len(moved)} moved beyond x{settings['factor']:.2f}" if moved else
                     f"none moved beyond x{settings['factor']:.2f}")]
    if speed["rows"]:
        widest = max(speed["rows"], key=lambda row: abs(_log(row["change"])))
        paragraphs.append(f"largest change: {widest['benchmark']} speedup {widest['base_speedup']:.3g}x -> "
                          f"{widest['new_speedup']:.3g}x (x{widest['change']:.3f})")
    if hidden:
        paragraphs.append(f"the {MAX_ROWS} largest changes shown; {hidden} more with --show all or --format json")
    if speed["missing_reference"]:
        paragraphs.append(f"{speed['missing_reference']} timings have no tf-dense reference in both runs")
    rows = [[row["benchmark"], f"{row['base_speedup']:.3g}x", f"{row['new_speedup']:.3g}x", f"{row['change']:.3f}"]
            for row in shown]
    sections.append(("Speedup over tf-dense (same run, ratio, batch and scope)", paragraphs,
                     (["benchmark", "base speedup", "new speedup", "change"], rows) if rows else None))

    rows = [[row["device"], row["batch"], row["engine"], _crossing(row["base"]), _crossing(row["new"]),
             "changed" if row["changed"] else ""] for row in report["crossovers"]]
    sections.append(("FC1 crossover (smallest ratio from which the sparse engine is at least as fast as the best "
                     "dense engine)", [] if rows else ["no FC1 timings in both runs"],
                     (["device", "batch", "engine", "base", "new", ""], rows) if rows else None))

    band = report["bandwidth"]
    if band["note"]:
        sections.append(("Time x measured bandwidth", [band["note"]], None))
    else:
        moved = [row for row in band["rows"] if row["beyond_factor"]]
        shown, hidden = _limit(band["rows"] if show_all else moved, "change", show_all)
        changes = [row["change"] for row in band["rows"] if row["change"]]
        paragraphs = [f"bandwidth {band['bandwidth_bytes_per_s'][0] / 1e9:.3g} GB/s (base), "
                      f"{band['bandwidth_bytes_per_s'][1] / 1e9:.3g} GB/s (new); {len(band['rows'])} timings: "
                      + (f"{len(moved)} moved beyond x{settings['factor']:.2f}" if moved
                         else f"none moved beyond x{settings['factor']:.2f}")
                      + (f"; median change x{statistics.median(changes):.3f}" if changes else "")]
        if hidden:
            paragraphs.append(f"the {MAX_ROWS} largest changes shown; {hidden} more with --show all or --format json")
        rows = [[row["benchmark"], f"{row['base_bytes'] / 1e6:.4g}", f"{row['new_bytes'] / 1e6:.4g}",
                 f"{row['change']:.3f}"] for row in shown]
        sections.append(("Time x measured bandwidth (MB the machine could read meanwhile)", paragraphs,
                         (["benchmark", "base MB", "new MB", "change"], rows) if rows else None))

    verdict = (["FAILED: " + f"{len(report['failures'])} failing items"] + report["failures"] if report["failures"]
               else ["PASSED: nothing that fails on " + (", ".join(settings["fail_on"]) or "nothing") + " changed"])
    sections.append(("Result", verdict, None))
    return sections


def _timing_sections(report: dict, show_all: bool) -> list[tuple[str, list[str], tuple[list[str], list[list[str]]] | None]]:
    timings = report["timings"]
    runs, counts, pairs = timings["baseline_runs"], timings["family_counts"], timings.get("interleaved_pairs")
    adjust = "Holm-adjusted " if timings["p_adjust"] == "holm" else ""
    paragraphs = [
        f"Same machine class: {len(timings['benchmarks'])} benchmarks in {len(timings['families'])} families "
        f"(engine/device/scope/batch), "
        + (f"over {pairs} interleaved pairs of runs (base, new, base, new, ...; made back to back)." if pairs else
           f"against {runs} baseline run{'s' if runs != 1 else ''}"
           + (f" ({', '.join(report['history'])} and base)" if report.get("history") else "") + ".")]
    if pairs:
        paragraphs.append(
            f"families: slower {counts['slower']}, faster {counts['faster']}, unchanged {counts['unchanged']}, "
            f"not judged {counts['not judged']} (rule: each pair's shift of the family, new against its base, "
            f"paired t over the pairs with {pairs - 1} df, {adjust}p < {timings['alpha']}, and beyond "
            f"x{timings['factor']:.2f}; 'spread' is the pairs' spread of the shift, 'detectable' the smallest "
            "slowdown these pairs could flag).")
    elif runs < MIN_BASELINE_RUNS:
        paragraphs.append(
            "Time not judged: one baseline run cannot tell a change of the code from a shift of the run (whole "
            "engines move together between runs on shared machines). Give two or more baselines of this machine "
            "class: BASE... NEW, or --against latest with --history N.")
    else:
        paragraphs.append(
            f"families: slower {counts['slower']}, faster {counts['faster']}, unchanged {counts['unchanged']}, "
            f"not judged {counts['not judged']} (rule: the new run's shift of each family against the baseline "
            f"runs' spread of it, t with {runs - 1} df, {adjust}p < {timings['alpha']}, and beyond "
            f"x{timings['factor']:.2f}; 'detectable' is the smallest slowdown these baselines could flag).")
    if timings.get("noisy_run"):
        paragraphs.append(timings["noisy_run"][0].upper() + timings["noisy_run"][1:] + ".")
    if report.get("history_dropped"):
        paragraphs.append(f"baselines of another machine class left out: {', '.join(report['history_dropped'])}")
    paragraphs.append(f"raw rounds: base {timings['raw_rounds']['base'] or 'none'}; new {timings['raw_rounds']['new'] or 'none'}")
    if any(timings["only_in"].values()):
        paragraphs.append(f"benchmarks only in base: {timings['only_in']['base']}, only in new: {timings['only_in']['new']}")
    rows = [[family["family"], str(family["benchmarks"]), _times(family["factor"]), _times(family["spread"]),
             "n/a" if family["t"] is None else f"{family['t']:.2f}", _p(family["p_adjusted"]),
             _detectable(family["detectable_factor"]), family["verdict"]] for family in timings["families"]]
    sections = [(f"Timings ({'interleaved pairs' if pairs else 'between runs'}, per family)", paragraphs,
                 (["family", "benchmarks", "shift", "spread", "t", "p adj", "detectable", "verdict"], rows) if rows else None)]
    shown = [row for row in timings["benchmarks"] if show_all or row["verdict"] in ("slower", "faster")]
    shown, hidden = _limit(shown, "factor", show_all)
    notes = [f"{len(shown)} benchmarks shown" + (" (all)" if show_all else " (those of a changed family that moved "
             "beyond the factor themselves)") + f"; p is the within-run Mann-Whitney U on the raw rounds, {adjust}"
             "a description that gates nothing."]
    if hidden:
        notes.append(f"{hidden} more not shown (--show all, or --format json)")
    rows = [[row["benchmark"], _ms(row["base_median_s"]), _ms(row["new_median_s"]), _times(row["factor"]),
             _p(row["p_adjusted"]), f"{row['rounds'][0]}/{row['rounds'][1]}", row["verdict"]] for row in shown]
    sections.append(("Timings per benchmark (against base)", notes,
                     (["benchmark", "base ms", "new ms", "factor", "within-run p adj", "rounds", "verdict"], rows) if rows else None))
    return sections


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"x{value:.3f}"


def _detectable(value: float | None) -> str:
    """The smallest detectable slowdown; beyond x1000 the baselines are too noisy for the number to matter."""
    return f">x{DETECTABLE_CAP:.0f}" if value is not None and value > DETECTABLE_CAP else _times(value)


def _limit(rows: list[dict], field: str, show_all: bool) -> tuple[list[dict], int]:
    """Without --show all, the MAX_ROWS rows whose ``field`` (a ratio) is farthest from 1, in table order."""
    if show_all or len(rows) <= MAX_ROWS:
        return rows, 0
    keep = {id(row) for row in sorted(rows, key=lambda row: -abs(_log(row[field])))[:MAX_ROWS]}
    return [row for row in rows if id(row) in keep], len(rows) - MAX_ROWS


def _log(value: float | None) -> float:
    return 0.0 if not value or value <= 0 else math.log(value)


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def _crossing(ratio: float | None) -> str:
    return "never" if ratio is None else f"{ratio:g}"


def render_text(report: dict, show_all: bool = False) -> str:
    out = []
    for title, paragraphs, table in _sections(report, show_all):
        out += [title, "=" * len(title) if title == "prunebench compare" else "-" * len(title), *paragraphs]
        if table:
            header, rows = table
            widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
            out.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
            out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        out.append("")
    return "\n".join(out)


def render_markdown(report: dict, show_all: bool = False) -> str:
    out = []
    for index, (title, paragraphs, table) in enumerate(_sections(report, show_all)):
        out.append(("## " if index == 0 else "### ") + title + "\n")
        if title == "Result" and report["failures"]:
            out += [paragraphs[0] + "\n", "```", *paragraphs[1:], "```", ""]
            continue
        out += [paragraph.replace("|", "\\|") + "\n" for paragraph in paragraphs]
        if table:
            header, rows = table
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
            out.append("")
    return "\n".join(out)


# ---- command line -----------------------------------------------------------------------------------------

def _fail_on(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip() and part.strip() != "none")
    unknown = [part for part in chosen if part not in CATEGORIES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; choose from {','.join(CATEGORIES)} or none")
    return chosen


def _positive_factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 1.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number >= 1")
    return value


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} must be in (0, 1)")
    return value


def _whole_number(unit: str, minimum: int):
    """An argparse type: a whole number of ``unit`` of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {unit}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} must be >= {minimum}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``compare`` sub-command's arguments (the CLI wires them in)."""
    parser.add_argument("results", type=Path, nargs="+", metavar="RESULTS",
                        help="BASE... NEW (the last BASE is compared in full; earlier ones, oldest first, only "
                             "add baseline runs for the time verdict); or NEW with --against; or the results to "
                             "store with --save")
    parser.add_argument("--against", metavar="BASELINE",
                        help="compare RESULTS with a stored baseline: latest, a number, a --save name or a path")
    parser.add_argument("--interleaved", action="store_true",
                        help="RESULTS are BASE1 NEW1 BASE2 NEW2 ...: pairs made back to back on one machine, "
                             "in the order they ran; time is judged pair by pair (a paired test over the "
                             "pairs), the last pair is compared in full")
    parser.add_argument("--history", type=_whole_number("runs", 1), default=DEFAULT_HISTORY, metavar="N",
                        help="with --against: judge time against the N newest baselines of the machine class up "
                             f"to the chosen one (default {DEFAULT_HISTORY}; time needs at least 2)")
    parser.add_argument("--save", metavar="NAME",
                        help="store RESULTS as the next baseline of its machine class (NNNN_NAME.json) and exit")
    parser.add_argument("--allow-missing-baseline", action="store_true",
                        help="with --against: no baseline yet is a note and exit 0, not an error")
    parser.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    parser.add_argument("--output", type=Path, help="write the output here (atomically) instead of stdout")
    parser.add_argument("--fail-on", type=_fail_on, default=DEFAULT_FAIL_ON, metavar="LIST",
                        help="comma list of compression,claims,time (or none) that makes the exit status 1 "
                             "(default compression,claims)")
    parser.add_argument("--factor", type=_positive_factor, default=FACTOR,
                        help=f"minimum median ratio for a time change (default {FACTOR})")
    parser.add_argument("--alpha", type=_alpha, default=ALPHA, help=f"significance level (default {ALPHA})")
    parser.add_argument("--p-adjust", choices=("holm", "none"), default="holm",
                        help="adjust the Mann-Whitney p over the benchmarks compared (default holm)")
    parser.add_argument("--accuracy-tolerance", type=_whole_number("images", 0), default=0, metavar="IMAGES",
                        help="accuracy change tolerated, in test images (default 0)")
    parser.add_argument("--show", choices=("changes", "all"), default="changes",
                        help="table rows: only changes (default) or every comparison")
    parser.add_argument("--base-benchmarks", type=Path, metavar="JSON",
                        help="pytest-benchmark JSON with BASE's raw rounds (default: the one BASE names)")
    parser.add_argument("--new-benchmarks", type=Path, metavar="JSON",
                        help="pytest-benchmark JSON with NEW's raw rounds (default: the one NEW names)")


def run(args: argparse.Namespace) -> None:
    """The ``compare`` sub-command. Prints the comparison; raises RegressionsFound after printing the
    failing items one a line on stderr, PrunebenchError on bad input."""
    paths = list(args.results)
    earlier_new: list[tuple[dict, Path]] = []
    if args.interleaved and (args.against or args.save is not None):
        raise UsageError("--interleaved takes its pairs on the command line, not with --against or --save")
    if args.save is not None:
        if args.against or len(paths) != 1:
            raise UsageError("--save NAME takes exactly one RESULTS file and no --against")
        results = load_for_compare(paths[0])
        rounds, note = raw_rounds(results, paths[0], args.new_benchmarks)
        path = save_baseline(with_embedded_rounds(results, rounds), paths[0], args.save)
        print(f"{path}: baseline of machine class {class_slug(results)} (raw rounds: {note})")
        return
    history: list[tuple[dict, Path]] = []
    if args.against:
        if len(paths) != 1:
            raise UsageError("--against BASELINE takes exactly one RESULTS file (the new run)")
        new_path = paths[0]
        new = load_for_compare(new_path)
        base_path, note = find_baseline(args.against, new, new_path)
        if base_path is None:
            if args.allow_missing_baseline:
                print(f"prunebench compare: {note}; nothing compared")
                return
            raise DataError(note)
        print(f"prunebench compare: {note}", file=sys.stderr)
        base = load_for_compare(base_path)
        history = [(load_for_compare(path), path) for path in earlier_baselines(base_path, args.history - 1)]
    elif args.interleaved:
        if len(paths) < 2 * MIN_PAIRS or len(paths) % 2:
            raise UsageError(f"--interleaved expects BASE1 NEW1 BASE2 NEW2 ...: an even number of at least "
                             f"{2 * MIN_PAIRS} results files, got {len(paths)}")
        runs = [(load_for_compare(path), path) for path in paths]
        *history, (base, base_path) = runs[0::2]
        *earlier_new, (new, new_path) = runs[1::2]
    else:
        if len(paths) < 2:
            raise UsageError(f"expected BASE... NEW results files, got {len(paths)} (or use --against / --save)")
        *earlier, base_path, new_path = paths
        base, new = load_for_compare(base_path), load_for_compare(new_path)
        history = [(load_for_compare(path), path) for path in earlier]
    if args.output is not None and args.output.is_dir():
        raise DataError(f"--output {args.output}: is a directory, expected a file name")
    same = same_machine_class(base, new)
    base_rounds, base_note = raw_rounds(base, base_path, args.base_benchmarks) if same else ({}, "")
    new_rounds, new_note = raw_rounds(new, new_path, args.new_benchmarks) if same else ({}, "")
    report = compare(base, new, base_path=base_path, new_path=new_path, base_rounds=base_rounds,
                     new_rounds=new_rounds, history=history, earlier_new=earlier_new,
                     rounds_notes=(base_note, new_note), factor=args.factor,
                     alpha=args.alpha, p_adjust=args.p_adjust, tolerance_images=args.accuracy_tolerance,
                     fail_on=args.fail_on)
    show_all = args.show == "all"
    if args.format == "json":
        text = json.dumps(report, indent=1, sort_keys=True, allow_nan=False) + "\n"
    elif args.format == "markdown":
        text = render_markdown(report, show_all)
    else:
        text = render_text(report, show_all)
    if args.output is not None:
        try:
            atomic.write_text(args.output, text)
        except OSError as error:
            raise DataError(f"--output {args.output}: cannot write ({error.strerror or error})") from None
        print(f"{args.output}: comparison written", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if report["failures"]:
        if args.format != "table" or args.output is not None:  # the table on stdout lists them already
            for line in report["failures"]:
                print(line, file=sys.stderr)
        counts = {category: sum(line.startswith(category + ":") for line in report["failures"])
                  for category in args.fail_on}
        raise RegressionsFound(f"{len(report['failures'])} failing items ("
                               + ", ".join(f"{category} {count}" for category, count in counts.items()) + ")")
