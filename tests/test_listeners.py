"""Agreement with listeners: P.1401's first-order map (`sesqa.measures.p1401`), the side-by-side
figures (`evaluation.listeners`), the Distill-MOS peer (`evaluation.peers.distill_mos`) and
benchmarks/listeners.py run on the free-licence GenSpeech clips in tests/fixtures/genspeech/.

The figures are checked against scipy and numpy computed here from the same numbers; the
benchmark's figures against scipy on the per-file scores it writes. The benchmark runs with sesqa
only, and with peers that are not installed (it says it skipped them); the real peers run only
where they are installed (pip install 'sesqa[peer]'; Distill-MOS: see `distill_mos.INSTALL`).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sesqa.evaluation.listeners import agreement, figures_table, listener_figures, types_table
from sesqa.measures.p1401 import first_order_map, mapped, rmse_after_map
from sesqa.evaluation.peers import PEERS, PeerUnavailable
from sesqa.evaluation.peers.distill_mos import DistillMosPeer

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "genspeech"


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_listeners", REPO / "benchmarks" / "listeners.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- P.1401


def test_first_order_map_is_the_least_squares_line_and_rmse_divides_by_n_minus_2() -> None:
    rng = np.random.default_rng(5)
    score = rng.uniform(0, 10, 40)
    mos = 1.5 + 0.3 * score + rng.normal(0, 0.4, 40)
    a, b = first_order_map(score, mos)
    fit = stats.linregress(score, mos)
    assert (a, b) == pytest.approx((fit.intercept, fit.slope), abs=1e-12)
    residual = mos - (fit.intercept + fit.slope * score)
    assert rmse_after_map(score, mos) == pytest.approx(math.sqrt(np.sum(residual**2) / 38), abs=1e-12)
    assert mapped(score, a, b) == pytest.approx(fit.intercept + fit.slope * score)
    # a backwards predictor keeps its negative slope: the same residuals as the forward one
    assert first_order_map(-score, mos)[1] == pytest.approx(-b)
    assert rmse_after_map(-score, mos) == pytest.approx(rmse_after_map(score, mos))


def test_first_order_map_needs_two_different_scores() -> None:
    with pytest.raises(ValueError, match="at least 2 items"):
        first_order_map([3.0], [2.0])
    with pytest.raises(ValueError, match="not all equal"):
        first_order_map([3.0, 3.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="not finite"):
        first_order_map([1.0, math.nan], [1.0, 2.0])
    assert math.isnan(rmse_after_map([1.0, 2.0], [1.0, 3.0]))  # N - 2 = 0
    assert math.isnan(rmse_after_map([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]))


# ----------------------------------------------------------------------------- figures


def test_listener_figures_agree_with_scipy_per_file_per_condition_and_per_type() -> None:
    rng = np.random.default_rng(8)
    n = 60
    conditions = [f"c{i % 12}" for i in range(n)]
    types = ["chop" if i % 12 < 6 else "noise" for i in range(n)]
    level = rng.uniform(1.5, 4.5, 12)
    mos = np.clip(np.round((level[np.arange(n) % 12] + rng.normal(0, 0.3, n)) * 4) / 4, 1, 5)  # ties on a quarter grid
    score = 0.5 * mos + rng.normal(0, 0.5, n)
    f = listener_figures(score, mos, conditions, types)

    assert f.files.n == n
    assert f.files.pcc == pytest.approx(stats.pearsonr(score, mos).statistic, abs=1e-12)
    assert f.files.srcc == pytest.approx(stats.spearmanr(score, mos).statistic, abs=1e-12)
    assert f.files.rmse == pytest.approx(rmse_after_map(score, mos), abs=1e-12)
    names = sorted(set(conditions))
    cond_score = np.asarray([score[[c == k for c in conditions]].mean() for k in names])
    cond_mos = np.asarray([mos[[c == k for c in conditions]].mean() for k in names])
    assert f.conditions.n == 12
    assert f.conditions.pcc == pytest.approx(stats.pearsonr(cond_score, cond_mos).statistic, abs=1e-12)
    assert f.conditions.srcc == pytest.approx(stats.spearmanr(cond_score, cond_mos).statistic, abs=1e-12)
    fit = stats.linregress(cond_score, cond_mos)
    assert f.conditions.rmse == pytest.approx(math.sqrt(np.sum((cond_mos - fit.intercept - fit.slope * cond_score) ** 2) / 10), abs=1e-12)
    assert f.l_mos == pytest.approx(np.mean(np.abs(score - mos)), abs=1e-12)

    pairs = [(i, j) if mos[i] > mos[j] else (j, i) for i, j in combinations(range(n), 2) if mos[i] != mos[j]]
    assert f.rank_pairs == len(pairs)
    assert f.r_rank == pytest.approx(np.mean([score[b] <= score[w] for b, w in pairs]), abs=1e-12)
    for name in ("chop", "noise"):
        idx = [i for i, t in enumerate(types) if t == name]
        assert f.type_srcc()[name] == pytest.approx(stats.spearmanr(score[idx], mos[idx]).statistic, abs=1e-12)
    assert [(t, k) for t, k, _ in f.by_type] == [("chop", 30), ("noise", 30)]


def test_a_file_without_condition_is_its_own_and_one_without_type_is_left_out_of_types_only() -> None:
    f = listener_figures([1.0, 2.0, 3.5, 3.0], [1.0, 2.5, 4.0, 3.0], ["a", "a", None, None], ["x", None, "x", "y"])
    assert f.conditions.n == 3 and f.files.n == 4
    assert [(t, k) for t, k, _ in f.by_type] == [("x", 2), ("y", 1)]
    assert math.isnan(f.type_srcc()["y"])
    with pytest.raises(ValueError, match="must name each of the 4 files"):
        listener_figures([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], ["a"], ["x"] * 4)
    assert agreement([], []).n == 0


def test_the_tables_show_every_predictor_and_n_a_for_undefined_figures() -> None:
    good = listener_figures([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.5, 4.0], ["a", "b", "c", "d"], ["x", "x", "y", "y"])
    flat = listener_figures([2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 3.5, 4.0], ["a", "b", "c", "d"], ["x", "x", "y", "y"])
    table = figures_table([("good one", good), ("flat one", flat)])
    good_row = next(line for line in table.splitlines() if line.startswith("good one"))
    assert f"{good.files.pcc:.3f}" in good_row and f"{good.l_mos:.3f}" in good_row
    flat_row = next(line for line in table.splitlines() if line.startswith("flat one"))
    assert "n/a" in flat_row and f"{flat.r_rank:.3f}" in flat_row  # ties are wrong: R_RANK 1
    assert flat.r_rank == 1.0
    by_type = types_table([("good one", good), ("flat one", flat)])
    header, _, *lines = by_type.splitlines()
    assert header.index("good one") < header.index("flat one")
    assert [line.split()[:2] for line in lines] == [["x", "2"], ["y", "2"]]
    assert lines[0].split()[-1] == "n/a" and lines[0].split()[-2] == f"{good.type_srcc()['x']:.3f}"


# ----------------------------------------------------------------------------- Distill-MOS


class _FakeModel:
    """Distill-MOS's interface: (batch, samples) tensor in, (batch, 1) out; remembers its input."""

    def __call__(self, x):
        import torch

        self.seen = x
        return torch.full((x.shape[0], 1), 3.5)


