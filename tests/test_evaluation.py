"""Evaluation metrics and the CSV plumbing of ``sesqa evaluate``.

MOS metrics against scipy.stats on random data (with and without ties, and on bootstrap
resamples, where repeated items make ties); the report's R_RANK, L_CONS and E_TOTAL against
`sesqa.measures.criteria`'s measures (hand-checked in test_criteria.py); bootstrap intervals; reading
each accepted CSV format; joining; malformed rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sesqa.measures import mos_metrics as mos_metrics_module
from sesqa.measures.bootstrap import bootstrap_ci, bootstrap_mos
from sesqa.measures.mos_metrics import (
    MOS_METRICS,
    mos_metrics,
    system_level,
    undefined_reasons,
)
from sesqa.measures.criteria import l_cons_pairs, l_cons_quadruples, r_rank, r_rank_quadruples
from sesqa.measures.report import evaluate, mos_report
from sesqa.measures.report_format import format_report, report_to_json
from sesqa.evaluation.run.tables import (
    LabelRow,
    PairRow,
    join_labels,
    join_pairs,
    normalise_path,
    read_predictions,
)


def _random_scores(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true = rng.uniform(1.0, 5.0, n)
    pred = true + rng.normal(0.0, 0.8, n)
    if ties:  # MOS from few listeners and coarse predictions: many tied values on both sides
        true = np.round(true * 2) / 2
        pred = np.round(pred, 1)
    return pred, true


def _scipy_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    return {
        "l_mos": float(np.mean(np.abs(pred - true))),
        "mse": float(np.mean((pred - true) ** 2)),
        "lcc": float(stats.pearsonr(pred, true)[0]),
        "srcc": float(stats.spearmanr(pred, true)[0]),
        "ktau": float(stats.kendalltau(pred, true)[0]),
    }


# ----------------------------------------------------------------------------- MOS metrics


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed,n", [(0, 7), (1, 100), (2, 1000)])
def test_mos_metrics_equal_scipy(seed: int, n: int, ties: bool) -> None:
    pred, true = _random_scores(seed, n, ties)
    if ties:
        assert len(np.unique(true)) < n and len(np.unique(pred)) < n
    ours = mos_metrics(pred, true)
    expected = _scipy_metrics(pred, true)
    assert tuple(ours) == MOS_METRICS
    for name in MOS_METRICS:
        assert ours[name] == pytest.approx(expected[name], abs=1e-9), name


def test_mos_metrics_perfect_and_reversed() -> None:
    x = np.array([1.0, 2.0, 3.5, 4.0])
    perfect = mos_metrics(x, x)
    assert perfect == {"l_mos": 0.0, "mse": 0.0, "lcc": pytest.approx(1.0), "srcc": 1.0, "ktau": 1.0}
    reversed_ = mos_metrics(-x, x)
    assert reversed_["srcc"] == pytest.approx(-1.0) and reversed_["ktau"] == pytest.approx(-1.0)


def test_undefined_metrics_are_nan_with_a_reason() -> None:
    constant = mos_metrics([3.0, 3.0, 3.0], [1.0, 2.0, 4.0])
    assert constant["l_mos"] == pytest.approx(4 / 3)  # (|3-1| + |3-2| + |3-4|) / 3
    assert math.isnan(constant["lcc"]) and math.isnan(constant["srcc"]) and math.isnan(constant["ktau"])
    assert undefined_reasons([3.0, 3.0, 3.0], [1.0, 2.0, 4.0])["lcc"] == "the predictions are constant"
    assert undefined_reasons([1.0, 2.0], [2.0, 2.0])["ktau"] == "the labels are constant"
    one = mos_metrics([2.0], [3.0])
    assert one["l_mos"] == 1.0 and math.isnan(one["srcc"])
    assert "at least 2" in undefined_reasons([2.0], [3.0])["srcc"]
    assert all(math.isnan(v) for v in mos_metrics([], []).values())
    assert undefined_reasons([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]) == {}


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        mos_metrics([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="pred: 1 of 2 values are not finite"):
        mos_metrics([1.0, math.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="noticeable"):
        l_cons_pairs([1.0], [2.0], [0.5])


def test_system_level_means() -> None:
    pred = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    true = [1.0, 1.0, 2.0, 2.0, 3.0, 9.0]
    systems = ["b", "b", "a", "a", "c", "c"]
    pred_means, true_means, names = system_level(pred, true, systems)
    # a: pred (3+4)/2 = 3.5, true 2; b: pred (1+2)/2 = 1.5, true 1; c: pred (5+6)/2 = 5.5, true (3+9)/2 = 6
    assert names == ("a", "b", "c")
    np.testing.assert_allclose(pred_means, [3.5, 1.5, 5.5])
    np.testing.assert_allclose(true_means, [2.0, 1.0, 6.0])


def test_mos_report_utterance_and_system_level() -> None:
    pred, true = _random_scores(3, 120, ties=False)
    systems = [f"sys{i % 12}" for i in range(120)]
    systems[0] = None  # one item without a system id: utterance level only
    report = mos_report(pred, true, systems, n_boot=200, rng=1)
    assert report.n_items == 120 and report.n_systems == 12 and report.n_without_system == 1
    assert report.get("srcc").value == pytest.approx(stats.spearmanr(pred, true)[0], abs=1e-12)
    pm, tm, _ = system_level(pred[1:], true[1:], systems[1:])
    system_srcc = report.get("srcc", "system")
    assert system_srcc.value == pytest.approx(stats.spearmanr(pm, tm)[0], abs=1e-12)
    assert system_srcc.n == 12 and "1 items without a system id" in system_srcc.note
    assert (
        report.get("lcc", "system").low
        <= report.get("lcc", "system").value
        <= report.get("lcc", "system").high
    )
    assert mos_report(pred, true, n_boot=0).system == ()


# ----------------------------------------------------------------------------- the report


def test_evaluate_all_sources() -> None:
    pred, true = _random_scores(4, 200, ties=True)
    rng = np.random.default_rng(5)
    better, worse = rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 300)
    quads = tuple(rng.normal(m, 0.3, 150) for m in (3.0, 3.0, 2.0, 2.0))
    report = evaluate(
        mos=(pred, true, [f"s{i % 8}" for i in range(200)]),
        pairs=(better, worse),
        quadruples=quads,
        n_boot=300,
        seed=7,
    )
    l_mos = report.get("l_mos", "utterance").value
    rank = report.get("r_rank", "quadruples").value
    cons = report.get("l_cons", "quadruples").value
    assert rank == pytest.approx(r_rank_quadruples(*quads)) and cons == pytest.approx(
        l_cons_quadruples(*quads)
    )
    assert report.get("r_rank", "pairs").value == pytest.approx(r_rank(better, worse))
    total = report.get("e_total")
    assert total.value == pytest.approx(0.5 * l_mos + rank + cons)  # quadruple R_RANK preferred to pairs
    assert total.low < total.value < total.high
    for row in report.estimates:
        if math.isfinite(row.value) and row.name != "e_total":
            assert row.low <= row.value <= row.high, (row.name, row.level)
    assert report.counts == {"mos_items": 200, "systems": 8, "pairs": 300, "quadruples": 150}
    assert (
        evaluate(mos=(pred, true), pairs=(better, worse), quadruples=quads, n_boot=300, seed=7)
        .get("e_total")
        .value
        == total.value
    )

    table = format_report(report)
    for token in ("metric", "95% CI", "L_MOS", "KTAU", "R_RANK", "L_CONS", "E_TOTAL", "system", "quadruples"):
        assert token in table
    data = report_to_json(report)
    json.dumps(data, allow_nan=False)
    assert data["n_boot"] == 300 and data["seed"] == 7 and len(data["metrics"]) == len(report.estimates)


def test_e_total_needs_all_parts() -> None:
    pred, true = _random_scores(6, 50, ties=False)
    report = evaluate(mos=(pred, true), n_boot=50)
    total = report.get("e_total")
    assert math.isnan(total.value) and "missing R_RANK, L_CONS" in total.note
    assert "E_TOTAL" in format_report(report) and "missing R_RANK" in format_report(report)
    assert report_to_json(report)["metrics"][-1]["value"] is None
    jnd_only = evaluate(mos=(pred, true), pairs=([2.0, 1.0], [1.0, 2.0]), jnd=([2.0], [2.4], [0]), n_boot=0)
    # L_CONS from JND pairs (0.1) and R_RANK from ordered pairs (1/2) when there are no quadruples
    assert jnd_only.get("e_total").value == pytest.approx(0.5 * mos_metrics(pred, true)["l_mos"] + 0.5 + 0.1)
    assert math.isnan(jnd_only.get("e_total").low)


# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_matches_scipy_on_resamples() -> None:
    """The counts-based bootstrap draws the same resamples as the generic one; on them (repeated
    items are ties) its metrics equal scipy's, so both intervals agree."""
    pred, true = _random_scores(8, 60, ties=True)
    fast = bootstrap_mos(pred, true, n_boot=150, rng=11)
    statistics = {
        "l_mos": lambda p, t: np.mean(np.abs(p - t)),
        "mse": lambda p, t: np.mean((p - t) ** 2),
        "lcc": lambda p, t: stats.pearsonr(p, t)[0],
        "srcc": lambda p, t: stats.spearmanr(p, t)[0],
        "ktau": lambda p, t: stats.kendalltau(p, t)[0],
    }
    for name, statistic in statistics.items():
        slow = bootstrap_ci(statistic, pred, true, n_boot=150, rng=11)
        assert fast[name] == pytest.approx(slow, abs=1e-9), name


