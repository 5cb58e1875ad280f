"""`generate` under faults: killed at random moments, rerun into a folder with damaged shards,
with another seed, or with options that would silently give nothing (issue 14)."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing as mp
import os
import random
import shutil
import tarfile
import threading
import time
from pathlib import Path

import pytest

from sesqa.generator.run import GenerateConfig, generate
from sesqa.shards import read_shard

from .helpers import run_cli

PATTERN = r"clean/(spk\d)/"
KILL_TRIALS = 4


def config(out: Path, corpus: tuple[Path, Path], **kw) -> GenerateConfig:
    clean, noise = corpus
    base = dict(out=out, n=14, seed=3, shard_size=5, clean=(clean,), noise=(noise,), speaker_pattern=PATTERN, workers=1, metrics=("si_sdr",))
    return GenerateConfig(**{**base, **kw})


def cli_args(out: Path, corpus: tuple[Path, Path], *extra: str) -> list[str]:
    """The options of `config` (n 16, shard size 2) as a `sesqa generate` command line."""
    clean, noise = corpus
    return ["generate", "--out", str(out), "--n", "16", "--shard-size", "2", "--clean", str(clean), "--noise", str(noise),
            "--seed", "3", "--workers", "1", "--speaker-pattern", PATTERN, "--metrics", "si_sdr", *extra]  # fmt: skip


def folder_bytes(out: Path) -> dict[str, bytes]:
    """Every file of a shard folder (shards, manifest.json, stats.json, leftovers), by name."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory, small_corpus) -> tuple[Path, dict[str, bytes]]:
    """A complete folder of `config`, and its bytes."""
    out = tmp_path_factory.mktemp("made") / "shards"
    generate(config(out, small_corpus), progress=False)
    return out, folder_bytes(out)


def copy_of(made: tuple[Path, dict[str, bytes]], tmp_path: Path) -> Path:
    out = tmp_path / "shards"
    shutil.copytree(made[0], out)
    return out


def keep_samples(shard: Path, count: int) -> None:
    """Rewrite `shard` as a valid tar holding only its first `count` samples (an incomplete shard)."""
    with tarfile.open(shard) as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar]
    keys = list(dict.fromkeys(info.name.partition(".")[0] for info, _ in members))[:count]
    with tarfile.open(shard, "w") as tar:
        for info, data in members:
            if info.name.partition(".")[0] in keys:
                tar.addfile(info, io.BytesIO(data))


def _generate_in_child(args: list[str]) -> None:
    """The body of a killed run: `sesqa <args>`, output discarded.

    tqdm shares one inter-process lock with the processes forked from this one: a child killed
    while holding it would hang this process, so the child takes a lock of its own.
    """
    from tqdm import tqdm

    from sesqa.cli import app

    tqdm.set_lock(threading.RLock())
    tqdm.monitor_interval = 0
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    app(args)


@pytest.mark.parametrize("pool, trials", [("paper", KILL_TRIALS), ("all", 2)])
def test_generate_killed_at_random_moments_resumes_byte_identically(pool, trials, tmp_path, small_corpus):
    """SIGKILL at seeded random moments (once k shards exist, plus up to 0.1 s); rerunning the
    same command gives the uninterrupted run's folder byte for byte, keeping what was complete,
    for the paper pool and for the paper and telephony pools together.

    Each killed run is a child process forked from this one, so a trial costs the generation up
    to the kill rather than seconds of Python start-up; the files a SIGKILL leaves are the same.
    """
    reference = tmp_path / "reference"
    assert run_cli(*cli_args(reference, small_corpus, "--pool", pool)).exit_code == 0
    expected = folder_bytes(reference)
    n_shards = len(list(reference.glob("*.tar")))
    rng = random.Random(14)
    for trial in range(trials):
        out, wait_for, delay = tmp_path / f"trial-{trial}", rng.randint(0, n_shards), rng.uniform(0.0, 0.1)
        child = mp.get_context("fork").Process(target=_generate_in_child, args=(cli_args(out, small_corpus, "--pool", pool),))
        child.start()
        deadline = time.time() + 60  # a child that hangs is killed all the same
        while child.is_alive() and time.time() < deadline and not ((out / "manifest.json").exists() and len(list(out.glob("*.tar"))) >= wait_for):
            time.sleep(0.005)
        time.sleep(delay)
        child.kill()  # SIGKILL
        child.join()
        kept = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tar")}
        moment = f"trial {trial}: killed {delay:.3f} s after {wait_for} shard(s) existed; {len(kept)} of {n_shards} kept"
        moment += "" if (out / "stats.json").exists() else ", no stats.json"
        for shard in out.glob("*.tar"):  # whatever carries a final name is complete and valid
            assert len(list(read_shard(shard))) == 2, moment

        result = run_cli(*cli_args(out, small_corpus, "--pool", pool))
        assert result.exit_code == 0, f"{moment}\n{result.output}"
        assert f"{len(kept)} already complete" in result.output, moment
        assert folder_bytes(out) == expected, moment
        assert all(out.joinpath(name).stat().st_mtime_ns == t for name, t in kept.items()), moment
        logging.getLogger(__name__).info(moment)


