"""`sesqa ablate`: Table 2's rows, which are n/a on which data, the tables, resuming row by row."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.evaluation import ablation
from sesqa.evaluation.ablation import AblateConfig, ablation_rows, run_ablation
from sesqa.generator.run import GenerateConfig, generate
from sesqa.trainer.losses import LOSS_NAMES

from .helpers import BUNDLED_SPEECH, run_cli


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    """40 quadruples (30 train, 5 valid, 5 test), no metric targets: L_MR has nothing to learn."""
    out = tmp_path_factory.mktemp("ablation-shards")
    generate(GenerateConfig(out=out, n=40, ratios=(30, 5, 5), shard_size=10, workers=1, metrics=()), progress=False)
    return out


@pytest.fixture(scope="module")
def labels(tmp_path_factory) -> Path:
    """A MOS list: four bundled clips rated 4.5 and noisy copies of them rated 1.5."""
    root = tmp_path_factory.mktemp("ablation-labels")
    rng = np.random.default_rng(0)
    rows = ["path,mos"]
    for n, path in enumerate(sorted(BUNDLED_SPEECH.glob("fr/*.flac"))[:4]):
        x, sr = sf.read(path, dtype="float32")
        x = 0.5 * x / np.max(np.abs(x))
        sf.write(root / f"clean{n}.wav", x, sr)
        sf.write(root / f"noisy{n}.wav", x + 0.1 * rng.standard_normal(len(x)).astype(np.float32), sr)
        rows += [f"clean{n}.wav,4.5", f"noisy{n}.wav,1.5"]
    (root / "mos.csv").write_text("\n".join(rows) + "\n")
    return root / "mos.csv"


def test_the_rows_are_table_2():
    rows = ablation_rows()
    assert [r.name for r in rows] == ["full", *[f"without-{n}" for n in LOSS_NAMES], "only-mos"]
    assert rows[0].without == () and set(rows[-1].without) == set(LOSS_NAMES) - {"mos"}
    assert set(ablation.PAPER_TABLE_2) == {r.name for r in rows}


@pytest.mark.parametrize(
    ("data", "na_rows"),
    [
        ({}, {"without-mos", "without-jnd", "only-mos"}),
        ({"mos"}, {"without-jnd"}),
        ({"mos", "jnd"}, set()),
    ],
)
def test_rows_that_would_repeat_the_full_model_or_train_nothing_are_na(data, na_rows):
    from sesqa.trainer.losses import LOSSES, inactive_losses

    inactive = inactive_losses(LOSSES, {"quad", *data}, 11)
    got = {r.name for r in ablation_rows() if ablation._not_applicable(r, inactive)}
    assert got == na_rows


def test_bad_options_are_named(shards: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="--rows: unknown row"):
        AblateConfig(shards=shards, out=tmp_path, rows=("without-everything",))
    with pytest.raises(ValueError, match="no valid-\\*.tar|no test"):
        AblateConfig(shards=tmp_path, out=tmp_path)
    with pytest.raises(FileNotFoundError, match="gone.csv"):
        AblateConfig(shards=shards, out=tmp_path, labels=tmp_path / "gone.csv")


def test_rows_train_evaluate_and_resume(shards: Path, labels: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "ablation"
    config = AblateConfig(shards=shards, out=out, labels=labels, rows=("full", "without-rank", "without-mos", "without-mr"), steps=2, batch_size=2, n_boot=50, model_size="tiny", precision="fp32")
    results = run_ablation(config)
    by_name = {r.row.name: r for r in results}
    assert by_name["without-mos"].na.startswith("identical to the full model")
    assert "metric targets" in by_name["without-mr"].na
    for name in ("full", "without-rank"):
        figures = by_name[name].figures
        for figure in ("l_mos", "r_rank", "l_cons", "e_total"):
            f = figures[figure]
            assert math.isfinite(f.value) and f.low <= f.value <= f.high, (name, figure, f)
        assert figures["e_total"].value == pytest.approx(0.5 * figures["l_mos"].value + figures["r_rank"].value + figures["l_cons"].value)
        assert (out / "rows" / name / "last.ckpt").is_file()
    table = list(csv.DictReader((out / "ablation.csv").open()))
    assert [r["row"] for r in table] == ["full", "without-mos", "without-rank", "without-mr"]  # Table 2's order
    assert table[1]["na"] and table[1]["r_rank"] == ""
    markdown = (out / "ablation.md").read_text()
    assert "| Without L_RANK |" in markdown and "0.492 / 0.201 / 0.061 / 0.508" in markdown

    # a rerun with the same settings trains nothing and reads the stored figures back
    def no_training(*args, **kwargs):
        raise AssertionError("a finished row was trained again")

    monkeypatch.setattr("sesqa.trainer.train", no_training)
    again = {r.row.name: r for r in run_ablation(config)}
    assert again["full"].figures == by_name["full"].figures
    # other settings make a stored row stale: it is trained again
    with pytest.raises(AssertionError, match="trained again"):
        run_ablation(AblateConfig(shards=shards, out=out, labels=labels, rows=("full",), steps=3, batch_size=2, n_boot=50, model_size="tiny"))


def test_cli_prints_the_table(shards: Path, tmp_path: Path):
    result = run_cli("ablate", "--shards", shards, "--out", tmp_path / "a", "--rows", "full,only-mos", "--steps", "1", "--batch-size", "2", "--boot", "20", "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "SESQA (all eight losses)" in result.output and "no loss left to train" in result.output
    assert (tmp_path / "a" / "ablation.md").is_file()
