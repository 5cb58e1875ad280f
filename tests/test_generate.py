"""The generation run: determinism, resume, distribution, bad input, replay from records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.generator.quadruple import regenerate
from sesqa.generator.run import GenerateConfig, generate, my_shards, plan_shards
from sesqa.shards import read_shard
from sesqa.shards.check import check

from .helpers import SR

PATTERN = r"clean/(spk\d)/"


def config(out: Path, corpus: tuple[Path, Path], **kw) -> GenerateConfig:
    clean, noise = corpus
    base = dict(out=out, n=24, seed=3, shard_size=5, clean=(clean,), noise=(noise,), speaker_pattern=PATTERN, workers=1, metrics=())
    return GenerateConfig(**{**base, **kw})


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.tar"))}


@pytest.mark.parametrize("pool", ["paper", "all"])
def test_same_seed_same_bytes_whatever_the_worker_count(pool, tmp_path, small_corpus):
    one = generate(config(tmp_path / "a", small_corpus, workers=1, pool=pool), progress=False)
    two = generate(config(tmp_path / "b", small_corpus, workers=2, pool=pool), progress=False)
    assert one.quadruples == two.quadruples == 24
    a, b = shard_bytes(tmp_path / "a"), shard_bytes(tmp_path / "b")
    assert len(a) == 6 and a == b
    other = generate(config(tmp_path / "c", small_corpus, seed=4, pool=pool), progress=False)
    assert other.quadruples == 24 and shard_bytes(tmp_path / "c") != a
    report = check(tmp_path / "a", progress=False)
    assert report.ok, report.errors
    assert sum(report.quadruples.values()) == 24


def test_splits_are_disjoint_by_speaker(tmp_path, small_corpus):
    generate(config(tmp_path, small_corpus, n=40), progress=False)
    speakers: dict[str, set[str]] = {}
    for shard in tmp_path.glob("*.tar"):
        for sample in read_shard(shard):
            spk = sample.record.source.path.split("/clean/")[1].split("/")[0]
            speakers.setdefault(sample.record.split, set()).add(spk)
    assert set(speakers) == {"train", "valid", "test"}
    assert not speakers["train"] & speakers["valid"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["valid"] & speakers["test"]


def test_a_record_alone_regenerates_its_audio(tmp_path, small_corpus):
    generate(config(tmp_path, small_corpus, n=12), progress=False)
    checked = 0
    for shard in tmp_path.glob("*.tar"):
        for sample in read_shard(shard):
            r = sample.record
            assert r.source.dc_removed
            x_i, x_j = regenerate(r.source.path, r.source.offset_s, r.source.duration_s, r.chain_i, r.chain_j, r.delay_samples, dc_removed=r.source.dc_removed)
            # 16-bit storage: error below one quantisation step times the stored gain.
            np.testing.assert_allclose(x_i, sample.x_i, atol=1.01 * r.gain_i / 32767)
            np.testing.assert_allclose(x_j, sample.x_j, atol=1.01 * r.gain_j / 32767)
            ik, il, jk, jl = sample.frames()
            assert all(len(f) == SR for f in (ik, il, jk, jl))
            np.testing.assert_array_equal(il, sample.x_i[r.delay_samples :])
            checked += 1
    assert checked == 12


def test_shard_range_and_ranks_partition_the_work(tmp_path, small_corpus):
    full = config(tmp_path / "full", small_corpus)
    generate(full, progress=False)
    generate(config(tmp_path / "parts", small_corpus, shard_range=(0, 3)), progress=False)
    assert len(list((tmp_path / "parts").glob("*.tar"))) == 3
    generate(config(tmp_path / "parts", small_corpus, shard_range=(3, 99)), progress=False)
    assert shard_bytes(tmp_path / "parts") == shard_bytes(tmp_path / "full")

    tasks = plan_shards(full)
    by_rank = [my_shards(tasks, full, {"RANK": str(r), "WORLD_SIZE": "3"}) for r in range(3)]
    by_slurm = [my_shards(tasks, full, {"SLURM_ARRAY_TASK_ID": str(r), "SLURM_ARRAY_TASK_COUNT": "3"}) for r in range(3)]
    for split in (by_rank, by_slurm):
        names = [t.name for part in split for t in part]
        assert sorted(names) == sorted(t.name for t in tasks) and len(set(names)) == len(names)


def test_resume_refuses_other_settings(tmp_path, small_corpus):
    generate(config(tmp_path, small_corpus, n=7), progress=False)
    with pytest.raises(ValueError, match=r"other settings \(seed: 3 there, 99 now\)"):
        generate(config(tmp_path, small_corpus, n=7, seed=99), progress=False)


def test_bad_source_files_are_skipped_and_counted(tmp_path, small_corpus):
    clean, noise = small_corpus
    bad = tmp_path / "bad"
    (bad / "spk9").mkdir(parents=True)
    (bad / "spk9" / "empty.wav").write_bytes(b"")
    (bad / "spk9" / "text.flac").write_text("this is not audio\n" * 50)
    (bad / "spk9" / "random.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    sf.write(bad / "spk9" / "short.wav", np.full(SR // 2, 0.3, np.float32), SR)
    sf.write(bad / "spk9" / "silent.wav", np.zeros(3 * SR, np.float32), SR)
    summary = generate(config(tmp_path / "out", small_corpus, clean=(clean, bad), n=30, ratios=(1, 0, 0)), progress=False)
    assert summary.quadruples == 30
    skipped = {Path(p).name: reason for p, reason in summary.clean_report.skipped}
    assert set(skipped) == {"empty.wav", "text.flac", "random.wav", "short.wav"}
    assert "too short" in skipped["short.wav"]
    assert any(p.endswith("silent.wav") and "silent" in r for p, r in summary.bad_files.items())


def test_a_failing_degradation_is_logged_and_redrawn(monkeypatch, caplog, small_corpus):
    from sesqa.generator.degradations import REGISTRY
    from sesqa.generator.quadruple import QuadrupleMaker
    from sesqa.generator.sources import FrameSampler, NoiseBank, SourceFile

    clean, noise = small_corpus
    files = tuple(SourceFile(str(p), 2.5, "d", str(p)) for p in sorted(clean.rglob("*.flac")))
    noises = tuple(SourceFile(str(noise / "hiss.flac"), 3.0, "n", "n") for _ in range(1))

    def broken(x, sr, params):
        raise RuntimeError("codec exploded")

    monkeypatch.setattr(REGISTRY["additive_noise"], "apply", staticmethod(broken))
    maker = QuadrupleMaker(FrameSampler((files,)), NoiseBank((noises,)))
    rng = np.random.default_rng(0)
    quads = [maker.make(rng) for _ in range(10)]
    assert maker.failures > 0
    assert all(step.type != "additive_noise" for q in quads for step in q.chain_i + q.chain_j)
    assert "codec exploded" in caplog.text and "snr_db" in caplog.text


def test_clean_frames_lose_their_dc_offset(tmp_path, small_corpus):
    """A clip recorded with a DC offset (11 of the 53 bundled ones carry more than 5 % of their RMS)
    gives the same clean frame as without it: the offset is inaudible, but a high-pass or a codec
    that drops it would otherwise count against every reference metric."""
    import soundfile as sf

    from sesqa.generator.sources import FrameSampler, SourceFile

    clean, _ = small_corpus
    path = sorted(clean.rglob("*.flac"))[0]
    x, sr = sf.read(path, dtype="float32")
    shifted = tmp_path / "shifted.wav"
    sf.write(shifted, 0.5 * x + 0.2, sr, subtype="FLOAT")
    plain = tmp_path / "plain.wav"
    sf.write(plain, 0.5 * x, sr, subtype="FLOAT")
    frames = [FrameSampler(((SourceFile(str(p), len(x) / sr, "d", "g"),),)).sample(np.random.default_rng(3)) for p in (shifted, plain)]
    assert abs(float(np.mean(frames[0].audio))) < 1e-6
    np.testing.assert_allclose(frames[0].audio, frames[1].audio, atol=1e-5)


def test_metric_targets_and_their_statistics(tmp_path, small_corpus):
    from sesqa.generator.metrics import METRIC_NAMES
    from sesqa.shards.stats import read_stats

    summary = generate(config(tmp_path, small_corpus, n=14, metrics=METRIC_NAMES, workers=2), progress=False)
    assert summary.stats_written
    train = []
    for shard in sorted(tmp_path.glob("*.tar")):
        for sample in read_shard(shard):
            r = sample.record
            assert set(r.metrics) == set(METRIC_NAMES)
            for name, value in r.metrics.items():
                assert (value is None) == (name in r.metric_errors), (name, value, r.metric_errors)
            if r.split == "train":
                train.append(r.metrics)
    stats = read_stats(tmp_path)
    stoi = [m["stoi"] for m in train if m["stoi"] is not None]
    assert stats.moments("stoi").count == len(stoi) > 0
    assert stats.mean("stoi") == pytest.approx(np.mean(stoi))
    assert stats.std("stoi") == pytest.approx(np.std(stoi))
    assert check(tmp_path, progress=False).ok

    (tmp_path / "stats.json").write_text((tmp_path / "stats.json").read_text().replace('"count": ', '"count": 1'))
    assert any("stats.json" in e for e in check(tmp_path, progress=False).errors)


def test_metrics_option_selects_measures(tmp_path, small_corpus):
    generate(config(tmp_path, small_corpus, n=5, metrics=("si_sdr", "stoi"), ratios=(1, 0, 0)), progress=False)
    record = next(read_shard(next(tmp_path.glob("*.tar")))).record
    assert set(record.metrics) == {"si_sdr", "stoi"}
    with pytest.raises(ValueError, match="metrics"):
        config(tmp_path, small_corpus, metrics=("pesq", "mos"))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs a CPU affinity mask (Linux)")
def test_default_workers_follow_the_cpus_granted_to_the_process():
    code = (
        "import os; from pathlib import Path; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from sesqa.generator.run import GenerateConfig; print(GenerateConfig(out=Path('x')).workers)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "1"