def test_distill_mos_peer_hands_the_model_16_khz_samples(tmp_path: Path) -> None:
    model = _FakeModel()
    peer = DistillMosPeer(model=model)
    assert peer.score_file(FIXTURE / "opus.wav") == {"mos": pytest.approx(3.5)}
    import soundfile as sf

    samples, sr = sf.read(FIXTURE / "opus.wav", dtype="float32")
    assert sr == 16_000 and tuple(model.seen.shape) == (1, len(samples))  # one batch row, as read
    assert np.allclose(model.seen[0].numpy(), samples, atol=1e-6)
    with pytest.raises(ValueError, match="16000 Hz"):
        peer.score_array(np.zeros(48_000, dtype=np.float32), 48_000)
    assert "distillmos" in PEERS and "torchaudio" not in sys.modules


def test_distill_mos_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from sesqa.evaluation.peers import distill_mos

    def missing():
        raise ImportError("No module named 'distillmos'")

    monkeypatch.setattr(distill_mos, "_import_without_torchaudio", missing)
    with pytest.raises(PeerUnavailable, match=r"pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0"):
        distill_mos.load_distillmos()


def test_distill_mos_with_its_packaged_weights_orders_the_clips_as_listeners_roughly_do() -> None:
    if importlib.util.find_spec("distillmos") is None or importlib.util.find_spec("xls_r_sqa") is None:
        pytest.skip("Distill-MOS is not installed (pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0)")
    peer = PEERS["distillmos"]()
    found = {name: peer.score_file(FIXTURE / f"{name}.wav")["mos"] for name in ("lpcnu", "opus", "speex")}
    assert all(1.0 <= v <= 5.0 for v in found.values())
    assert found["speex"] < min(found["lpcnu"], found["opus"])  # MOS 1.18 against 4.64 and 4.31
    assert "torchaudio" not in sys.modules  # the stand-in is gone after the import


