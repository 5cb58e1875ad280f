"""`sesqa evaluate --kfold`: the paper's four figures on held-out files (`evaluation.kfold.held_out`).

Unit tests of the pieces (MOS pairs and their cap, noticeable partners, the two crops of a file,
L_CONS of a constant scorer, the average over sets, folds split within each set, --jnd checks),
then k-fold end to end on a small two-set MOS list built from the bundled speech with noise at
a few SNRs: the printed report, the JSON and figures.csv hold L_MOS, R_RANK, L_CONS and E_TOTAL,
finite, per set, per fold and pooled.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from sesqa.cli import app
from sesqa.measures.criteria import apart
from sesqa.evaluation.kfold.folds import split_folds
from sesqa.evaluation.kfold.held_out import (
    MAX_DELAY_S,
    NOTICEABLE_MOS_GAP,
    FigureUnits,
    crop_pair,
    crop_scores,
    mos_pairs,
    noticeable_partners,
)
from sesqa.measures.report import PAPER_FIGURES, average_over_sets, paper_figure
from sesqa.evaluation.run.config import EvaluateConfig
from sesqa.evaluation.run.tables import LabelRow

from .helpers import SR, rated_noisy_clips

FIGURE_NAMES = ("L_MOS", "R_RANK", "L_CONS", "E_TOTAL")

# ----------------------------------------------------------------------------- pairs


def test_mos_pairs_leave_out_equal_mos_and_order_by_it() -> None:
    mos = np.array([3.0, 1.0, 3.0, 5.0, 2.0, 3.0])
    better, worse, total = mos_pairs(mos, 1000, np.random.default_rng(0))
    expected = {(i, j) for i in range(len(mos)) for j in range(len(mos)) if mos[i] > mos[j]}
    assert set(zip(better.tolist(), worse.tolist(), strict=True)) == expected
    assert len(better) == total == len(expected)


def test_mos_pairs_above_the_cap_are_a_seeded_sample_without_repeats() -> None:
    mos = np.random.default_rng(1).uniform(1, 5, 400).round(1)
    better, worse, total = mos_pairs(mos, 500, np.random.default_rng(2))
    distinct = {(i, j) for i in range(len(mos)) for j in range(len(mos)) if mos[i] > mos[j]}
    assert total == len(distinct) > 500
    assert len(better) == 500 and len(set(zip(better.tolist(), worse.tolist(), strict=True))) == 500
    assert np.all(mos[better] > mos[worse])
    again = mos_pairs(mos, 500, np.random.default_rng(2))
    assert np.array_equal(again[0], better) and np.array_equal(again[1], worse)
    with pytest.raises(ValueError, match="max_pairs"):
        mos_pairs(mos, 0, np.random.default_rng(0))


def test_mos_pairs_of_one_rating_are_none() -> None:
    better, worse, total = mos_pairs(np.full(5, 3.0), 10, np.random.default_rng(0))
    assert len(better) == len(worse) == total == 0


def test_noticeable_partners_differ_by_the_gap() -> None:
    mos = np.array([3.6, 2.6, 2.7, 4.5, 3.0])
    items, partners = noticeable_partners(mos, np.random.default_rng(0))
    assert np.all(np.abs(mos[items] - mos[partners]) >= NOTICEABLE_MOS_GAP - 1e-6)
    far = [i for i in range(len(mos)) if np.any(np.abs(mos - mos[i]) >= NOTICEABLE_MOS_GAP - 1e-6)]
    assert items.tolist() == far  # 3.0 has no file a whole point away: left out
    many = np.random.default_rng(3).uniform(1, 5, 300)
    items, partners = noticeable_partners(many, np.random.default_rng(4))
    assert np.all(np.abs(many[items] - many[partners]) >= NOTICEABLE_MOS_GAP)
    assert len(set(partners.tolist())) > 50  # drawn at random, not always the extreme file

# ----------------------------------------------------------------------------- crops


def test_crop_pair_is_delayed_and_padded() -> None:
    x = np.arange(10, dtype=np.float32)
    k, l = crop_pair(x, 6, 3)
    assert k.tolist() == list(range(6)) and l.tolist() == list(range(3, 9))
    k, l = crop_pair(x[:7], 6, 3)  # shorter than frame + delay: zeros at the end
    assert k.tolist() == list(range(6)) and l.tolist() == [3, 4, 5, 6, 0, 0]


class FirstSampleBackend:
    """Stands in for a model: a frame's score is its first sample."""

    config = SimpleNamespace(frame_samples=SR, sample_rate=SR)

    def frames(self, batch: np.ndarray) -> SimpleNamespace:
        return SimpleNamespace(score=batch[:, 0].astype(np.float64))


