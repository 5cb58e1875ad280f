"""competing_talker: another speaker of the corpus under the main one, at the drawn ratio."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from sesqa.data import portable_path
from sesqa.generator.degradations import REGISTRY, DegradationError, SamplingContext
from sesqa.generator.quadruple import OtherTalkers, regenerate
from sesqa.generator.run import GenerateConfig, generate
from sesqa.generator.sources import FrameSampler, SourceFile, scan_corpus
from sesqa.shards import read_shard

from .helpers import SR, speech_like

TALKER = REGISTRY["competing_talker"]
PATTERN = r"clean/(spk\d)/"


class _Fixed:
    def __init__(self, found):
        self.found = found

    def sample(self, rng, duration_s):
        return self.found


def test_needs_other_talkers_and_says_so():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="talkers"):
        TALKER.sample_params(rng, 0.5, SamplingContext(SR, SR))
    with pytest.raises(DegradationError, match="no speaker other"):
        TALKER.sample_params(rng, 0.5, SamplingContext(SR, SR, talkers=_Fixed(None)))


@pytest.mark.parametrize("strength, ratio_db", [(0.0, 30.0), (0.5, 15.0), (1.0, 0.0)])
def test_mixes_the_other_voice_at_the_drawn_ratio(tmp_path, strength, ratio_db):
    other = tmp_path / "other.flac"
    sf.write(other, 0.3 * speech_like(1.5, seed=9), SR, subtype="PCM_24")
    x = speech_like(1.1, seed=1)
    params = TALKER.sample_params(np.random.default_rng(0), strength, SamplingContext(len(x), SR, talkers=_Fixed((portable_path(other), 0.2))))
    assert params.ratio_db == pytest.approx(ratio_db)
    y = TALKER.apply(x, SR, params)
    assert y.dtype == np.float32 and len(y) == len(x)
    added = y.astype(np.float64) - x
    measured = 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) / np.mean(added**2))
    assert measured == pytest.approx(ratio_db, abs=0.05)
    np.testing.assert_array_equal(y, TALKER.apply(x, SR, params))  # pure: replays exactly


def test_other_talkers_never_returns_the_frames_own_speaker(small_corpus, tmp_path):
    clean, _ = small_corpus
    corpus, _ = scan_corpus([clean], {"train": 1.0}, 1.1, PATTERN, tmp_path / "cache")
    sampler = FrameSampler(corpus.files("train"))
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(40):
        path, offset_s = OtherTalkers(sampler, "spk1").sample(rng, 1.05)
        speaker = re.search(PATTERN, path).group(1)
        assert speaker != "spk1"
        seen.add(speaker)
    assert seen == {"spk0", "spk2", "spk3"}
    with pytest.raises(ValueError, match="duration_s"):
        OtherTalkers(sampler, "spk1").sample(rng, 2.0)


def test_a_corpus_of_one_speaker_has_no_other_talker(tmp_path):
    path = tmp_path / "clean" / "spk0" / "a.flac"
    path.parent.mkdir(parents=True)
    sf.write(path, 0.5 * speech_like(3.0), SR, subtype="PCM_16")
    sampler = FrameSampler(((SourceFile(portable_path(path), 3.0, "d", "spk0"),),))
    assert OtherTalkers(sampler, "spk0").sample(np.random.default_rng(0), 1.0) is None


def test_telephony_shards_hold_competing_talkers_of_other_speakers_and_replay(tmp_path, small_corpus):
    clean, noise = small_corpus
    out = tmp_path / "shards"
    config = GenerateConfig(
        out=out, n=60, seed=5, shard_size=20, clean=(clean,), noise=(noise,), speaker_pattern=PATTERN, workers=1,
        metrics=(), pool="telephony", splits=("train",), cache_dir=tmp_path / "cache",
    )
    generate(config, progress=False)
    found = 0
    for tar in sorted(out.glob("*.tar")):
        for sample in read_shard(tar):
            r = sample.record
            steps = [s for s in (*r.chain_i, *r.chain_j) if s.type == "competing_talker"]
            for step in steps:
                own = re.search(PATTERN, r.source.path).group(1)
                assert re.search(PATTERN, step.params["talker_path"]).group(1) != own
            if steps:
                found += 1
                x_i, x_j = regenerate(r.source.path, r.source.offset_s, r.source.duration_s, r.chain_i, r.chain_j, r.delay_samples, dc_removed=True)
                np.testing.assert_allclose(x_j, sample.x_j, atol=1.01 * r.gain_j / 32767)
    assert found >= 2
