"""`sesqa evaluate` end to end: predictions or a tiny model against labels, pairs and shards.

Checks that the printed and written figures are those of `sesqa.measures.report.evaluate` on the
same arrays, that shards give R_RANK and L_CONS (and E_TOTAL with labels), that --plot writes PNGs,
that --peer dnsmos reports a second predictor (with a stand-in for speechmos, which is an
optional extra; the real DNSMOS runs in benchmarks/score.py), that --kfold trains per fold and
pools held-out predictions, and that bad input exits with status 2 and a message naming it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner, Result

from sesqa.cli import app
from sesqa.evaluation.kfold.folds import assign_folds
from sesqa.measures.criteria import l_cons_quadruples, r_rank_quadruples
from sesqa.measures.report import evaluate
from sesqa.measures.report_format import report_to_json
from sesqa.evaluation.peers import DnsmosPeer, dnsmos
from sesqa.evaluation.run import shard_scores
from sesqa.generator.run import GenerateConfig, generate
from sesqa.model import ModelConfig, SesqaModel, save_checkpoint
from sesqa.trainer.quadruples import vocabulary

from .helpers import rated_noisy_clips

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONDITIONS = (("clean", None, 4.5), ("snr20", 20, 3.6), ("snr10", 10, 2.6), ("snr0", 0, 1.5))

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """24 rated files (6 utterances x 4 noise conditions = systems), 1.5 s, and labels.csv."""
    root = tmp_path_factory.mktemp("rated")
    rows = [(name, mos, system) for _, name, mos, system in rated_noisy_clips(root, 6, np.random.default_rng(7), CONDITIONS)]
    with (root / "labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "mos", "system"), *rows])
    return root


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained tiny model: evaluation only needs scores, not good ones."""
    torch.manual_seed(0)
    model = SesqaModel(
        ModelConfig(
            degradation_types=vocabulary(), metric_names=(), pool_channels=(4, 4, 8, 8), res_blocks=1,
            res_channels=(8, 8, 8), mlp_hidden=16, latent_dim=8, head_hidden=8,
        )
    )  # fmt: skip
    path = tmp_path_factory.mktemp("model") / "tiny.ckpt"
    save_checkpoint(path, model)
    return path


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    """A test split of 40 generated quadruples in two shards."""
    out = tmp_path_factory.mktemp("shards")
    generate(GenerateConfig(out=out, n=40, ratios=(0, 0, 40), shard_size=20, workers=2, metrics=(), splits=("test",)), progress=False)
    return out


def _labels(corpus: Path) -> list[tuple[str, float, str]]:
    with (corpus / "labels.csv").open(newline="") as f:
        return [(r["path"], float(r["mos"]), r["system"]) for r in csv.DictReader(f)]


