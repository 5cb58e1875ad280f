"""`sesqa sweep`: clips degraded at growing strength, scored, every cell replayable."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.generator.degradations.base import REGISTRY, AppliedDegradation
from sesqa.generator.sources import peak_normalise
from sesqa.scoring.scorer import Scorer
from sesqa.evaluation.sweep import SweepConfig, run_sweep

from .helpers import SR, run_cli, speech_like

TYPES = ("additive_noise", "low_pass", "mp3")
STRENGTHS = (0.2, 0.8)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[list[Path], Path]:
    root = tmp_path_factory.mktemp("sweep")
    clips = []
    for k in range(2):
        clips.append(root / f"clip{k}.wav")
        sf.write(clips[-1], 0.4 * speech_like(2.0, seed=k), SR, subtype="FLOAT")
    (root / "noise").mkdir()
    sf.write(root / "noise" / "hiss.wav", 0.3 * np.random.default_rng(5).standard_normal(3 * SR).astype(np.float32), SR)
    return clips, root / "noise"


def test_sweep_is_reproducible_and_every_cell_replays(ckpt: Path, inputs) -> None:
    clips, noise = inputs
    scorer = Scorer.from_checkpoint(ckpt)
    config = SweepConfig(clips=tuple(clips), types=TYPES, strengths=STRENGTHS, seed=3, noise=(noise,))
    first, second = run_sweep(scorer, config), run_sweep(scorer, config)
    assert first.errors == []
    assert len(first.rows) == len(clips) * (1 + len(TYPES) * len(STRENGTHS))
    assert [(r.clip, r.type, r.strength, r.score, r.params) for r in first.rows] == [
        (r.clip, r.type, r.strength, r.score, r.params) for r in second.rows
    ]
    # A subset of the types, in another strength ladder, draws the same parameters: seeds follow
    # the registry and the strength's value, not the lists (additive noise: a random noise seed).
    alone = run_sweep(scorer, SweepConfig(clips=tuple(clips), types=("additive_noise",), strengths=(0.8, 0.5), seed=3, noise=(noise,)))
    want = next(r for r in first.rows if r.clip == str(clips[1]) and r.type == "additive_noise" and r.strength == 0.8)
    got = next(r for r in alone.rows if r.clip == str(clips[1]) and r.type == "additive_noise" and r.strength == 0.8)
    assert got.params == want.params and got.score == pytest.approx(want.score, abs=1e-6)
    # Any cell is rebuilt from its CSV fields alone.
    row = next(r for r in first.rows if r.type == "additive_noise" and r.strength == 0.8)
    x = peak_normalise(sf.read(row.clip, dtype="float32")[0])
    y = AppliedDegradation(row.type, row.strength, REGISTRY[row.type].params_from_dict(row.params)).apply(x, SR)
    assert scorer.score(y, sr=SR).score == pytest.approx(row.score, abs=1e-6)
    means = first.means()
    assert list(means) == list(TYPES) and all(list(by) == list(STRENGTHS) for by in means.values())
    table = first.table()
    assert all(name in table for name in TYPES) and "clean:" in table


def test_config_errors_name_the_option(inputs) -> None:
    clips, _ = inputs
    with pytest.raises(ValueError, match=r"strengths must each be in \[0, 1\], got 1.5"):
        SweepConfig(clips=tuple(clips), strengths=(0.5, 1.5))
    with pytest.raises(ValueError, match="unknown degradation.*tape_hiss"):
        SweepConfig(clips=tuple(clips), types=("mp3", "tape_hiss"))
    with pytest.raises(ValueError, match="clips"):
        SweepConfig(clips=())
    with pytest.raises(ValueError, match="max_seconds"):
        SweepConfig(clips=tuple(clips), max_seconds=0.5)


def test_cli_writes_csv_and_audio_and_goes_on_past_bad_clips(tmp_path: Path, ckpt: Path, inputs, caplog) -> None:
    clips, noise = inputs
    short = tmp_path / "short.wav"
    sf.write(short, speech_like(0.5), SR)
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio")
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli(
        "sweep", clips[0], short, junk, tmp_path / "missing.wav", "--model", ckpt, "--types", "low_pass,clipping",
        "--strengths", "0.1,0.9", "--noise", noise, "--csv", out / "sweep.csv", "--save-audio", out / "audio", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "missing.wav: no such file" in result.output
    assert "short.wav: 0.50 s long; a sweep needs at least 1 s" in caplog.text
    assert "junk.wav: not readable as audio" in caplog.text
    with open(out / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["type"], r["strength"]) for r in rows] == [
        ("clean", "0"), ("low_pass", "0.1"), ("low_pass", "0.9"), ("clipping", "0.1"), ("clipping", "0.9"),
    ]  # fmt: skip
    assert json.loads(rows[2]["params"])["cutoff_hz"] > 0
    assert sorted(p.name for p in (out / "audio").iterdir()) == [
        "clip0__clipping__0.1.wav", "clip0__clipping__0.9.wav", "clip0__low_pass__0.1.wav", "clip0__low_pass__0.9.wav",
    ]  # fmt: skip
    assert "low_pass" in result.output and "clipping" in result.output
    assert run_cli("sweep", short, junk, "--model", ckpt, "--types", "mp3", "--quiet").exit_code == 1
    assert run_cli("sweep", clips[0], "--model", ckpt, "--strengths", "0.5,x").exit_code == 2


def test_spearman_per_type_is_the_mean_over_clips_and_nan_without_variation() -> None:
    from sesqa.evaluation.sweep import SweepResult, SweepRow

    rows = [SweepRow("a", "clean", 0.0, 4.0), SweepRow("b", "clean", 0.0, 4.0)]
    rows += [SweepRow("a", "mp3", s, v) for s, v in ((0.1, 3.0), (0.5, 2.0), (0.9, 1.0))]  # falls: -1
    rows += [SweepRow("b", "mp3", s, v) for s, v in ((0.1, 3.0), (0.5, 1.0), (0.9, 2.0))]  # -0.5
    rows += [SweepRow(c, "gain", s, 3.0) for c in "ab" for s in (0.1, 0.9)]  # never moves
    result = SweepResult(rows)
    rho = result.spearman()
    assert rho["mp3"] == pytest.approx(-0.75)
    assert np.isnan(rho["gain"])
    assert "rho" in result.table().splitlines()[1] and "-0.75" in result.table()
