"""Compression, compared exactly: the deterministic measures of every (method, ratio, seed) model both runs
built (thresholds, nonzero counts, sizes, every format's bytes), accuracy to a tolerance in test images. A model
only one run built is named as left out, never dropped silently.

A measure is compared only where the two runs' profiles agree on what determines it (``WEIGHT_SETTINGS``,
``ACCURACY_SETTINGS``): otherwise a difference would be the settings', not the code's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prunebench.compare.reading import ModelKey, is_number, model_name, model_order, models_by_key
from prunebench.compare.stats import accuracy_images
from prunebench.model.constants import MNIST_TEST_IMAGES
from prunebench.results.keys import ratio_key
from prunebench.results.profiles import ACCURACY_SETTINGS, WEIGHT_SETTINGS

ABSENT = "absent"  # a measure one run recorded and the other did not


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


def compare_compression(base: dict, new: dict, tolerance_images: int = 0) -> dict:
    """Every deterministic measure of the models both runs built; a change is any difference (accuracy:
    more than ``tolerance_images`` test images)."""
    skipped = {
        "structure": _profile_differences(base, new, ("variables",)),
        "weights": _profile_differences(base, new, WEIGHT_SETTINGS),
        "accuracy": _profile_differences(base, new, ACCURACY_SETTINGS),
    }
    images = new["profile"].get("eval_images") or MNIST_TEST_IMAGES
    base_models, new_models = models_by_key(base), models_by_key(new)
    both = sorted(set(base_models) & set(new_models), key=model_order)
    changes, compared = [], 0
    for key in both:
        before, after = model_measures(base_models[key]), model_measures(new_models[key])
        for group in ("structure", "weights", "accuracy"):
            if skipped[group]:
                continue
            for measure in sorted(set(before[group]) | set(after[group])):
                old, now = before[group].get(measure, ABSENT), after[group].get(measure, ABSENT)
                compared += 1
                item = {"method": key.method, "ratio": key.ratio, "seed": key.seed, "measure": measure,
                        "base": old, "new": now}
                if group == "accuracy" and is_number(old) and is_number(now):
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
                changes.append({"method": None, "ratio": ratio, "seed": None, "measure": "fc1.nonzero",
                                "base": old, "new": now})
    notes = []
    for group, what in (("structure", "nonzero counts"), ("weights", "thresholds, sizes and formats"),
                        ("accuracy", "accuracies")):
        if skipped[group]:
            notes.append(f"{what} not compared: the profiles differ ({'; '.join(skipped[group])})")
    left_out = {side: [model_name(key) for key in sorted(set(mine) - set(theirs), key=model_order)]
                for side, mine, theirs in (("base", base_models, new_models), ("new", new_models, base_models))}
    for side, names in left_out.items():
        if names:
            notes.append(f"models only in {side}, not compared: {', '.join(names)}")
    if base["machine"].get("tensorflow") != new["machine"].get("tensorflow"):
        notes.append(f"TensorFlow differs ({base['machine'].get('tensorflow')} vs {new['machine'].get('tensorflow')}): "
                     "a changed weight-dependent measure may come from it")
    return {"compared": compared, "models": len(both), "methods": methods_of(both), "left_out": left_out,
            "changes": changes, "accuracy_tolerance_images": tolerance_images, "eval_images": images, "notes": notes}


def methods_of(keys: Iterable[ModelKey]) -> list[str]:
    """The pruning methods of the pruned models among ``keys``, in model order (the paper's first)."""
    return list(dict.fromkeys(key.method for key in sorted(keys, key=model_order) if key.method is not None))


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
    if item["seed"] is None:  # an FC1 section's measure
        where = f"fc1 ratio={item['ratio']:g}"
    else:
        where = model_name(ModelKey(item["method"], item["ratio"], item["seed"]))
    extra = f" ({item['images']} images)" if "images" in item else ""
    return f"compression: {where} {item['measure']} {value_text(item['base'])} -> {value_text(item['new'])}{extra}"


def value_text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return "null" if value is None else str(value)