def test_kendall_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large inputs take scipy's kendalltau per resample instead of the all-at-once matrix."""
    pred, true = _random_scores(12, 80, ties=True)
    matrix = bootstrap_mos(pred, true, n_boot=100, rng=2)["ktau"]
    point = mos_metrics(pred, true)["ktau"]
    monkeypatch.setattr(mos_metrics_module, "KENDALL_MATRIX_MAX", 10)
    assert bootstrap_mos(pred, true, n_boot=100, rng=2)["ktau"] == pytest.approx(matrix, abs=1e-12)
    assert mos_metrics(pred, true)["ktau"] == pytest.approx(point, abs=1e-12)
    assert math.isnan(mos_metrics(pred[:12], np.full(12, 3.0))["ktau"])


def test_bootstrap_contains_estimate_narrows_and_is_deterministic() -> None:
    small = _random_scores(9, 50, ties=False)
    large = _random_scores(9, 2000, ties=False)
    ci_small = bootstrap_mos(*small, n_boot=400, rng=0)
    ci_large = bootstrap_mos(*large, n_boot=400, rng=0)
    for name in MOS_METRICS:
        for (pred, true), ci in ((small, ci_small), (large, ci_large)):
            assert ci[name][0] <= mos_metrics(pred, true)[name] <= ci[name][1], name
        assert ci_large[name][1] - ci_large[name][0] < 0.5 * (ci_small[name][1] - ci_small[name][0]), name
    assert bootstrap_mos(*small, n_boot=400, rng=0) == ci_small
    assert bootstrap_mos(*small, n_boot=400, rng=np.random.default_rng(0)) == ci_small
    assert bootstrap_mos(*small, n_boot=400, rng=1) != ci_small
    wider = bootstrap_mos(*small, n_boot=400, level=0.99, rng=0)
    assert wider["l_mos"][0] <= ci_small["l_mos"][0] and wider["l_mos"][1] >= ci_small["l_mos"][1]