def test_rerun_with_another_seed_or_metrics_is_refused_even_without_manifest(made, tmp_path, small_corpus):
    out = copy_of(made, tmp_path)
    (out / "manifest.json").unlink()
    (out / "test-000000.tar").unlink()
    before = folder_bytes(out)
    clean, noise = small_corpus
    args = ["generate", "--out", out, "--n", "14", "--shard-size", "5", "--clean", clean, "--noise", noise,
            "--workers", "1", "--speaker-pattern", PATTERN]  # fmt: skip

    other_seed = run_cli(*args, "--seed", "4", "--metrics", "si_sdr")
    assert other_seed.exit_code == 2, other_seed.output
    assert str(out) in other_seed.output and "seed 3 (this run: --seed 4)" in other_seed.output
    assert "Traceback" not in other_seed.output
    other_metrics = run_cli(*args, "--seed", "3", "--metrics", "si_sdr,stoi")
    assert other_metrics.exit_code == 2 and "metric targets ['si_sdr'] (this run: --metrics si_sdr,stoi)" in other_metrics.output
    assert folder_bytes(out) == before  # nothing written, no manifest with the new settings

    same = run_cli(*args, "--seed", "3", "--metrics", "si_sdr")
    assert same.exit_code == 0, same.output
    assert folder_bytes(out) == made[1]


def test_damaged_or_incomplete_shards_are_made_again(made, tmp_path, small_corpus, caplog):
    out = copy_of(made, tmp_path)
    (out / "train-000000.tar").write_bytes(b"junk!")
    keep_samples(out / "train-000001.tar", 3)
    (out / "stats.json").unlink()
    with caplog.at_level(logging.WARNING, logger="sesqa.generator.resume"):
        summary = generate(config(out, small_corpus), progress=False)
    assert summary.remade_shards == 2 and summary.written_shards == 2
    assert "train-000000.tar: not a readable tar shard" in caplog.text
    assert "train-000001.tar: holds 3 of its 5 samples" in caplog.text
    assert folder_bytes(out) == made[1]
    stats = json.loads((out / "stats.json").read_text())["measures"]
    assert set(stats) == {"si_sdr"} and stats["si_sdr"]["count"] + stats["si_sdr"]["missing"] == 10


def test_shards_of_another_size_are_refused(made, tmp_path, small_corpus):
    out = copy_of(made, tmp_path)
    (out / "manifest.json").unlink()
    with pytest.raises(ValueError, match=r"train-000000.tar was made with more than 4 samples per shard"):
        generate(config(out, small_corpus, shard_size=4), progress=False)


def test_empty_metrics_and_empty_splits_are_refused(tmp_path, small_corpus):
    clean, noise = small_corpus
    tiny = ["--clean", clean, "--noise", noise, "--speaker-pattern", PATTERN, "--workers", "1", "--shard-size", "7"]
    result = run_cli("generate", "--out", tmp_path / "a", "--n", "7", "--metrics", "", *tiny)
    assert result.exit_code == 2 and "--metrics none" in result.output
    assert not (tmp_path / "a").exists()
    result = run_cli("generate", "--out", tmp_path / "b", "--n", "6", "--metrics", "none", *tiny)
    assert result.exit_code == 2, result.output
    assert "n=6 gives the valid and test splits 0 quadruples at ratios 50,10,10; use n >= 7" in result.output
    with pytest.raises(ValueError, match="valid split 0 quadruples"):
        GenerateConfig(out=tmp_path, n=3, ratios=(5, 1, 0))
    assert GenerateConfig(out=tmp_path, n=3, ratios=(1, 0, 0)).split_sizes() == {"train": 3, "valid": 0, "test": 0}
