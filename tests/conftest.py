"""Shared fixtures: a speech-like test signal and a small noise corpus on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from .helpers import SR, speech_like


@pytest.fixture
def speech() -> np.ndarray:
    return speech_like()


class FileNoise:
    """A NoiseSource (or TalkerSource) over one generated file."""

    def __init__(self, path: Path, duration_s: float):
        self.path = str(path)
        self.duration_s = duration_s

    def sample(self, rng: np.random.Generator, duration_s: float) -> tuple[str, float]:
        return self.path, float(rng.uniform(0.0, max(0.0, self.duration_s - duration_s)))


@pytest.fixture(scope="session")
def noise_source(tmp_path_factory) -> FileNoise:
    path = tmp_path_factory.mktemp("noise") / "babble.flac"
    rng = np.random.default_rng(1)
    n = rng.standard_normal(3 * SR)
    n = np.convolve(n, np.ones(8) / 8, mode="same")
    sf.write(path, (0.3 * n / np.max(np.abs(n))).astype(np.float32), SR, subtype="PCM_16")
    return FileNoise(path, 3.0)


@pytest.fixture(scope="session")
def talker_source(tmp_path_factory) -> FileNoise:
    """A TalkerSource (competing_talker) over one file of another speaker's speech."""
    path = tmp_path_factory.mktemp("talker") / "other.flac"
    sf.write(path, 0.5 * speech_like(3.0, seed=42), SR, subtype="PCM_16")
    return FileNoise(path, 3.0)


@pytest.fixture(autouse=True)
def _index_cache_in_tmp(tmp_path_factory, monkeypatch):
    """Corpus index caches go to a temporary directory, never to the user's cache."""
    monkeypatch.setenv("SESQA_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "index-cache"))


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> tuple[Path, Path]:
    """(clean, noise) directories: 4 speakers x 2 utterances of 2.5 s, and 2 noise files."""
    root = tmp_path_factory.mktemp("corpus")
    clean, noise = root / "clean", root / "noise"
    for s in range(4):
        (clean / f"spk{s}").mkdir(parents=True)
        for k in range(2):
            sf.write(clean / f"spk{s}" / f"utt{k}.flac", 0.5 * speech_like(2.5, seed=10 * s + k), SR, subtype="PCM_16")
    noise.mkdir()
    rng = np.random.default_rng(5)
    sf.write(noise / "hiss.flac", (0.1 * rng.standard_normal(3 * SR)).astype(np.float32), SR, subtype="PCM_16")
    sf.write(noise / "rumble.wav", (0.1 * np.cumsum(rng.standard_normal(2 * 44_100)) / 100).astype(np.float32), 44_100)
    return clean, noise


@pytest.fixture(scope="session")
def ckpt(tmp_path_factory) -> Path:
    """A tiny warmed-up model with metric statistics, saved once; tests only read it."""
    from sesqa.model import save_checkpoint

    from .helpers import STATS, tiny_config, warmed_up

    path = tmp_path_factory.mktemp("model") / "tiny.ckpt"
    save_checkpoint(path, warmed_up(tiny_config()), metric_stats=STATS)
    return path
