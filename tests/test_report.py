"""Report: every file is written, it reads top-down (findings, summary, the claims beside their figures, the
appendix last), published values sit beside measured ones, missing data is stated, numbers read for people."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from factories import fabricate_results

from prunebench.report.claim_tables import claim_p, holm_by_family
from prunebench.report.document import write_report
from prunebench.report.figure_files import FIGURES
from prunebench.report.figures import (
    error_bars,
    frontier_limits,
    interval_series,
    margin_band,
    paper_span,
)
from prunebench.report.markdown import NO_TIMINGS, mib_text, p_text, parse_timing_key, significant, subject_title
from prunebench.report.styles import ENGINE_STYLES, METHOD_STYLES, SIZE_STYLES, nth_style
from prunebench.results.readers import best_dense
from prunebench.verdicts.judging import evaluate_claims
from prunebench.verdicts.paper import FC_TOTALS, PAPER_RATIOS, TOTAL_PARAMS, paper_zero_count
from prunebench.verdicts.stats import crossover, exact_spearman_p

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
    assert "| w_fc1 | 0.016000 | 0.012035 | 3,211,264 | 3,211,264 | 2,890,138 | 2,890,137 |" in text
    assert "| 66.83 [66.50–67.16] | 66.50 |" in text  # measured step_3 MiB beside the paper's
    assert "### Table 9: pruning ratio 90% (paper §5.6)" in text
    assert "### Pruning ratio 95% (not in the paper)" in text
    assert text.count("only as table images") == 1 and "(table image only)" not in text
    assert text.count("Our nonzero counts are one above the paper's in 10 of its 12 counts") == 1


def test_markdown_has_appendix_formats_engines_and_bandwidth(full_report):
    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    assert ("| (a) | the paper's ratios (10-90%) | size (MiB), step_3 checkpoint (the paper's file) | **supported**"
            in text and "[1] paper §5.7" in text)
    assert "| step_3 checkpoint | 90% | 50% |" in text  # break-even vs dense weights and vs step_1
    assert "Crossover vs best dense engine: numpy-csr: 70%; tf-sparse: 70%" in text
    assert "| 10% | tf-sparse | 32 | 4.77 |" in text  # MiB read
    assert "e+0" not in text  # no exponents: sizes in MiB, times in ms


def test_report_reads_top_down_and_links_each_figure_once(full_report):
    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    titles = ("## Findings", "## Summary: the paper's claims", "## The claims, one by one", "## The run",
              "## The paper's figures, reproduced", "## Tables 4–9", "## Goals beyond the paper",
              "## Storage formats", "## Inference engines: the whole network", "## Appendix: every subject")
    places = [text.index(title) for title in titles]
    assert places == sorted(places) and text.index("## ") == places[0]
    claims = text[places[2]:places[3]]
    assert claims.index("claim_size.png") < claims.index("### (b)") < claims.index("claim_accuracy.png")
    assert claims.index("### (c)") < claims.index("claim_time.png")
    assert all(text.count(f"(figures/{name})") == 1 for name in FIGURES)
    assert "## Figures" not in text


def test_goals_section_has_a_row_per_goal(full_report):
    from prunebench.verdicts.goals import GOALS

    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    section = text[text.index("## Goals beyond the paper"):text.index("## Storage formats")]
    assert all(f"| `{goal.id}`: " in section for goal in GOALS)
    assert "| **not met**: 0.410 MiB too large | ≤ 1.306 MiB: **fails** |" in section  # synthetic sizes
    assert "not measured: eval_images is 2000, needs 10000" in section


def test_findings_state_each_claim_with_its_numbers(full_report):
    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    findings = text[text.index("## Findings"):text.index("## Summary")]
    assert "**(a) size falls as the ratio rises:** supported over the paper's ratios (10-90%)" in findings
    assert "66.83 MiB at 10%" in findings
    assert "-0.45 pt [-0.62, -0.27] at 90%" in findings and "refuted beyond the paper" in findings
    assert "tf-sparse refuted, 0.115x the unpruned time at 90%" in findings and "8.7x faster" in findings
    assert "smaller than the unpruned 37.50 MiB step_1 checkpoint from 50% on" in findings and "(d)" in findings


def test_summary_names_subjects_in_words_with_units(full_report):
    out_dir, _ = full_report
    text = (out_dir / "report.md").read_text()
    summary = text[:text.index("## The claims, one by one")]
    assert summary.startswith("# prunebench report") and "Margins: accuracy ±1 pt, time ±10%." in summary
    assert ("| (b) accuracy does not change with the ratio | accuracy (%), dense network | **supported** | "
            "**refuted** |") in summary
    assert "| time (ms), tf-sparse, whole network, batch 32, CPU |" in summary
    assert not any(key in summary for key in ("time:", "size:", "accuracy:", "batch=", "`"))
    assert "pt [" in summary and "x [" in summary and "reaches furthest from no change" in summary
    assert "(not gated" not in summary  # tf-dense and tf-sparse: expected from their work on every machine


def test_no_p_value_reads_zero(tmp_path):
    results = fabricate_results(ratios=(0.0, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9), seeds=(0,))
    results["claims"] = evaluate_claims(results, {})
    size = next(claim for claim in results["claims"] if claim["subject"] == "size:step_3" and claim["id"] == "a")
    assert size["p"] == pytest.approx(2 / 720)  # judged on the exact p of a perfect order of 6: 2 / 6!
    text = write_report(results, tmp_path)[0].read_text()
    assert not re.search(r"\bp (=|is) 0(?![.\d])|\| 0 \| 6 \|", text)
    assert "rho -1.00, p = 0.0028" in text
    size["p"] = 0.0  # a run judged before the exact p: its stored t approximation still reads as the exact p
    assert "rho -1.00, p = 0.0028" in write_report(results, tmp_path / "older")[0].read_text()


def test_schema_1_results_are_rejudged_with_a_note(tmp_path):
    results = json.loads((Path(__file__).parent / "data" / "schema1-paper-run" / "results.json").read_text())
    if results["schema_version"] != 1:
        pytest.skip("the committed paper run is no longer schema 1")
    text = write_report(results, tmp_path)[0].read_text()
    assert "these results are schema 1" in text
    assert ("| (a) size falls as the ratio rises | size (MiB), step_3 checkpoint (the paper's file) | **supported** | "
            "**supported** |") in text


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

    assert best_lossless_size([model(2.0), model(3.0)]) == "2.50 (bitmask)"
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
    assert "| 90% | 0.0400 | 0.0800 | 2.00x | 0.160 |" in text
    assert NO_TIMINGS in blocks_fc1_section({"fc1": [], "fc1_blocks": []}, {})


def test_fastest_network_takes_the_engine_with_the_smallest_median_over_models():
    from prunebench.report.methods import fastest_network

    def model(dense: float, sparse: float) -> dict:
        return {"timings": {"tf-dense/cpu/network/batch=1": {"median_s": dense},
                            "tf-sparse/cpu/network/batch=1": {"median_s": sparse},
                            "tf-sparse/cpu/fc1/batch=1": {"median_s": 1e-9}}}  # another scope: ignored

    assert fastest_network([model(1e-3, 2e-3), model(3e-3, 2e-3)], "cpu", "1") == "2.00 (tf-dense)"
    assert fastest_network([model(1e-3, 2e-3)], "cpu", "32") == "—"


def test_report_is_byte_stable_across_reruns(full_report, tmp_path):
    out_dir, paths = full_report
    results = _with_claims(fabricate_results())
    fc1_at_10 = next(entry for entry in results["fc1"] if entry["ratio"] == 0.1)
    fc1_at_10["fc1_bytes"] = {"tf-dense/cpu/fc1/batch=32": 13_000_000, "tf-sparse/cpu/fc1/batch=32": 5_000_000}
    again = write_report(results, tmp_path)
    assert [path.read_bytes() for path in again] == [path.read_bytes() for path in paths]


# ---- exact p values -------------------------------------------------------------------------------------

def test_exact_spearman_p_enumerates_every_ordering():
    from scipy import stats

    assert exact_spearman_p([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]) == pytest.approx(2 / 720)  # not 0
    assert exact_spearman_p([1, 2, 3], [3, 2, 1]) == pytest.approx(1 / 3)
    rng = np.random.default_rng(1)
    x, y = rng.random(5), rng.random(5)
    permutation = stats.permutation_test((y,), lambda values: stats.spearmanr(x, values).statistic,
                                         permutation_type="pairings", n_resamples=np.inf).pvalue
    assert exact_spearman_p(x, y) == pytest.approx(permutation)
    assert exact_spearman_p(range(10), range(10)) is None  # too many orderings: the t approximation stands
    assert exact_spearman_p([1, 2, 3], [5, 5, 5]) is None


def test_claim_p_is_exact_from_the_stored_points_and_holm_adjusts_per_family():
    def claim(subject: str, y: list[float], claim_id: str = "a") -> dict:
        return {"id": claim_id, "range": "paper", "subject": subject, "method": "oneshot", "p": 0.0,
                "x": [0.1, 0.3, 0.5, 0.7, 0.8, 0.9], "y": y}

    falling, mixed = claim("size:a", [6, 5, 4, 3, 2, 1]), claim("size:b", [6, 5, 4, 3, 1, 2])
    assert claim_p(falling) == (pytest.approx(2 / 720), True)
    assert claim_p({**falling, "x": list(range(10)), "y": list(range(10)), "p": 1e-9}) == (1e-9, False)
    other_claim = claim("size:a", [6, 5, 4, 3, 2, 1], claim_id="d")
    adjusted = holm_by_family([falling, mixed, other_claim])
    assert adjusted[0] == pytest.approx(2 * 2 / 720) and adjusted[2] == pytest.approx(2 / 720)


# ---- the figures' data ------------------------------------------------------------------------------------

def _per_ratio_claim(range_name: str, rows: list[tuple[float, float, float, float]]) -> dict:
    return {"id": "b", "range": range_name, "subject": "accuracy:dense",
            "per_ratio": [{"ratio": r, "effect": e, "low": lo, "high": hi} for r, e, lo, hi in rows]}


def test_interval_series_joins_the_ranges_with_every_interval():
    claims = [_per_ratio_claim("beyond", [(0.99, -0.04, -0.045, -0.035)]),
              _per_ratio_claim("paper", [(0.1, -0.002, -0.004, 0.0), (0.9, -0.004, -0.006, -0.003)])]
    series = interval_series(claims, "accuracy:dense", scale=100)
    assert series.ratios == [0.1, 0.9, 0.99]
    assert series.lows == pytest.approx([-0.4, -0.6, -4.5]) and series.highs == pytest.approx([0.0, -0.3, -3.5])
    assert all(low <= effect <= high for low, effect, high in zip(series.lows, series.effects, series.highs))
    assert error_bars(series, [0.1, 0.5, 0.99]) == [pytest.approx([0.2, 0.0, 0.5]), pytest.approx([0.2, 0.0, 0.5])]
    assert interval_series(claims, "time:tf-dense/cpu/network/batch=32") is None
    assert interval_series([{**claims[0], "per_ratio": None}], "accuracy:dense") is None  # schema 1


def test_margin_band_and_the_paper_span():
    assert margin_band(0.01, log_scale=False, scale=100) == (-1.0, 1.0)
    low, high = margin_band(0.10, log_scale=True)
    assert low == pytest.approx(1 / 1.1) and high == pytest.approx(1.1)
    assert paper_span([0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]) == (-0.5, 5.5)
    assert paper_span([0.0, 0.5, 0.9, 0.95]) == (0.5, 2.5)
    assert paper_span([0.95, 0.99]) is None


def test_frontier_limits_clip_a_collapsed_method_but_show_every_other():
    references = [99.0, 98.5, 99.05]
    bottom, top = frontier_limits([99.2, 98.1, 94.3, 87.9], references)
    assert bottom < 94.3 and bottom > 87.9 and top > 99.2
    assert frontier_limits([99.2, 98.1], references)[0] < 98.1


def test_each_engine_format_and_method_has_one_distinct_style():
    for styles in (ENGINE_STYLES, METHOD_STYLES):
        assert len({(style.colour, style.marker) for style in styles.values()}) == len(styles)
        assert len({style.colour for style in styles.values()}) == len(styles)
    first = [nth_style(index) for index in range(20)]  # what the formats figure draws
    assert len({style.colour for style in first}) == 20 and len({(s.colour, s.marker) for s in first}) == 20
    assert list(SIZE_STYLES)[:2] == ["step_3 checkpoint", "dense-float32"]


# ---- numbers for people ---------------------------------------------------------------------------------

def test_numbers_are_written_without_exponents_and_p_never_as_zero():
    assert significant(7720.4) == "7,720" and significant(0.0192) == "0.0192" and significant(2.0) == "2.00"
    assert mib_text(39_296_548) == "37.48" and mib_text(1_002_361) == "0.956"
    assert p_text(0.0) == "< 0.001" and p_text(2 / 720) == "0.0028" and p_text(0.468) == "0.47"
    assert subject_title("time:tf-sparse/cpu/network/batch=32") == "time (ms), tf-sparse, whole network, batch 32, CPU"
    assert subject_title("size:bitmask+gzip") == "size (MiB), bitmask+gzip format"


def test_structured_speedup_takes_its_reference_from_the_same_benchmark():
    from prunebench.report.timings import structured_fc1_section

    def entry(ratio: float, section_scope: str, **medians) -> dict:
        return {"ratio": ratio, "units": round(1024 * (1 - ratio)),
                "timings": {f"{engine.replace('_', '-')}/cpu/{section_scope}/batch=1": {"median_s": median}
                            for engine, median in medians.items()}}

    results = {"fc1": [entry(0.0, "fc1", tf_dense=1e-4), entry(0.9, "fc1", tf_dense=1e-4, tf_sparse=5e-5)],
               "fc1_neurons": [entry(0.0, "fc1-neurons", tf_dense=1.3e-4), entry(0.9, "fc1-neurons", tf_dense=2e-5)]}
    text = structured_fc1_section(results, {"tf-dense": False, "tf-sparse": True})
    assert "| 0% | 1,024 | 0.130 | 1.00x |" in text
    assert "| 90% | 102 | 0.0200 | 6.50x | 0.0500 |" in text


def test_a_lenet_run_shows_han_et_als_table_and_none_of_the_papers_values(tmp_path):
    """A run of another network sets its Han et al. row beside the measured one (error, parameters kept,
    compression, each layer's share) and leaves out what only the paper's CNN has: its tables and figures
    5-7, its published sizes, its checkpoint's size line."""
    from prunebench.model.workloads.lenet import HAN, HAN_TABLE

    results = _with_claims(fabricate_results(ratios=(0.0, 0.9), seeds=(0,)))
    results["profile"]["workload"] = "lenet-300-100"
    baseline, pruned = results["models"]
    totals = {"w_fc1": 235_200, "w_fc2": 30_000, "w_fc3": 1_000}
    kept = HAN_TABLE["lenet-300-100"].kept
    pruned.update(policy=HAN, nonzero=sum(round(totals[name] * kept[name]) for name in totals),
                  variables={name: {"nonzero": round(total * kept[name]), "total": total, "threshold": 0.1}
                             for name, total in totals.items()})
    for model, accuracy in ((baseline, 0.982), (pruned, 0.9841)):
        model["accuracy"]["dense"] = accuracy
        model["sizes"]["weights_dense"] = 266_610 * 4
    paths = write_report(results, tmp_path)
    text = (tmp_path / "report.md").read_text()
    section = text[text.index("## Han et al. (2015), Table 1: lenet-300-100"):]
    assert "| test error before pruning | 1.80% | 1.64% |" in section
    assert "| test error after pruning and retraining | 1.59% | 1.59% |" in section
    assert "| parameters | 266,610 | 267K |" in section
    assert "| parameters kept (biases included) | 8.3% | 8.0% |" in section  # (21,776 nonzero + 410 biases) / 266,610
    assert "| w_fc3 | 26.0% | 26.0% |" in section
    assert "Tables 4–9" not in text and "the paper's figures, reproduced" not in text.lower()
    assert "FC1 alone" not in text and "this run is of lenet-300-100, so none is measured here" in text
    assert not {path.name for path in paths} & {"fig5_size.png", "fig6_accuracy.png", "fig7_time.png"}


def test_several_runs_set_the_papers_claims_side_by_side_per_network(tmp_path, capsys):
    """``prunebench report A.json B.json --out D``: one column per run, named by its network and profile,
    each cell the verdict over the paper's ratios with its effect, or why that run could not judge it."""
    from prunebench.cli import main
    from prunebench.report.figure_files import ACROSS_FILE

    paper = _with_claims(fabricate_results())
    lenet = _with_claims(fabricate_results(ratios=(0.0, 0.9), seeds=(0,)))
    lenet["profile"]["workload"] = "lenet-5"
    paths = []
    for name, results in (("paper", paper), ("lenet", lenet)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(results))
    assert main(["report", *map(str, paths), "--out", str(tmp_path / "across")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "across" / ACROSS_FILE)
    text = (tmp_path / "across" / ACROSS_FILE).read_text()
    header = next(line for line in text.splitlines() if line.startswith("| claim |"))
    assert header == "| claim | subject | paper-cnn (synthetic profile) | lenet-5 (synthetic profile) |"
    size_row = next(line for line in text.splitlines() if line.startswith("| (a)"))
    assert size_row.split(" | ")[2].startswith("**supported**, rho -0.99")
    assert "not judged" in size_row.split(" | ")[3]  # one pruned ratio cannot rank a trend
