"""A band limit is a property of a source, never "clean": the measured edge, the degradation that
carries it, and the quadruples made from a 16 kHz source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from sesqa.audio.band import file_band_edge_hz, upper_band_edge_hz
from sesqa.generator.degradations import REGISTRY
from sesqa.generator.degradations.band_limit import FULL_BAND_EDGE_HZ, for_source, strength_of
from sesqa.generator.degradations.pools import POOLS, label_types, pool_members
from sesqa.generator.quadruple import regenerate
from sesqa.generator.report import format_summary
from sesqa.generator.run import GenerateConfig, generate
from sesqa.shards import read_shard
from sesqa.shards.manifest import read_strengthless, read_vocabulary
from sesqa.trainer.quad_labels import CLEAN, quad_labels, vocabulary

from .helpers import SR, speech_like

RNG = np.random.default_rng(7)


def white(seconds: float, sr: int) -> np.ndarray:
    return RNG.standard_normal(int(seconds * sr)).astype(np.float32)


@pytest.mark.parametrize("native_sr, expected_hz", [(8000, 4000.0), (16_000, 8000.0), (22_050, 11_025.0)])
def test_edge_of_upsampled_audio_is_the_native_nyquist(native_sr, expected_hz):
    x = soxr.resample(white(3.0, native_sr), native_sr, SR)
    assert abs(upper_band_edge_hz(x, SR) - expected_hz) <= 500.0


def test_full_band_reaches_nyquist_and_a_lone_tone_does_not_widen_the_band():
    assert upper_band_edge_hz(white(2.0, SR), SR) == SR / 2
    assert upper_band_edge_hz(speech_like(2.5), SR) >= FULL_BAND_EDGE_HZ
    narrow = soxr.resample(white(3.0, 16_000), 16_000, SR)
    whine = 0.5 * np.sin(2 * np.pi * 19_000 * np.arange(len(narrow)) / SR)
    assert upper_band_edge_hz(narrow + whine, SR) <= 8500.0


def test_edge_is_gain_invariant_and_silence_has_none():
    x = soxr.resample(white(3.0, 16_000), 16_000, SR)
    assert upper_band_edge_hz(x, SR) == upper_band_edge_hz(1e-3 * x, SR)
    assert upper_band_edge_hz(np.zeros(SR, dtype=np.float32), SR) == 0.0
    assert upper_band_edge_hz(np.full(SR, 0.3, dtype=np.float32), SR) == 0.0


def test_edge_rejects_bad_input():
    with pytest.raises(ValueError, match="sample_rate"):
        upper_band_edge_hz(white(1.0, SR), 0)
    with pytest.raises(ValueError, match="one-dimensional"):
        upper_band_edge_hz(np.zeros((2, SR)), SR)


def test_file_edge_reads_the_file_at_its_own_rate(tmp_path):
    path = tmp_path / "phone.wav"
    sf.write(path, 0.1 * soxr.resample(white(2.0, 8000), 8000, 16_000), 16_000)  # PCM_16, peaks below 1
    assert abs(file_band_edge_hz(path) - 4000.0) <= 500.0


def test_band_limit_is_drawn_by_no_pool_but_labelled_by_every_run():
    assert REGISTRY["band_limit"].pool == "source"
    for pool in POOLS:
        assert "band_limit" not in pool_members(pool)
        assert label_types(pool)[-1] == "band_limit"


def test_source_steps_follow_the_edge():
    assert for_source(None) == ()
    assert for_source(FULL_BAND_EDGE_HZ) == ()
    (step,) = for_source(8000.0)
    assert (step.type, step.params.edge_hz) == ("band_limit", 8000.0)
    assert strength_of(8000.0) < strength_of(4000.0) < strength_of(2000.0) == 1.0
    assert strength_of(FULL_BAND_EDGE_HZ) == 0.0


def test_band_limit_apply_removes_what_is_above_the_edge():
    x = white(1.0, SR)
    (step,) = for_source(4000.0)
    y = step.apply(x, SR)
    assert y.dtype == np.float32 and len(y) == len(x)
    assert upper_band_edge_hz(y, SR) <= 6000.0
    assert upper_band_edge_hz(x, SR) == SR / 2


@pytest.fixture(scope="module")
def narrowband_corpus(tmp_path_factory) -> tuple[Path, Path]:
    """Clean speech stored at 16 kHz (4 speakers x 2 files) and a full-band noise file."""
    root = tmp_path_factory.mktemp("narrowband")
    clean, noise = root / "clean", root / "noise"
    for s in range(4):
        (clean / f"spk{s}").mkdir(parents=True)
        for k in range(2):
            x = soxr.resample(0.5 * speech_like(2.5, seed=10 * s + k), SR, 16_000)
            sf.write(clean / f"spk{s}" / f"utt{k}.flac", x, 16_000, subtype="PCM_16")
    noise.mkdir()
    sf.write(noise / "hiss.flac", (0.1 * white(3.0, SR)), SR, subtype="PCM_16")
    return clean, noise


def test_quadruples_from_a_16_khz_source_are_never_labelled_clean(tmp_path, narrowband_corpus):
    clean, noise = narrowband_corpus
    out = tmp_path / "shards"
    config = GenerateConfig(
        out=out, n=30, seed=1, shard_size=10, clean=(clean,), noise=(noise,), speaker_pattern=r"clean/(spk\d)/",
        workers=1, metrics=(), cache_dir=tmp_path / "cache",
    )
    summary = generate(config, progress=False)
    assert summary.band_limited_files == 8
    assert "band-limited clean files: 8 of 8 stop below 15 kHz" in format_summary(summary)
    vocab = vocabulary(read_vocabulary([out]))
    strengthless = read_strengthless([out])
    samples = [s for tar in sorted(out.glob("*.tar")) for s in read_shard(tar)]
    assert len(samples) == 30
    empty_drawn_chains = 0
    for sample in samples:
        r = sample.record
        first = r.chain_i[0]
        assert first.type == "band_limit", r.key
        assert abs(first.params["edge_hz"] - 8000.0) <= 500.0
        empty_drawn_chains += len(r.chain_i) == 1
        labels = quad_labels(r, vocab, (), None, strengthless)
        for types in (labels.types_i, labels.types_j):
            assert types[vocab.index(CLEAN)] == 0.0, r.key
            assert types[vocab.index("band_limit")] == 1.0, r.key
        assert labels.strength_i[vocab.index("band_limit")] == pytest.approx(strength_of(first.params["edge_hz"]))
    assert empty_drawn_chains > 0  # these frames would have been "clean" before
    r = samples[0].record  # the record alone replays it, band limit included (16-bit storage)
    x_i, x_j = regenerate(r.source.path, r.source.offset_s, r.source.duration_s, r.chain_i, r.chain_j, r.delay_samples, dc_removed=r.source.dc_removed)
    np.testing.assert_allclose(x_i, samples[0].x_i, atol=1.01 * r.gain_i / 32767)
    np.testing.assert_allclose(x_j, samples[0].x_j, atol=1.01 * r.gain_j / 32767)


def test_full_band_sources_carry_no_band_limit(tmp_path, small_corpus):
    out = tmp_path / "shards"
    config = GenerateConfig(
        out=out, n=20, seed=1, shard_size=10, clean=(small_corpus[0],), noise=(small_corpus[1],),
        speaker_pattern=r"clean/(spk\d)/", workers=1, metrics=(), cache_dir=tmp_path / "cache",
    )
    assert generate(config, progress=False).band_limited_files == 0
    records = [s.record for tar in sorted(out.glob("*.tar")) for s in read_shard(tar)]
    assert not any(step.type == "band_limit" for r in records for step in r.chain_i)
    assert any(not r.chain_i for r in records)
