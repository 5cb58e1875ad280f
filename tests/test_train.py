"""`sesqa train` end to end on a small generated corpus: learning, resume, torchrun, bad input."""

from __future__ import annotations

import csv
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from sesqa.criteria import l_cons_quadruples, r_rank_quadruples
from sesqa.evaluation.shard_scores import score_shards
from sesqa.generator.run import GenerateConfig, generate
from sesqa.model import load_checkpoint
from sesqa.scoring.scorer import Scorer
from sesqa.trainer import TrainConfig, train
from sesqa.trainer import loop as loop_module

SR = 48_000
BUNDLED_SPEECH = Path(__file__).resolve().parent.parent / "sesqa" / "data" / "speech"


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    """400 quadruples from the bundled corpus (250 train, 100 valid, 50 test) with two metric targets."""
    out = tmp_path_factory.mktemp("shards")
    generate(GenerateConfig(out=out, n=400, ratios=(250, 100, 50), shard_size=50, workers=2, metrics=("si_sdr", "stoi")), progress=False)
    return out


@pytest.fixture(scope="module")
def rated(tmp_path_factory) -> tuple[Path, Path]:
    """A MOS CSV (clean speech rated high, noisy copies lower) and a JND list over the same files."""
    root = tmp_path_factory.mktemp("rated")
    rng = np.random.default_rng(3)
    rows, pairs = [], []
    for n, path in enumerate(sorted(BUNDLED_SPEECH.glob("fr/*.flac"))[:8]):
        x, sr = sf.read(path, dtype="float32")
        x = 0.5 * x / np.max(np.abs(x))
        clean = root / f"clean{n}.wav"
        sf.write(clean, x, sr)
        rows.append((clean.name, 4.6, "clean"))
        for snr_db, mos in ((20, 3.4), (5, 1.8)):
            noise = rng.standard_normal(len(x)).astype(np.float32)
            noise *= np.sqrt(np.mean(x**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
            noisy = root / f"noisy{n}_{snr_db}.wav"
            sf.write(noisy, x + noise, sr)
            rows.append((noisy.name, mos, f"snr{snr_db}"))
            pairs.append((clean.name, noisy.name, 1))
        pairs.append((clean.name, clean.name, 0))
    mos_csv, jnd_csv = root / "mos.csv", root / "jnd.csv"
    with mos_csv.open("w", newline="") as f:
        csv.writer(f).writerows([("path", "mos", "system"), *rows])
    with jnd_csv.open("w", newline="") as f:
        csv.writer(f).writerows([("path_a", "path_b", "label"), *pairs])
    return mos_csv, jnd_csv


def _config(out: Path, shards: Path, **kw) -> TrainConfig:
    base = dict(out=out, shards=shards, model_preset="tiny", batch_size=8, steps=20, checkpoint_every=1000, log_every=10, workers=1, precision="bf16")
    return TrainConfig(**{**base, **kw})


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_short_run_lowers_every_loss_and_ranks_held_out_pairs(shards: Path, rated: tuple[Path, Path], tmp_path: Path) -> None:
    mos_csv, jnd_csv = rated
    config = _config(tmp_path / "run", shards, steps=128, mos=(mos_csv,), jnd=(jnd_csv,), mos_batch_size=8, jnd_batch_size=4, log_every=16)
    summary = train(config, progress=False)

    rows = _rows(tmp_path / "run" / "train.csv")
    losses = ("mos", "rank", "cons", "sd", "jnd", "dt", "ds", "mr")
    assert set(losses) <= set(rows[0])
    first = {k: np.mean([float(r[k]) for r in rows[:2]]) for k in losses}
    last = {k: np.mean([float(r[k]) for r in rows[-2:]]) for k in losses}
    risen = {k: (round(first[k], 3), round(last[k], 3)) for k in losses if not last[k] < first[k]}
    assert not risen, f"losses that did not fall (first, last): {risen}"

    valid = _rows(tmp_path / "run" / "valid.csv")
    assert {"r_rank", "l_cons", "l_mos", "e_total"} <= set(valid[-1])
    assert summary.best_valid["r_rank"] < 0.4, summary.best_valid
    assert summary.last_valid["r_rank"] < 0.45, summary.last_valid
    for name in ("last.ckpt", "best.ckpt", "config.json", "train.log"):
        assert (tmp_path / "run" / name).is_file()
    assert any((tmp_path / "run" / "tensorboard").iterdir())

    checkpoint = load_checkpoint(tmp_path / "run" / "last.ckpt")
    assert checkpoint.config.degradation_types[0] == "clean" and len(checkpoint.config.degradation_types) == 38
    assert checkpoint.config.metric_names == ("si_sdr", "stoi")
    assert set(checkpoint.metric_stats["measures"]) == {"si_sdr", "stoi"}

    # The run trained in bf16, but validation scores in float32: `sesqa evaluate` (float32) on the
    # same quadruples gives the same figures, up to one pair flipped by BatchNorm folding.
    frames = score_shards(Scorer.from_checkpoint(tmp_path / "run" / "last.ckpt"), shards, split="valid").scores
    assert summary.last_valid["r_rank"] == pytest.approx(r_rank_quadruples(*frames.T), abs=0.5 / len(frames) + 1e-9)
    assert summary.last_valid["l_cons"] == pytest.approx(l_cons_quadruples(*frames.T), abs=1e-4)


class _Killed(Exception):
    pass


def test_resume_after_a_kill_gives_the_same_weights(shards: Path, tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path / "whole", shards, steps=16, batch_size=4, checkpoint_every=4)
    train(config, progress=False)
    whole = load_checkpoint(tmp_path / "whole" / "last.ckpt").model.state_dict()

    killed = replace(config, out=tmp_path / "killed")
    original = loop_module._Run._train_step

    def dies_at_step_ten(self):
        if self.step == 10:
            raise _Killed
        return original(self)

    monkeypatch.setattr(loop_module._Run, "_train_step", dies_at_step_ten)
    with pytest.raises(_Killed):
        train(killed, progress=False)
    monkeypatch.setattr(loop_module._Run, "_train_step", original)
    assert load_checkpoint(tmp_path / "killed" / "last.ckpt").extra["step"] == 8

    with pytest.raises(ValueError, match="--resume"):
        train(killed, progress=False)
    train(killed, resume=True, progress=False)
    resumed = load_checkpoint(tmp_path / "killed" / "last.ckpt").model.state_dict()
    assert resumed.keys() == whole.keys()
    for k in whole:
        torch.testing.assert_close(resumed[k], whole[k], rtol=1e-4, atol=1e-5, msg=k)
    steps = [int(r["step"]) for r in _rows(tmp_path / "killed" / "train.csv")]
    assert steps == sorted(set(steps)), "rows logged after the last checkpoint must be dropped on resume"


def test_resume_refuses_changed_settings(shards: Path, tmp_path: Path) -> None:
    config = _config(tmp_path / "run", shards, steps=2, batch_size=2, swa=False)
    train(config, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        train(replace(config, batch_size=4), resume=True, progress=False)


def test_without_switches_losses_off_and_missing_data_is_logged(shards: Path, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="sesqa")
    train(_config(tmp_path / "run", shards, steps=2, batch_size=2, without=("rank", "cons"), swa=False), progress=False)
    columns = set(_rows(tmp_path / "run" / "train.csv")[0])
    assert {"sd", "dt", "ds", "mr"} <= columns and not {"rank", "cons", "mos", "jnd"} & columns
    assert "L_MOS is skipped" in caplog.text and "L_JND is skipped" in caplog.text
    # the checkpoint says which heads no loss trained, so scoring withholds them
    untrained = load_checkpoint(tmp_path / "run" / "last.ckpt").untrained_heads
    assert set(untrained) == {"jnd", "score"} and "JND-labelled pairs" in untrained["jnd"]
    assert "L_RANK, L_CONS switched off (--without)" in untrained["score"] and "L_MOS needs" in untrained["score"]
    with pytest.raises(ValueError, match="unknown"):
        train(_config(tmp_path / "bad", shards, without=("rnak",)), progress=False)


def test_init_from_a_checkpoint_without_front_end_switches_it_on(shards: Path, tmp_path: Path) -> None:
    train(_config(tmp_path / "old", shards, steps=2, batch_size=2, swa=False, front_end=False), progress=False)
    old = load_checkpoint(tmp_path / "old" / "last.ckpt")
    assert not old.model.encoder.front_end.active
    train(_config(tmp_path / "new", shards, steps=2, batch_size=2, swa=False, init=tmp_path / "old" / "last.ckpt"), progress=False)
    new = load_checkpoint(tmp_path / "new" / "last.ckpt")
    assert new.model.encoder.front_end.active and new.config.canonical_polarity


def test_shards_without_metric_targets_train_without_the_mr_head(tmp_path: Path) -> None:
    out = tmp_path / "shards"
    generate(GenerateConfig(out=out, n=40, ratios=(30, 5, 5), shard_size=10, workers=1, metrics=()), progress=False)
    assert (out / "stats.json").is_file()
    train(_config(tmp_path / "run", out, steps=2, batch_size=2, swa=False), progress=False)
    model = load_checkpoint(tmp_path / "run" / "last.ckpt").model
    assert model.config.metric_names == () and "mr" not in model.heads
    assert "mr" not in _rows(tmp_path / "run" / "train.csv")[0]


def test_fine_tuning_on_mos_alone_starts_from_a_checkpoint(shards: Path, rated: tuple[Path, Path], tmp_path: Path) -> None:
    train(_config(tmp_path / "base", shards, steps=2, batch_size=2, swa=False), progress=False)
    base = load_checkpoint(tmp_path / "base" / "last.ckpt")
    config = TrainConfig(out=tmp_path / "calibrated", mos=(rated[0],), init=tmp_path / "base" / "last.ckpt", steps=3, mos_batch_size=4, swa=False, precision="bf16")
    train(config, progress=False)
    tuned = load_checkpoint(tmp_path / "calibrated" / "last.ckpt")
    assert tuned.config == base.config
    assert tuned.config.frame_level_dbfs is not None, "the front-end is on"
    assert tuned.metric_stats == base.metric_stats, "calibration keeps the source's metric normalisation"
    assert set(_rows(tmp_path / "calibrated" / "train.csv")[0]) >= {"mos", "rank"}


def test_bad_inputs_give_clear_errors_or_logged_skips(shards: Path, rated: tuple[Path, Path], tmp_path: Path, caplog) -> None:
    bad_mos = tmp_path / "bad_mos.csv"
    bad_mos.write_text(f"path,mos\n{rated[0].parent / 'clean0.wav'},6.0\n")
    with pytest.raises(ValueError, match=r"bad_mos\.csv.*6"):
        train(_config(tmp_path / "r1", shards, mos=(bad_mos,)), progress=False)

    missing = tmp_path / "missing.csv"
    missing.write_text(f"path,mos\n{rated[0].parent / 'clean0.wav'},4.5\n{rated[0].parent / 'clean1.wav'},4.5\nnot_there.wav,2.0\n")
    caplog.set_level(logging.WARNING, logger="sesqa")
    train(_config(tmp_path / "r2", shards, mos=(missing,), valid_mos=(missing,), steps=2, batch_size=2, swa=False), progress=False)
    assert "not_there.wav" in caplog.text

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    for f in shards.iterdir():
        (corrupt / f.name).symlink_to(f)
    (corrupt / "train-000099.tar").write_bytes(b"this is not a tar file" * 100)
    caplog.clear()
    train(_config(tmp_path / "r3", corrupt, steps=40, batch_size=8, swa=False), progress=False)
    assert "train-000099.tar" in caplog.text

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no train"):
        train(_config(tmp_path / "r4", empty), progress=False)


@pytest.mark.slow
def test_torchrun_two_cpu_processes(shards: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "sesqa", "train", "--shards", str(shards), "--out", str(out), "--steps", "6",
        "--batch-size", "4", "--model-size", "tiny", "--device", "cpu", "--workers", "0", "--checkpoint-every", "3",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    checkpoint = load_checkpoint(out / "last.ckpt")
    assert checkpoint.extra["step"] == 6
    assert len(checkpoint.extra["ranks"]) == 2, "each process's data position is saved"