def test_crop_scores_two_crops_a_small_delay_apart(tmp_path: Path) -> None:
    ramp = tmp_path / "ramp.wav"
    seconds = 3.0
    sf.write(ramp, (np.arange(int(seconds * SR)) / SR / 10).astype(np.float32), SR, subtype="FLOAT")
    short = tmp_path / "short.wav"
    sf.write(short, np.full(int(0.6 * SR), 0.25, np.float32), SR, subtype="FLOAT")
    scorer = SimpleNamespace(backend=FirstSampleBackend(), batch_size=4)
    files = [ramp] * 5 + [short, tmp_path / "missing.wav"]
    durations = [seconds, None, seconds, None, seconds, 0.6, None]
    s_k, s_l = crop_scores(scorer, files, durations, np.random.default_rng(0))  # type: ignore[arg-type]
    delays = (s_l[:5] - s_k[:5]) * 10  # seconds between the crops' starts
    assert np.all(delays > 0) and np.all(delays <= MAX_DELAY_S + 1e-4)
    assert len(np.unique(np.round(s_k[:5], 4))) == 5  # crops start at different places
    assert np.all(s_k[:5] * 10 + 1.0 + delays <= seconds + 1e-3)  # inside the file
    assert s_k[5] == pytest.approx(0.25) and s_l[5] == pytest.approx(0.25)  # short: padded, starts at 0
    assert math.isnan(s_k[6]) and math.isnan(s_l[6])  # unreadable: no crops
    again = crop_scores(scorer, files, durations, np.random.default_rng(0))  # type: ignore[arg-type]
    assert np.array_equal(again[0][:6], s_k[:6]) and np.array_equal(again[1][:6], s_l[:6])


# ----------------------------------------------------------------------------- figures


def _units(pred: np.ndarray, mos: np.ndarray, s_k: np.ndarray, s_l: np.ndarray, seed: int = 0) -> FigureUnits:
    return FigureUnits.build(pred, mos, [None] * len(mos), s_k, s_l, np.random.default_rng(seed))


def test_constant_scorer_l_cons_is_the_pair_term_alone() -> None:
    mos = np.array([1.0, 1.5, 2.0, 3.0, 4.0, 4.5, 5.0, 3.2])
    same = np.full(len(mos), 3.0)
    units = _units(same, mos, same, same)
    report = units.evaluate({"n_boot": 50, "level": 0.95, "seed": 0})
    n_crops, n_apart = int(np.sum(units.noticeable == 0)), int(np.sum(units.noticeable == 1))
    assert n_crops == len(mos) and 0 < n_apart <= len(mos)
    expected = float(apart(np.float64(3.0), np.float64(3.0))) * n_apart / (n_crops + n_apart)  # crops agree: |s_k - s_l| = 0
    l_cons = paper_figure(report, "l_cons")
    assert l_cons is not None and l_cons.level == "jnd" and l_cons.value == pytest.approx(expected)
    r_rank = paper_figure(report, "r_rank")
    assert r_rank is not None and r_rank.value == 1.0  # every tie is a wrong order
    e_total = report.get("e_total")
    assert e_total is not None
    assert e_total.value == pytest.approx(0.5 * report.get("l_mos", "utterance").value + 1.0 + expected)  # type: ignore[union-attr]


def test_perfect_scores_give_zero_rank_and_crop_differences_count_a_quarter() -> None:
    mos = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    units = _units(mos, mos, mos, mos + 0.2)
    report = units.evaluate({"n_boot": 0, "level": 0.95, "seed": 0})
    assert paper_figure(report, "r_rank").value == 0.0  # type: ignore[union-attr]
    n_crops, n_apart = int(np.sum(units.noticeable == 0)), int(np.sum(units.noticeable == 1))
    assert paper_figure(report, "l_cons").value == pytest.approx(0.2 / 4 * n_crops / (n_crops + n_apart))  # type: ignore[union-attr]


