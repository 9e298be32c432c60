"""Claims, compared by verdict: the claims of two runs matched by (id, subject, range, method), since each
pruning method is judged on its own models; a changed verdict is a change, shown with the effect and interval
each run measured.
"""

from __future__ import annotations

from prunebench.compare.reading import is_number
from prunebench.prune.methods import DEFAULT_METHOD

ClaimKey = tuple[str, str, str | None, str]


def claim_key(claim: dict) -> ClaimKey:
    """Claims from before methods have no method: they judged the paper's one-shot."""
    return claim["id"], claim["subject"], claim.get("range"), claim.get("method") or DEFAULT_METHOD


def _claim_side(claim: dict) -> dict:
    """Schema 1: rho and its bootstrap ci. Newer: equivalence claims add effect, its interval and margin."""
    equivalence = claim.get("effect") is not None
    return {"verdict": claim["verdict"], "effect": claim["effect"] if equivalence else claim.get("rho"),
            "interval": (claim.get("interval") or claim.get("ci")) if equivalence else claim.get("ci"),
            "rho": claim.get("rho"), "ci": claim.get("ci"), "p": claim.get("p_holm", claim.get("p")),
            "margin": claim.get("margin"), "n": claim.get("n")}


def _in_order(keys: set[ClaimKey]) -> list[ClaimKey]:
    return sorted(keys, key=lambda key: (key[0], key[1], key[2] or "", key[3] != DEFAULT_METHOD, key[3]))


def compare_claims(base: dict, new: dict) -> dict:
    before = {claim_key(claim): claim for claim in base["claims"]}
    after = {claim_key(claim): claim for claim in new["claims"]}
    changes = []
    for key in _in_order(set(before) & set(after)):
        if before[key]["verdict"] != after[key]["verdict"]:
            changes.append({"id": key[0], "subject": key[1], "range": key[2], "method": key[3],
                            "base": _claim_side(before[key]), "new": _claim_side(after[key])})
    notes = []
    for side, only in (("base", set(before) - set(after)), ("new", set(after) - set(before))):
        if only:
            names = [claim_name(*key) for key in _in_order(only)]
            notes.append(f"{len(only)} claims only in {side}, not compared: " + ", ".join(names[:6])
                         + (", ..." if len(names) > 6 else ""))
    if not base["claims"] or not new["claims"]:
        notes.append("a run has no claims (e.g. merged without recomputing): nothing to compare there")
    return {"compared": len(set(before) & set(after)), "changes": changes, "notes": notes}


def claim_name(claim_id: str, subject: str, claim_range: str | None, method: str) -> str:
    """The method is named unless it is the paper's one-shot, as models are (``reading.model_name``)."""
    return (f"({claim_id}) {subject}" + (f" [{claim_range}]" if claim_range else "")
            + ("" if method == DEFAULT_METHOD else f" method={method}"))


def effect_text(side: dict) -> str:
    effect = "n/a" if not is_number(side["effect"]) else f"{side['effect']:.3g}"
    ci = side["interval"]
    if isinstance(ci, list) and len(ci) == 2 and all(map(is_number, ci)):
        effect += f" [{ci[0]:.3g}, {ci[1]:.3g}]"
    if is_number(side.get("margin")):
        effect += f" margin {side['margin']:.3g}"
    return effect


def claim_line(item: dict) -> str:
    return (f"claims: {claim_name(item['id'], item['subject'], item['range'], item['method'])} "
            f"{item['base']['verdict']} -> "
            f"{item['new']['verdict']} (effect {effect_text(item['base'])} -> {effect_text(item['new'])})")
