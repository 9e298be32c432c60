"""The paper's claims side by side across runs of different networks (``prunebench report A.json B.json ...``).

Each run keeps its own report beside its JSON; this page answers the question the workloads exist for: do the
paper's claims hold for another network? One column per run, named by its workload, one row per claim and
subject of the summary (the paper's own measures), each cell the verdict over the paper's ratios with its
effect, or why the run could not judge it. Built from the results alone, like every report.
"""

from __future__ import annotations

from collections.abc import Sequence

from prunebench.model.workloads import DEFAULT_WORKLOAD
from prunebench.report.claim_tables import SUMMARY_SUBJECTS, claim_index, effect_text, first_method
from prunebench.report.markdown import MISSING, subject_title, table
from prunebench.verdicts.claims import CLAIMS


def run_label(results: dict) -> str:
    """A run's column: its workload, profile and per-layer ratio maps (the paper's CNN is the default workload,
    unnamed in its run)."""
    profile = results["profile"]
    details = [f"{profile['name']} profile", *(f"--ratios {name}" for name in profile.get("policies") or {})]
    return f"{profile.get('workload') or DEFAULT_WORKLOAD} ({', '.join(details)})"


def ratios_text(results: dict) -> str:
    """The ratios a run pruned at: its list, and each per-layer map's overall ratio."""
    ratios = sorted({model["ratio"] for model in results["models"] if model["ratio"] > 0})
    return ", ".join(f"{ratio:.4g}" for ratio in ratios) or MISSING


def claim_cell(claim: dict | None) -> str:
    if claim is None:
        return MISSING
    beyond = " (beyond the paper's ratios)" if claim["range"] == "beyond" else ""
    if not claim.get("judged", True):
        return f"not judged{beyond}: {claim.get('not_judged_because')}"
    return f"**{claim['verdict']}**{beyond}, {effect_text(claim)}"


def across_section(runs: Sequence[dict]) -> str:
    """The page: per claim and subject, each run's verdict over the paper's ratios (else beyond them), for the
    paper's first method in each run (its one-shot, else the first it ran)."""
    runs = [first_method(run) for run in runs]
    labels = [run_label(run) for run in runs]
    indices = [claim_index(run["claims"]) for run in runs]
    rows = []
    for claim_id, subjects in SUMMARY_SUBJECTS.items():
        for subject in subjects:
            cells = [claim_cell(index.get((claim_id, "paper", subject)) or index.get((claim_id, "beyond", subject)))
                     for index in indices]
            rows.append([f"({claim_id}) {CLAIMS[claim_id].short}", subject_title(subject), *cells])
    described = "".join(f"- {label}: {len(run['models'])} models, ratios {ratios_text(run)}, "
                        f"{len(run['profile']['seeds'])} seed(s), {run['profile']['max_steps']:,} training and "
                        f"{run['profile']['retrain_steps']:,} retraining steps of {run['profile']['batch_size']}, "
                        f"created {run['created']}\n"
                        for label, run in zip(labels, runs))
    return ("# The paper's claims across networks\n\n"
            "Each run's verdict on the paper's own measures over the paper's ratios (10–90%; beyond them where "
            "a run has none inside), with its effect. A verdict on another network than the paper's CNN is "
            "reported, not gated: the profiles' expectations describe the paper's CNN. Each run's own report "
            "holds its figures and every other subject.\n\n"
            + table(["claim", "subject", *labels], rows) + "\nThe runs:\n\n" + described)