def test_files_without_crops_are_left_out_of_l_cons_only() -> None:
    mos = np.array([1.0, 2.0, 3.0, 4.0])
    s_k = np.array([2.0, np.nan, 3.0, 4.0])
    units = _units(mos, mos, s_k, s_k)
    assert int(np.sum(units.noticeable == 0)) == 3 and len(units.pred) == 4


def test_average_over_sets_is_the_mean_with_an_interval() -> None:
    rng = np.random.default_rng(5)
    reports = []
    for shift in (0.0, 0.7):
        mos = rng.uniform(1, 5, 30).round(1)
        pred = mos + shift + rng.normal(0, 0.5, 30)
        reports.append(_units(pred, mos, pred, pred + rng.normal(0, 0.1, 30)).evaluate({"n_boot": 200, "level": 0.95, "seed": 0}))
    average = average_over_sets(reports, ["a", "b"])
    for name in PAPER_FIGURES:
        got = average.get(name, "average")
        assert got is not None
        parts = [paper_figure(r, name).value for r in reports]  # type: ignore[union-attr]
        assert got.value == pytest.approx(np.mean(parts))
        assert got.low <= got.value <= got.high
    e = [average.get(n, "average").value for n in PAPER_FIGURES]  # type: ignore[union-attr]
    assert e[3] == pytest.approx(0.5 * e[0] + e[1] + e[2])
    with pytest.raises(ValueError, match="one name per report"):
        average_over_sets(reports, ["a"])


def test_folds_are_split_within_each_set() -> None:
    labels = [LabelRow(f"a{i}.wav", 3.0, f"s{i % 4}", "A") for i in range(16)] + [LabelRow(f"b{i}.wav", 3.0, f"t{i % 3}", "B") for i in range(9)]
    folds = split_folds(labels, 3, 0, by_system=True, several=True)
    for name in ("A", "B"):
        held = {int(f) for row, f in zip(labels, folds, strict=True) if row.dataset == name}
        assert held == {0, 1, 2}
    with pytest.raises(ValueError, match="set B"):
        split_folds(labels, 4, 0, by_system=True, several=True)


def test_jnd_needs_kfold_and_existing_files(tmp_path: Path) -> None:
    labels = tmp_path / "mos.csv"
    labels.write_text("path,mos\na.wav,3\n")
    with pytest.raises(ValueError, match="--jnd"):
        EvaluateConfig(labels=labels, pred=labels, jnd=(labels,))
    with pytest.raises(FileNotFoundError, match="--jnd"):
        EvaluateConfig(labels=labels, kfold=2, runs=tmp_path / "runs", jnd=(tmp_path / "nope.csv",))
    assert EvaluateConfig(labels=labels, kfold=2, runs=tmp_path / "runs", jnd=(labels,)).jnd == (labels,)


def test_loss_weights_need_kfold_and_a_name_and_number(tmp_path: Path) -> None:
    labels = tmp_path / "mos.csv"
    labels.write_text("path,mos\na.wav,3\n")
    with pytest.raises(ValueError, match="--loss-weight"):
        EvaluateConfig(labels=labels, pred=labels, loss_weights=(("dt", 0.1),))
    with pytest.raises(ValueError, match="--lr"):
        EvaluateConfig(labels=labels, pred=labels, train_lr=2e-4)
    refused = CliRunner().invoke(app, ["evaluate", "--kfold", "2", "--labels", str(labels), "--runs", str(tmp_path), "--loss-weight", "dt"])
    assert refused.exit_code == 2 and "'dt' is not NAME=NUMBER" in refused.output