def test_bootstrap_ci_generic() -> None:
    x = np.arange(100, dtype=float)
    low, high = bootstrap_ci(np.mean, x, n_boot=500, rng=3)
    assert low < 49.5 < high and (low, high) == bootstrap_ci(np.mean, x, n_boot=500, rng=3)
    assert all(math.isnan(v) for v in bootstrap_ci(np.mean, x, n_boot=0))
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(np.mean, x, level=95)


# ----------------------------------------------------------------------------- CSV reading


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_predictions_formats(tmp_path: Path) -> None:
    sesqa = _write(tmp_path, "sesqa.csv", "path,score\naudio/a.wav,3.5\naudio/b.wav,2.25\n")
    assert read_predictions(sesqa) == {"audio/a.wav": 3.5, "audio/b.wav": 2.25}
    nisqa = _write(
        tmp_path,
        "NISQA_results.csv",
        "deg,mos_pred,noi_pred,dis_pred,col_pred,loud_pred,model\n9.wav,4.62,4.5,4.5,4.2,4.4,NISQAv2\n",
    )
    assert read_predictions(nisqa) == {"9.wav": 4.62}
    dnsmos = _write(
        tmp_path,
        "dnsmos.csv",
        ",filename,len_in_sec,sr,num_hops,OVRL_raw,SIG_raw,BAK_raw,OVRL,SIG,BAK,P808_MOS\n"
        "0,clips/x.wav,10.0,16000,2,3.1,3.5,3.9,3.0,3.4,3.8,3.6\n",
    )
    assert read_predictions(dnsmos) == {"clips/x.wav": 3.0}  # OVRL by default
    assert read_predictions(dnsmos, column="P808_MOS") == {"clips/x.wav": 3.6}
    other = _write(tmp_path, "other.tsv", "# exported by some tool\n\nFile\tPrediction\nc.wav\t1.5\n")
    assert read_predictions(other) == {"c.wav": 1.5}
    short = _write(tmp_path, "short.csv", "path,pred\nd.wav,4\n")
    assert read_predictions(short) == {"d.wav": 4.0}
    answer = _write(tmp_path, "answer.txt", "sys64e2f-utt491a78a,3.25\nsys7ab3c-utt1417b69,2.5\n")
    assert read_predictions(answer) == {"sys64e2f-utt491a78a": 3.25, "sys7ab3c-utt1417b69": 2.5}