def _write_pred(path: Path, rows: list[tuple[str, float]]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([("path", "score"), *rows])
    return path


def _metrics(entry: dict) -> dict[tuple[str, str], dict]:
    return {(m["metric"], m["level"]): m for m in entry["metrics"]}


def _invoke(*args: str) -> Result:
    return runner.invoke(app, ["evaluate", *args])


def test_pred_and_labels_print_and_write_what_evaluate_computes(corpus: Path, tmp_path: Path) -> None:
    labels = _labels(corpus)
    rng = np.random.default_rng(1)
    scores = {p: float(np.clip(m + rng.normal(0, 0.5), 1, 5)) for p, m, _ in labels}
    # one prediction without a label, listed first; one label (the last) without a prediction
    pred = _write_pred(tmp_path / "pred.csv", [("extra.wav", 3.0)] + [(p, scores[p]) for p, _, _ in labels[:-1]])
    out = tmp_path / "report.json"

    result = _invoke("--pred", str(pred), "--labels", str(corpus / "labels.csv"), "--out", str(out), "--boot", "200", "--seed", "3")
    assert result.exit_code == 0, result.output
    for name in ("L_MOS", "MSE", "LCC", "SRCC", "KTAU", "E_TOTAL"):
        assert name in result.output
    assert "utterance" in result.output and "system" in result.output

    kept = labels[:-1]
    expected = report_to_json(
        evaluate(
            mos=(np.array([scores[p] for p, _, _ in kept]), np.array([m for _, m, _ in kept]), [s for _, _, s in kept]),
            n_boot=200,
            seed=3,
        )
    )
    written = json.loads(out.read_text())
    assert written["predictors"][0]["name"] == "pred"
    assert written["predictors"][0]["metrics"] == expected["metrics"]
    assert written["predictors"][0]["counts"] == {"mos_items": 23, "systems": 4}
    assert written["unmatched"]["labels_without_prediction"] == 1
    assert written["unmatched"]["predictions_without_label"] == 1
    l_mos = next(m for m in expected["metrics"] if m["metric"] == "l_mos" and m["level"] == "utterance")
    assert f"{l_mos['value']:.4f}" in result.output


def test_pairs_give_r_rank(corpus: Path, tmp_path: Path) -> None:
    pred = _write_pred(tmp_path / "pred.csv", [("a.wav", 4.0), ("b.wav", 3.0), ("c.wav", 2.0), ("d.wav", 3.5)])
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("better,worse\na.wav,b.wav\nb.wav,c.wav\nc.wav,d.wav\nmissing.wav,a.wav\n")
    out = tmp_path / "r.json"
    result = _invoke("--pred", str(pred), "--pairs", str(pairs), "--out", str(out), "--boot", "50")
    assert result.exit_code == 0, result.output
    metrics = _metrics(json.loads(out.read_text())["predictors"][0])
    assert metrics[("r_rank", "pairs")]["value"] == pytest.approx(1 / 3)
    assert metrics[("r_rank", "pairs")]["n"] == 3
    assert "R_RANK" in result.output


def test_shards_with_a_model_and_labels_give_e_total(corpus: Path, tiny_model: Path, shards: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    result = _invoke(
        "--model", str(tiny_model), "--labels", str(corpus / "labels.csv"), "--shards", str(shards),
        "--out", str(out), "--boot", "100", "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = json.loads(out.read_text())["predictors"][0]
    metrics = _metrics(entry)
    assert entry["counts"]["quadruples"] == 40
    for key in (("r_rank", "quadruples"), ("l_cons", "quadruples"), ("l_mos", "utterance"), ("e_total", "overall")):
        assert metrics[key]["value"] is not None, key
    e_total = 0.5 * metrics[("l_mos", "utterance")]["value"] + metrics[("r_rank", "quadruples")]["value"] + metrics[("l_cons", "quadruples")]["value"]
    assert metrics[("e_total", "overall")]["value"] == pytest.approx(e_total)
    assert metrics[("e_total", "overall")]["ci_low"] <= metrics[("e_total", "overall")]["value"] <= metrics[("e_total", "overall")]["ci_high"]
    # the model's per-file scores are written beside the report and work as --pred
    scores_csv = tmp_path / "all.sesqa.csv"
    again = tmp_path / "again.json"
    result = _invoke("--pred", str(scores_csv), "--labels", str(corpus / "labels.csv"), "--out", str(again), "--boot", "100")
    assert result.exit_code == 0, result.output
    reread = _metrics(json.loads(again.read_text())["predictors"][0])
    for key in (("l_mos", "utterance"), ("srcc", "system")):  # scores written with 6 decimals
        assert reread[key]["value"] == pytest.approx(metrics[key]["value"], abs=1e-6)


def test_shards_alone_match_evaluate_on_the_frame_scores(tiny_model: Path, shards: Path, tmp_path: Path) -> None:
    from sesqa.scoring.scorer import Scorer

    scores = shard_scores.score_shards(Scorer.from_checkpoint(tiny_model), shards, max_quadruples=30)
    assert scores.scores.shape == (30, 4) and len(scores.first_type) == 30
    out = tmp_path / "q.json"
    result = _invoke("--model", str(tiny_model), "--shards", str(shards), "--max-quadruples", "30", "--out", str(out), "--boot", "100", "--device", "cpu")
    assert result.exit_code == 0, result.output
    expected = report_to_json(evaluate(quadruples=tuple(scores.scores.T), n_boot=100, seed=0))
    predictor = json.loads(out.read_text())["predictors"][0]
    assert predictor["metrics"] == expected["metrics"]
    assert "L_CONS" in result.output and "E_TOTAL" in result.output

    types = np.asarray(scores.first_type)
    by_type = {row["type"]: row for row in predictor["by_type"]}
    assert sorted(by_type) == sorted(set(scores.first_type)) and sum(r["n"] for r in by_type.values()) == 30
    for name, row in by_type.items():
        q = scores.scores[types == name]
        assert row["n"] == len(q)
        assert row["r_rank"] == pytest.approx(r_rank_quadruples(*q.T)) and row["l_cons"] == pytest.approx(l_cons_quadruples(*q.T))
        assert f"\n{name} " in result.output, "each type has its line in the printed table"
    assert "by the first degradation of x_j" in result.output


def test_plots_are_png_files(corpus: Path, tiny_model: Path, shards: Path, tmp_path: Path) -> None:
    strengths = tmp_path / "strengths.csv"
    with strengths.open("w", newline="") as f:
        rows = [(str(corpus / p), "clean" if s == "clean" else "white_noise", {"clean": 0, "snr20": 0.2, "snr10": 0.5, "snr0": 0.9}[s]) for p, _, s in _labels(corpus)]
        csv.writer(f).writerows([("path", "type", "strength"), *rows])
    figures = tmp_path / "figures"
    result = _invoke(
        "--model", str(tiny_model), "--labels", str(corpus / "labels.csv"), "--shards", str(shards), "--strengths", str(strengths),
        "--plot", str(figures), "--boot", "0", "--max-quadruples", "20", "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {p.name for p in figures.iterdir()}
    assert {"scatter-sesqa.png", "strength-sesqa-shards.png", "strength-sesqa-list.png", "time-utt0_clean.png"} <= names
    assert sum(n.startswith("time-") for n in names) == 24
    for path in figures.iterdir():
        assert path.read_bytes()[:8] == PNG_MAGIC, path


def _fake_dnsmos(audio: np.ndarray, sr: int) -> dict[str, float]:
    """Stands in for speechmos.dnsmos.run: louder noise floor, lower score (as DNSMOS would)."""
    assert sr == 16_000 and audio.dtype == np.float32 and np.max(np.abs(audio)) <= 1.0
    floor = np.percentile(np.abs(audio), 10)
    ovrl = float(np.clip(4.5 - 30 * floor, 1, 5))
    return {"ovrl_mos": ovrl, "sig_mos": ovrl + 0.2, "bak_mos": ovrl - 0.1, "p808_mos": ovrl + 0.3}


def test_peer_dnsmos_is_reported_beside(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dnsmos, "load_speechmos", lambda: _fake_dnsmos)
    labels = _labels(corpus)
    pred = _write_pred(tmp_path / "pred.csv", [(p, m) for p, m, _ in labels])
    out = tmp_path / "peer.json"
    figures = tmp_path / "figures"
    result = _invoke("--pred", str(pred), "--labels", str(corpus / "labels.csv"), "--peer", "dnsmos", "--out", str(out), "--plot", str(figures), "--boot", "100")
    assert result.exit_code == 0, result.output
    assert "== pred" in result.output and "== dnsmos" in result.output
    written = json.loads(out.read_text())
    assert [p["name"] for p in written["predictors"]] == ["pred", "dnsmos"]

    direct = DnsmosPeer(run=_fake_dnsmos)
    expected_scores = np.array([direct.score_file(corpus / p)["ovrl"] for p, _, _ in labels])
    expected = report_to_json(evaluate(mos=(expected_scores, np.array([m for _, m, _ in labels]), [s for _, _, s in labels]), n_boot=100, seed=0))
    assert written["predictors"][1]["metrics"] == expected["metrics"]
    assert _metrics(written["predictors"][1])[("srcc", "system")]["value"] == pytest.approx(1.0)  # noisier, lower
    with (tmp_path / "peer.dnsmos.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 24 and set(rows[0]) == {"path", "ovrl", "sig", "bak", "p808"}
    assert (figures / "scatter-dnsmos.png").read_bytes()[:8] == PNG_MAGIC


def test_peer_without_speechmos_says_what_to_install(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_speechmos(name, *args, **kwargs):
        if name.startswith("speechmos"):
            raise ModuleNotFoundError("No module named 'speechmos'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_speechmos)
    pred = _write_pred(tmp_path / "pred.csv", [(p, m) for p, m, _ in _labels(corpus)])
    result = _invoke("--pred", str(pred), "--labels", str(corpus / "labels.csv"), "--peer", "dnsmos")
    assert result.exit_code == 2
    assert "pip install 'sesqa[peer]'" in result.output


@pytest.mark.slow
def test_kfold_trains_per_fold_and_pools_held_out_predictions(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "cv.json"
    result = _invoke(
        "--kfold", "2", "--labels", str(corpus / "labels.csv"), "--model-size", "tiny", "--steps", "3",
        "--train-batch-size", "4", "--out", str(out), "--boot", "100", "--device", "cpu",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    pooled = written["predictors"][0]
    assert pooled["counts"]["mos_items"] == 24
    assert _metrics(pooled)[("l_mos", "utterance")]["value"] is not None
    folds = written["folds"]
    assert folds["groups"] == "system"
    assert [f["n_test"] for f in folds["folds"]] == [12, 12]
    runs = tmp_path / "cv"
    test_systems = []
    for k in (1, 2):
        assert (runs / f"fold-{k}" / "last.ckpt").is_file()
        with (runs / f"fold-{k}" / "mos-test.csv").open(newline="") as f:
            test_systems.append({r["system"] for r in csv.DictReader(f)})
    assert not test_systems[0] & test_systems[1] and len(test_systems[0] | test_systems[1]) == 4
    with (runs / "predictions.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 24
    assert "per fold" in result.output


def test_assign_folds_keeps_groups_whole_and_balances() -> None:
    keys = [f"sys{i % 7}" for i in range(70)] + ["big"] * 20
    folds = assign_folds(keys, 3, seed=0)
    for key in set(keys):
        assert len({folds[i] for i, k in enumerate(keys) if k == key}) == 1
    sizes = np.bincount(folds, minlength=3)
    assert sizes.max() - sizes.min() <= 10
    assert np.array_equal(folds, assign_folds(keys, 3, seed=0))
    with pytest.raises(ValueError, match="at least 3 groups"):
        assign_folds(["a", "b"], 3, seed=0)


def test_bad_input_exits_2_naming_the_problem(corpus: Path, tiny_model: Path, shards: Path, tmp_path: Path) -> None:
    labels = str(corpus / "labels.csv")
    result = _invoke("--pred", str(tmp_path / "nope.csv"), "--labels", labels)
    assert result.exit_code == 2 and "nope.csv" in result.output and "not found" in result.output

    disjoint = _write_pred(tmp_path / "other.csv", [("x1.wav", 3.0), ("x2.wav", 2.0)])
    result = _invoke("--pred", str(disjoint), "--labels", labels)
    assert result.exit_code == 2 and "other.csv" in result.output and "none of its 2 predictions" in result.output

    result = _invoke("--pred", str(disjoint), "--shards", str(shards))
    assert result.exit_code == 2 and "--model" in result.output

    result = _invoke("--pred", str(disjoint))
    assert result.exit_code == 2 and "nothing to evaluate" in result.output

    bad = tmp_path / "bad.csv"
    bad.write_text("path,score\na.wav,high\n")
    result = _invoke("--pred", str(bad), "--labels", labels)
    assert result.exit_code == 2 and "bad.csv:2" in result.output

    result = _invoke("--model", str(tiny_model), "--shards", str(tmp_path))
    assert result.exit_code == 2 and "no test-*.tar" in result.output
