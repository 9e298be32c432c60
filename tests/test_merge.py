"""``prunebench merge``: a sweep split across machines becomes one results JSON with claims recomputed."""

from __future__ import annotations

import json

from factories import fabricate_results

from prunebench.cli import main
from prunebench.results.contract import load_results, save_results
from prunebench.verdicts.expected import profile_protocol


def test_merge_joins_disjoint_seeds_and_recomputes_claims(tmp_path, capsys):
    parts = []
    for seed in (0, 1):
        part = fabricate_results(seeds=(seed,), timings=False)
        part["profile"].update(name="quick", **profile_protocol("quick"))
        path = tmp_path / f"part{seed}.json"
        save_results(part, path)
        parts.append(str(path))
    assert main(["merge", "-o", str(tmp_path / "merged.json"), *parts]) == 0
    merged = load_results(tmp_path / "merged.json")
    assert sorted({model["seed"] for model in merged["models"]}) == [0, 1]
    assert merged["profile"]["seeds"] == [0, 1]
    sizes = {claim["range"]: claim for claim in merged["claims"]
             if claim["subject"] == "size:step_3" and claim["id"] == "a"}
    assert sizes["paper"]["n"] == 2 * 6 and sizes["paper"]["expected"] == "supported"
    assert sizes["beyond"]["n"] == 2  # 95%, both seeds
    assert "16 models from 2 parts" in capsys.readouterr().out


def test_merge_refuses_a_part_that_is_not_results(tmp_path, capsys):
    (tmp_path / "bad.json").write_text(json.dumps({"kind": "something else"}))
    assert main(["merge", "-o", str(tmp_path / "out.json"), str(tmp_path / "bad.json")]) == 1
    assert "kind" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()
