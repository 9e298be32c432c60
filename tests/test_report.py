"""Report: every file is written, published values sit beside measured ones, missing data is stated."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from factories import fabricate_results

from prunebench.report.document import write_report
from prunebench.report.figures import FIGURES
from prunebench.report.markdown import NO_TIMINGS, parse_timing_key
from prunebench.results.readers import best_dense
from prunebench.verdicts.judging import evaluate_claims
from prunebench.verdicts.paper import FC_TOTALS, PAPER_RATIOS, TOTAL_PARAMS, paper_zero_count
from prunebench.verdicts.stats import crossover

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _with_claims(results: dict) -> dict:
    results["claims"] = evaluate_claims(results, {"claims": {"a:*": {"verdict": "supported", "reason": "paper §5.7"}}})
    return results


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("report")
    results = _with_claims(fabricate_results())
    fc1_at_10 = next(entry for entry in results["fc1"] if entry["ratio"] == 0.1)
    fc1_at_10["fc1_bytes"] = {"tf-dense/cpu/fc1/batch=32": 13_000_000, "tf-sparse/cpu/fc1/batch=32": 5_000_000}
    return out_dir, write_report(results, out_dir)


def test_writes_markdown_and_every_figure_as_png(full_report):
    out_dir, paths = full_report
    assert paths == [out_dir / "report.md", *[out_dir / "figures" / name for name in FIGURES]]
    for path in paths[1:]:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000
    assert not list(out_dir.rglob("*.tmp-*"))


def test_markdown_shows_published_values_beside_measured(full_report):
    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    assert "| w_fc1 | 0.016 | 0.012034996 | 3211264 | 3211264 | 2890138 | 2890137 |" in text
    assert "| 66.8 [66.5–67.2] | 66.5 |" in text  # measured step_3 MiB beside the paper's
    assert "### Table 9: pruning ratio 90% (paper §5.6)" in text
    assert "### Pruning ratio 95% (not in the paper)" in text
    assert "(table image only)" in text


def test_markdown_has_conclusions_formats_engines_and_bandwidth(full_report):
    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    assert "| (a) | the paper's ratios (10-90%) | `size:step_3` | **supported**" in text and "paper §5.7" in text
    assert "| step_3 checkpoint | 90% | 50% |" in text  # break-even vs dense weights and vs step_1
    assert "Crossover vs best dense engine: numpy-csr: 70%; tf-sparse: 70%" in text
    assert "| 10% | tf-sparse | 32 | 5000000 |" in text


def test_goals_section_follows_the_conclusions_with_a_row_per_goal(full_report):
    from prunebench.verdicts.goals import GOALS

    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    conclusions, goals, formats = (text.index(title) for title in
                                   ("## Conclusions", "## Goals beyond the paper", "## Storage formats"))
    assert conclusions < goals < formats
    section = text[goals:formats]
    assert all(f"| `{goal.id}`: " in section for goal in GOALS)
    assert "| **not met**: 0.410 MiB too large | ≤ 1.306 MiB: **fails** |" in section  # synthetic sizes
    assert "not measured: eval_images is 2000, needs 10000" in section


def test_markdown_opens_with_the_summary(full_report):
    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    summary = text[:text.index("## The run")]
    assert summary.startswith("# prunebench report") and "Margins: accuracy ±1 pt, time ±10%." in summary
    assert "| (b) accuracy does not change with the ratio | `accuracy:dense` | **supported** | **refuted** |" in summary
    assert "| (c) prediction time does not change with the ratio | `time:tf-sparse/cpu/network/batch=32` |" in summary
    assert "pt [" in summary and "x [" in summary  # effects with their intervals
    assert "(not gated" not in summary  # tf-dense and tf-sparse: expected from their work on every machine


def test_schema_1_results_are_rejudged_with_a_note(tmp_path):
    results = json.loads((Path(__file__).parent / "data" / "schema1-paper-run" / "results.json").read_text())
    if results["schema_version"] != 1:
        pytest.skip("the committed paper run is no longer schema 1")
    text = write_report(results, tmp_path)[0].read_text()
    assert "these results are schema 1" in text
    assert "| (a) size falls as the ratio rises | `size:step_3` | **supported** | **supported** |" in text


def test_report_survives_missing_timings_and_claims(tmp_path):
    results = fabricate_results(ratios=(0.0, 0.5, 0.9), seeds=(0,), timings=False)
    for model in results["models"]:
        model["formats"], model["entropy_bound"] = {}, None
    paths = write_report(results, tmp_path)
    text = paths[0].read_text()
    assert NO_TIMINGS in text and "No claims were evaluated" in text and "No storage formats" in text
    assert "### Table 4: pruning ratio 10% (paper §5.1)\n\nNot measured in this run." in text
    assert all(path.read_bytes().startswith(PNG_SIGNATURE) for path in paths[1:])


def test_crossover_needs_every_later_ratio_at_least_as_fast():
    ratios = [0.0, 0.5, 0.7, 0.9]
    assert crossover(ratios, [3.0, 0.9, 1.1, 0.5], [1.0, 1.0, 1.0, 1.0]) == 0.9
    assert crossover(ratios, [3.0, None, 0.9, 0.5], [1.0, 1.0, 1.0, None]) == 0.7
    assert crossover(ratios, [3.0, 2.0, 2.0, 2.0], [1.0] * 4) is None


def test_best_dense_takes_the_fastest_dense_engine_at_each_ratio():
    times = {"tf-dense": [2.0, None, 3.0], "tflite-dense": [1.0, 4.0, None], "tf-sparse": [0.1, 0.1, 0.1]}
    sparse = {"tf-dense": False, "tflite-dense": False, "tf-sparse": True}
    assert best_dense(times, sparse) == [1.0, 4.0, 3.0]
    assert best_dense({"tf-sparse": [0.1, 0.2]}, sparse) == [None, None]  # no dense engine: nothing to beat
    assert best_dense({}, sparse) == []


def test_parse_timing_key():
    assert parse_timing_key("tf-sparse/cpu/network/batch=all") == ("tf-sparse", "cpu", "network", "all")


def test_paper_zero_count_reproduces_every_published_count():
    for row in PAPER_RATIOS.values():
        for name, total in FC_TOTALS.items():
            assert total - paper_zero_count(row.ratio, total) == row.nonzero[name]


def test_paper_total_params_match_the_architecture():
    shapes = [(5, 5, 1, 32), (32,), (5, 5, 32, 64), (64,), (3136, 1024), (1024,), (1024, 10), (10,)]
    counts = [math.prod(shape) for shape in shapes]
    assert sum(counts) == TOTAL_PARAMS and counts[4] == FC_TOTALS["w_fc1"] and counts[6] == FC_TOTALS["w_fc2"]


def test_best_lossless_size_skips_lossy_and_unknown_formats():
    from prunebench.report.methods import best_lossless_size

    def model(bitmask_mib: float) -> dict:
        return {"formats": {"dense-float32": {"model_bytes": 12 * 2**20},
                            "bitmask": {"model_bytes": int(bitmask_mib * 2**20)},
                            "bitmask-f16+zstd": {"model_bytes": 2**19}, "no-such-format": {"model_bytes": 1}}}

    assert best_lossless_size([model(2.0), model(3.0)]) == "2.5 (bitmask)"
    assert best_lossless_size([]) == "—"


def test_blocks_section_sets_block_times_beside_dense_and_unstructured():
    from prunebench.report.timings import blocks_fc1_section

    def timings(scope: str, **medians) -> dict:
        return {f"{engine.replace('_', '-')}/cpu/{scope}/batch=1": {"median_s": median, "rounds": 5}
                for engine, median in medians.items()}

    results = {"fc1": [{"ratio": 0.9, "timings": timings("fc1", tf_dense=8e-5, tf_sparse=1.6e-4)}],
               "fc1_blocks": [{"ratio": 0.9, "timings": timings("fc1-blocks", tf_sparse=4e-5)}]}
    text = blocks_fc1_section(results, {"tf-dense": False, "tf-sparse": True})
    assert ("| ratio | tf-sparse | best dense ms | speedup of the best block engine | best sparse (unstructured) ms |"
            in text)
    assert "| 90% | 0.04 | 0.08 | 2.00x | 0.16 |" in text
    assert NO_TIMINGS in blocks_fc1_section({"fc1": [], "fc1_blocks": []}, {})


def test_fastest_network_takes_the_engine_with_the_smallest_median_over_models():
    from prunebench.report.methods import fastest_network

    def model(dense: float, sparse: float) -> dict:
        return {"timings": {"tf-dense/cpu/network/batch=1": {"median_s": dense},
                            "tf-sparse/cpu/network/batch=1": {"median_s": sparse},
                            "tf-sparse/cpu/fc1/batch=1": {"median_s": 1e-9}}}  # another scope: ignored

    assert fastest_network([model(1e-3, 2e-3), model(3e-3, 2e-3)], "cpu", "1") == "2 (tf-dense)"
    assert fastest_network([model(1e-3, 2e-3)], "cpu", "32") == "—"
