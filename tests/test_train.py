"""`sesqa train` end to end on a small generated corpus: learning, resume, torchrun, bad input."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import random
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from sesqa.measures.criteria import l_cons_quadruples, r_rank_quadruples
from sesqa.evaluation.run.shard_scores import score_shards
from sesqa.generator.run import GenerateConfig, generate
from sesqa.model import load_checkpoint, save_checkpoint
from sesqa.scoring.default import resolve_model
from sesqa.scoring.scorer import Scorer
from sesqa.trainer import TrainConfig, train
from sesqa.trainer import loop as loop_module
from sesqa.trainer.quad_labels import vocabulary

from .helpers import STATS, run_cli, tiny_config, warmed_up

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
    # "clean", the paper's 37, then the band limit every run labels
    assert checkpoint.config.degradation_types[0] == "clean" and len(checkpoint.config.degradation_types) == 39
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


def test_a_kill_while_resume_trims_the_logs_leaves_them_whole(tmp_path: Path, monkeypatch) -> None:
    from sesqa.trainer.runlog import RunLog

    runlog = RunLog(tmp_path)
    for step in range(1, 5):
        runlog.write("train", step, {"total": 1.0})
    runlog.close()
    before = (tmp_path / "train.csv").read_text()

    def killed(self, rows):
        raise _Killed

    monkeypatch.setattr(csv.DictWriter, "writerows", killed)
    with pytest.raises(_Killed):
        RunLog(tmp_path, resume_step=2)
    assert (tmp_path / "train.csv").read_text() == before
    monkeypatch.undo()
    RunLog(tmp_path, resume_step=2).close()
    assert [int(r["step"]) for r in _rows(tmp_path / "train.csv")] == [1, 2]


def _small_valid(shards: Path, folder: Path, samples: int = 4) -> Path:
    """`folder` with the manifest and the first `samples` quadruples of the valid split: quick validation."""
    folder.mkdir()
    (folder / "manifest.json").write_bytes((shards / "manifest.json").read_bytes())
    with tarfile.open(sorted(shards.glob("valid-*.tar"))[0]) as src, tarfile.open(folder / "valid-000000.tar", "w") as dst:
        for info in src.getmembers()[: 3 * samples]:  # json, i.flac, j.flac per quadruple
            dst.addfile(info, src.extractfile(info))
    return folder


def _wait_for_steps(proc: subprocess.Popen, ckpt: Path, count: int, deadline: float) -> list[float]:
    """Times at which `ckpt` was replaced (one step each with --checkpoint-every 1), up to `count`."""
    def stamp() -> int | None:
        with contextlib.suppress(FileNotFoundError):
            return ckpt.stat().st_mtime_ns
        return None

    seen, times = stamp(), []
    while proc.poll() is None and len(times) < count:
        assert time.monotonic() < deadline, "the training subprocess made no progress"
        if (now := stamp()) != seen:
            seen = now
            times.append(time.monotonic())
        time.sleep(0.005)
    return times


def test_sigkill_at_random_moments_then_resume_gives_bit_identical_weights(shards: Path, tmp_path: Path) -> None:
    """`sesqa train` killed (SIGKILL) at seeded random moments, resumed each time: the weights equal an unkilled run's, bit for bit."""
    valid = _small_valid(shards, tmp_path / "valid")
    config = _config(tmp_path / "whole", shards, valid=valid, steps=8, batch_size=2, checkpoint_every=1, log_every=1, workers=0, device="cpu", precision="fp32", swa=False)
    train(config, progress=False)
    whole = load_checkpoint(tmp_path / "whole" / "last.ckpt").model.state_dict()

    out = tmp_path / "killed"
    ckpt = out / "last.ckpt"
    command = [
        sys.executable, "-m", "sesqa", "train", "--out", out, "--shards", shards, "--valid", valid, "--model-size", "tiny",
        "--steps", "8", "--batch-size", "2", "--checkpoint-every", "1", "--log-every", "1", "--workers", "0",
        "--device", "cpu", "--precision", "fp32", "--no-swa",
    ]  # fmt: skip
    rng = random.Random(14)
    killed_at = []
    for trial in range(2):
        with (tmp_path / f"stderr-{trial}.txt").open("w") as stderr:
            proc = subprocess.Popen([str(a) for a in command] + ["--resume"] * (trial > 0), stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            # Two checkpoints after the start (past the imports) time one step; the kill lands within three more.
            times = _wait_for_steps(proc, ckpt, 2, deadline=time.monotonic() + 300)
            time.sleep(rng.uniform(0.0, 3.0 * (times[1] - times[0])) if len(times) == 2 else 0.0)
            running = proc.poll() is None
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert proc.returncode in (0, -signal.SIGKILL), (tmp_path / f"stderr-{trial}.txt").read_text()[-3000:]
        if running:  # the checkpoint the kill left is whole (atomic writes)
            killed_at.append(load_checkpoint(ckpt).extra["step"])
    assert killed_at, "no kill landed while the run was going"

    (out / ".last.ckpt.partial-99999-x.tmp").write_bytes(b"the leftover of a write cut by a kill")
    train(replace(config, out=out), resume=True, progress=False)
    resumed = load_checkpoint(ckpt)
    assert resumed.extra["step"] == 8
    state = resumed.model.state_dict()
    assert state.keys() == whole.keys()
    assert all(torch.equal(state[k], whole[k]) for k in whole), [k for k in whole if not torch.equal(state[k], whole[k])]
    steps = [int(r["step"]) for r in _rows(out / "train.csv")]
    assert steps == list(range(1, 9)), steps
    assert not list(out.glob(".*.partial-*")), "leftovers of killed writes are removed on resume"


@pytest.fixture(scope="module")
def unpaused(shards: Path, tmp_path_factory) -> tuple[TrainConfig, dict[str, torch.Tensor]]:
    """A 40-step run with a data worker, never paused: its config and final weights."""
    folder = tmp_path_factory.mktemp("unpaused")
    valid = _small_valid(shards, folder / "valid")
    config = _config(folder / "whole", shards, valid=valid, steps=40, batch_size=2, checkpoint_every=1000, log_every=4, workers=1, device="cpu", precision="fp32", swa=False)
    train(config, progress=False)
    return config, load_checkpoint(folder / "whole" / "last.ckpt").model.state_dict()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_process_group_pauses_at_a_log_step_and_resume_gives_bit_identical_weights(
    shards: Path, tmp_path: Path, unpaused: tuple[TrainConfig, dict[str, torch.Tensor]], sig: signal.Signals
) -> None:
    """Ctrl-C or SIGTERM sent to the whole process group, as a terminal, `timeout` or
    `kill -- -PGID` does, writes last.ckpt at the next log step and exits 75 (the data worker,
    in a group of its own, goes on until then); --resume then ends with an unpaused run's weights, bit for bit."""
    config, whole = unpaused
    valid = config.valid
    out = tmp_path / "paused"
    command = [
        sys.executable, "-m", "sesqa", "train", "--out", out, "--shards", shards, "--valid", valid, "--model-size", "tiny",
        "--steps", "40", "--batch-size", "2", "--checkpoint-every", "1000", "--log-every", "4", "--workers", "1",
        "--device", "cpu", "--precision", "fp32", "--no-swa",
    ]  # fmt: skip
    with (tmp_path / "stderr.txt").open("w") as stderr:
        proc = subprocess.Popen([str(a) for a in command], stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not ((out / "train.csv").exists() and _rows(out / "train.csv")):  # one log step done: the run is going
            assert proc.poll() is None and time.monotonic() < deadline, "the training subprocess made no progress"
            time.sleep(0.01)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 75, err[-3000:]
    paused = load_checkpoint(out / "last.ckpt").extra["step"]
    assert 4 <= paused < 40 and paused % 4 == 0, paused
    assert f"paused at step {paused} of 40" in err and "--resume" in err

    summary = train(replace(config, out=out), resume=True, progress=False)
    assert summary.steps == 40
    state = load_checkpoint(out / "last.ckpt").model.state_dict()
    assert all(torch.equal(state[k], whole[k]) for k in whole), [k for k in whole if not torch.equal(state[k], whole[k])]
    assert [int(r["step"]) for r in _rows(out / "train.csv")] == list(range(4, 41, 4))


def test_a_paused_run_raises_so_no_caller_goes_on_with_it(shards: Path, tmp_path: Path, monkeypatch) -> None:
    """In process (a k-fold fold, an ablation row), a pause is an exception, raised after last.ckpt is written."""
    from sesqa.runtime.pause import PauseRequest, TrainingPaused

    class AlreadyAsked(PauseRequest):
        def __enter__(self) -> PauseRequest:
            self.requested = True
            return self

    monkeypatch.setattr(loop_module, "PauseRequest", AlreadyAsked)
    with pytest.raises(TrainingPaused, match="paused at step 5 of 20") as paused:
        train(_config(tmp_path / "run", shards, log_every=5, swa=False, device="cpu"), progress=False)
    assert (paused.value.step, paused.value.total_steps) == (5, 20)
    assert load_checkpoint(tmp_path / "run" / "last.ckpt").extra["step"] == 5


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


def test_loss_weights_scale_the_step_loss_and_the_log_keeps_each_loss_unweighted(shards: Path, tmp_path: Path) -> None:
    weights = {"dt": 0.0, "mr": 0.5}
    train(_config(tmp_path / "run", shards, steps=2, batch_size=2, log_every=1, swa=False, loss_weights=tuple(weights.items())), progress=False)
    rows = _rows(tmp_path / "run" / "train.csv")
    assert len(rows) == 2
    for row in rows:
        losses = {k: float(v) for k, v in row.items() if k not in ("step", "epoch", "total", "lr") and v not in ("", None)}
        assert {"dt", "mr", "rank"} <= set(losses) and losses["dt"] > 0
        expected = sum(weights.get(k, 1.0) * v for k, v in losses.items())
        assert float(row["total"]) == pytest.approx(expected, rel=1e-4)


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


def test_fine_tuning_on_mos_alone_keeps_the_source_vocabulary(rated: tuple[Path, Path], tmp_path: Path, caplog) -> None:
    """Without shards nothing names the degradation types: the source's stay, so its type heads stay whole."""
    # a source of its own: the packaged default may know exactly format 1's types, which would void the test
    save_checkpoint(tmp_path / "source.ckpt", warmed_up(tiny_config()), metric_stats=STATS)
    source = load_checkpoint(tmp_path / "source.ckpt")
    assert source.config.degradation_types != vocabulary(), "the test needs a model trained on other types than format 1's"
    caplog.set_level(logging.INFO, logger="sesqa.trainer")
    train(TrainConfig(out=tmp_path / "tuned", mos=(rated[0],), init=tmp_path / "source.ckpt", steps=1, mos_batch_size=2, swa=False), progress=False)
    tuned = load_checkpoint(tmp_path / "tuned" / "last.ckpt")
    assert tuned.config.degradation_types == source.config.degradation_types
    assert tuned.config.strengthless == source.config.strengthless
    assert "another degradation vocabulary" not in caplog.text and "start fresh" not in caplog.text


def test_init_from_a_packaged_name_or_the_retired_one(rated: tuple[Path, Path], tmp_path: Path) -> None:
    """--init default starts from the packaged model; the retired `telephony` is refused with what replaced it."""
    train(TrainConfig(out=tmp_path / "tuned", mos=(rated[0],), init=Path("default"), steps=1, mos_batch_size=2, swa=False), progress=False)
    tuned, packaged = load_checkpoint(tmp_path / "tuned" / "last.ckpt").config, load_checkpoint(resolve_model("default")).config
    # the trainer writes out strengthless_types, which the packaged file leaves to its default
    assert replace(tuned, strengthless_types=packaged.strengthless_types) == packaged, "the packaged model's network, not a fresh paper-size one"
    with pytest.raises(ValueError, match="`telephony` model was retired"):
        train(TrainConfig(out=tmp_path / "old", mos=(rated[0],), init=Path("telephony"), steps=1, mos_batch_size=2, swa=False), progress=False)


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


def _tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_shards_without_a_readable_sample_stop_before_training_with_one_line(shards: Path, tmp_path: Path) -> None:
    """Manifest and stats.json are fine, but no tar holds a quadruple that decodes: exit 2, no traceback."""
    bad = tmp_path / "unreadable"
    bad.mkdir()
    for name in ("manifest.json", "stats.json"):
        (bad / name).write_bytes((shards / name).read_bytes())
    (bad / "train-000000.tar").write_bytes(b"not a tar" * 100)
    _tar(bad / "train-000001.tar", {"000001.json": b"{not json", "000001.i.flac": b"x", "000001.j.flac": b"y"})
    _tar(bad / "train-000002.tar", {"000002.json": (shards / "manifest.json").read_bytes()})  # members missing
    out = tmp_path / "run"
    result = run_cli("train", "--out", out, "--shards", bad, "--model-size", "tiny", "--steps", "2", "--batch-size", "2", "--workers", "0", "--device", "cpu")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert lines[0].startswith("error: ") and str(bad) in lines[0] and "no readable quadruple" in lines[0], lines[0]
    assert not (out / "last.ckpt").exists() and not (out / "train.csv").exists(), "stopped before training"


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