# ----------------------------------------------------------------------------- the benchmark


def _scores(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_benchmark_on_the_genspeech_clips_with_sesqa_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _benchmark()
    rc = bench.main([str(FIXTURE / "mos.csv"), "--peers", "none", "--scores", str(tmp_path / "s.csv"), "--json", str(tmp_path / "f.json")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "5 of 5 listed files" in out and "sesqa default" in out and "DNSMOS" not in out
    rows = _scores(tmp_path / "s.csv")
    score = np.asarray([float(r["sesqa default"]) for r in rows])
    mos = np.asarray([float(r["mos"]) for r in rows])
    assert np.all((score >= 1) & (score <= 5))
    figures = json.loads((tmp_path / "f.json").read_text())["figures"]["sesqa default"]
    assert figures["files"]["pcc"] == pytest.approx(stats.pearsonr(score, mos).statistic, abs=1e-5)
    assert figures["files"]["srcc"] == pytest.approx(stats.spearmanr(score, mos).statistic, abs=1e-5)
    assert figures["l_mos"] == pytest.approx(np.mean(np.abs(score - mos)), abs=1e-5)
    assert [t for t, _, _ in figures["by_type"]] == ["codec", "neural-vocoder"]
    assert f"{figures['files']['pcc']:.3f}" in next(line for line in out.splitlines() if line.startswith("sesqa default"))


def test_the_benchmark_skips_peers_that_are_not_installed_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    def unavailable(name: str) -> object:
        raise PeerUnavailable(f"{name} is not installed here")

    rc = _benchmark().main([str(FIXTURE / "mos.csv")], make_peer=unavailable)
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "dnsmos: skipped, not installed (dnsmos is not installed here)" in out
    assert "distillmos: skipped, not installed (distillmos is not installed here)" in out
    assert "sesqa default" in out and "Distill-MOS" not in out


def test_the_benchmark_takes_predictions_already_made_by_listed_or_resolved_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--pred rows: one CSV keyed by the paths as the list writes them, one by absolute paths (as
    `sesqa evaluate --kfold` writes its pooled predictions) with its own score column."""
    bench = _benchmark()
    names = ["lpcnq.wav", "lpcnu.wav", "melp.wav", "opus.wav", "speex.wav"]
    made = dict(zip(names, (3.1, 3.6, 1.9, 4.2, 2.4)))
    (tmp_path / "listed.csv").write_text("path,score\n" + "".join(f"{n},{s}\n" for n, s in made.items()))
    (tmp_path / "absolute.csv").write_text("path,mine\n" + "".join(f"{(FIXTURE / n).resolve()},{-s}\n" for n, s in made.items()))
    rc = bench.main([
        str(FIXTURE / "mos.csv"), "--peers", "none", "--pred", f"listed={tmp_path / 'listed.csv'}",
        "--pred", f"flipped={tmp_path / 'absolute.csv'}:mine", "--json", str(tmp_path / "f.json"),
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "sesqa default" not in out, "no model is scored when --pred gives the rows"
    assert "listed: 5 of 5 files found" in out and "flipped: 5 of 5 files found" in out
    figures = json.loads((tmp_path / "f.json").read_text())["figures"]
    assert figures["flipped"]["files"]["srcc"] == pytest.approx(-figures["listed"]["files"]["srcc"])
    with pytest.raises(SystemExit):
        bench.main([str(FIXTURE / "mos.csv"), "--pred", "no-equals-sign"])