def test_a_paused_fold_stops_evaluate_with_status_75_and_how_to_go_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sesqa.runtime.pause import TrainingPaused

    def paused(config: EvaluateConfig) -> None:
        raise TrainingPaused(tmp_path / "cv" / "fold-2", 40, 100)

    monkeypatch.setattr("sesqa.evaluation.evaluate.run_evaluate", paused)
    labels = tmp_path / "mos.csv"
    labels.write_text("path,mos\na.wav,3\n")
    result = CliRunner().invoke(app, ["evaluate", "--kfold", "2", "--labels", str(labels), "--runs", str(tmp_path / "cv")])
    assert result.exit_code == 75
    assert "paused at step 40 of 100" in result.output and "finished folds are kept" in result.output


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 rated clips of 1.5 s in two MOS sets (2 utterances x 4 noise conditions each), labels.csv and jnd.csv."""
    root = tmp_path_factory.mktemp("two-sets")
    clips = rated_noisy_clips(root, 4, np.random.default_rng(11))
    rows = [(name, mos, system, "setA" if n < 2 else "setB") for n, name, mos, system in clips]
    jnd = [row for n in range(4) for row in ((f"utt{n}_clean.wav", f"utt{n}_snr0.wav", 1), (f"utt{n}_clean.wav", f"utt{n}_clean.wav", 0))]
    with (root / "labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "mos", "system", "dataset"), *rows])
    with (root / "jnd.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path_a", "path_b", "label"), *jnd])
    return root


def _finite(text: str) -> bool:
    return text not in ("", "nan") and math.isfinite(float(text))


@pytest.mark.slow
def test_kfold_prints_the_four_paper_figures_per_set(two_sets: Path, tmp_path: Path) -> None:
    out = tmp_path / "cv.json"
    result = CliRunner().invoke(app, [
        "evaluate", "--kfold", "2", "--labels", str(two_sets / "labels.csv"), "--jnd", str(two_sets / "jnd.csv"),
        "--model-size", "tiny", "--steps", "2", "--train-batch-size", "4", "--out", str(out), "--boot", "50",
        "--device", "cpu", "--loss-weight", "ds=0.5", "--lr", "5e-4",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.output

    # printed: a table per set (pooled over folds), one for all files, the average over sets
    for title in ("== sesqa:", "== sesqa [setA]", "== sesqa [setB]", "== sesqa [average]"):
        block = text.split(title, 1)[1].split("\n==", 1)[0]
        for name in FIGURE_NAMES:
            match = re.search(rf"^{name}\s+\S+\s+(\S+)\s+\[(\S+), (\S+)\]", block, re.MULTILINE)
            assert match is not None, f"{title}: no {name} with an interval in\n{block}"
            assert all(_finite(v) for v in match.groups()), match.group(0)
    # printed: the per-fold table, a row per set and one for all files of the fold
    table = text.split("== per fold", 1)[1]
    assert all(name in table for name in FIGURE_NAMES)
    for fold in (1, 2):
        for name in ("setA", "setB", "all"):
            row = re.search(rf"^\s*{fold} {name}\s+.*$", table, re.MULTILINE)
            assert row is not None, table
            values = re.findall(r"(\S+) \[(\S+), (\S+)\]", row.group(0))
            assert len(values) == 4 and all(_finite(v) for cell in values for v in cell), row.group(0)

    written = json.loads(out.read_text())
    names = [p["name"] for p in written["predictors"]]
    assert names == ["sesqa", "sesqa [setA]", "sesqa [setB]", "sesqa [average]"]
    for predictor in written["predictors"]:
        metrics = {m["metric"] for m in predictor["metrics"] if m["value"] is not None and m["ci_low"] is not None}
        assert set(PAPER_FIGURES) <= metrics, predictor["name"]
    assert written["predictors"][1]["counts"]["mos_items"] == 8
    for fold in written["folds"]["folds"]:
        assert set(fold["sets"]) == {"setA", "setB"}
        for entry in (fold, *fold["sets"].values()):
            assert set(PAPER_FIGURES) <= {m["metric"] for m in entry["metrics"] if m["value"] is not None}

    with (tmp_path / "cv" / "figures.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    scopes = {(r["scope"], r["set"]) for r in rows if r["metric"] == "E_TOTAL" and _finite(r["value"])}
    assert {("fold-1", "setA"), ("fold-2", "setB"), ("pooled", "all"), ("pooled", "setA"), ("average", "average")} <= scopes

    config = json.loads((tmp_path / "cv" / "fold-1" / "config.json").read_text())
    assert any("jnd.csv" in str(p) for p in config["jnd"])
    assert config["loss_weights"] == [["ds", 0.5]] and config["lr"] == 5e-4