# Labels and pairs (`sesqa.labels.read_mos`, `read_pairs`) are tested in test_labels.py.


@pytest.mark.parametrize(
    "reader,text,message",
    [
        (read_predictions, "path,score\na.wav,3\nb.wav,good\n", r"bad\.csv:3: score 'good' is not a number"),
        (
            read_predictions,
            "path,score\na.wav,3\n\nb.wav,nan\n",
            r"bad\.csv:4: score 'nan' is not a finite number",
        ),
        (read_predictions, "path,score\na.wav\n", r"bad\.csv:2: row has 1 fields, no score"),
        (read_predictions, "path,score\n,3\n", r"bad\.csv:2: empty path"),
        (
            read_predictions,
            "path,score\na.wav,3\n./a.wav,4\n",
            r"bad\.csv:3: path './a.wav' already listed at .*bad\.csv:2",
        ),
        (read_predictions, "path,quality\na.wav,3\n", r"bad\.csv:1: no score column"),
        (read_predictions, "name,score\na.wav,3\n", r"bad\.csv:1: no path column"),
        (read_predictions, "", r"bad\.csv: no rows"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, reader: Callable[[Path], object], text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        reader(_write(tmp_path, "bad.csv", text))


def test_read_predictions_unknown_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", "path,score\na.wav,3\n")
    with pytest.raises(ValueError, match="no column 'OVRL'"):
        read_predictions(path, column="OVRL")


# ----------------------------------------------------------------------------- joining


def test_normalise_path() -> None:
    assert normalise_path("./data//x/../a.wav") == "data/a.wav"
    assert normalise_path("data\\a.wav") == "data/a.wav"


def test_join_labels_by_path_basename_and_stem() -> None:
    predictions = {
        "./corpus/a.wav": 3.0,  # same path, written differently
        "/abs/elsewhere/b.wav": 2.0,  # same file name
        "sys1-utt3": 4.0,  # same name without extension (VoiceMOS answer file)
        "/x/dup.wav": 1.0,  # file name shared by two labels: ambiguous
        "/y/spare.wav": 5.0,  # no label
    }
    labels = [
        LabelRow("corpus/a.wav", 3.5, "s1"),
        LabelRow("b.wav", 2.5, "s2"),
        LabelRow("wav/sys1-utt3.wav", 4.5, "sys1"),
        LabelRow("one/dup.wav", 1.5, None),
        LabelRow("two/dup.wav", 1.0, None),
        LabelRow("missing.wav", 2.0, None),
    ]
    joined = join_labels(predictions, labels)
    assert joined.paths == ("corpus/a.wav", "b.wav", "wav/sys1-utt3.wav")
    np.testing.assert_array_equal(joined.pred, [3.0, 2.0, 4.0])
    np.testing.assert_array_equal(joined.mos, [3.5, 2.5, 4.5])
    assert joined.systems == ("s1", "s2", "sys1")
    assert joined.matched_by == {"path": 1, "basename": 1, "stem": 1}
    assert joined.unmatched_labels == ("one/dup.wav", "two/dup.wav", "missing.wav")
    assert joined.unmatched_predictions == ("/x/dup.wav", "/y/spare.wav")


def test_join_labels_basename_must_be_unique_among_predictions() -> None:
    joined = join_labels({"/a/x.wav": 1.0, "/b/x.wav": 2.0}, [LabelRow("x.wav", 3.0, None)])
    assert joined.unmatched_labels == ("x.wav",) and len(joined.pred) == 0
    assert joined.unmatched_predictions == ("/a/x.wav", "/b/x.wav")


def test_join_pairs() -> None:
    predictions = {"/data/a.wav": 3.0, "/data/b.wav": 2.0}
    joined = join_pairs(predictions, [PairRow("a.wav", "b.wav"), PairRow("b.wav", "c.wav")])
    np.testing.assert_array_equal(joined.s_better, [3.0])
    np.testing.assert_array_equal(joined.s_worse, [2.0])
    assert joined.unmatched_pairs == (PairRow("b.wav", "c.wav"),)
    assert r_rank(joined.s_better, joined.s_worse) == 0.0
