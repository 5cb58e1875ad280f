"""The bundled default corpus (sesqa/data/): readable, long enough, not silent, small, clean of reserved data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import sesqa

DATA = Path(sesqa.__file__).resolve().parent / "data"
AUDIO_SUFFIXES = {".flac", ".ogg", ".wav"}
MAX_BYTES = 15_000_000

# Kept out of the bundle: evaluation languages and packages whose audio must never be used.
RESERVED_LANGS = {"en", "de", "el", "sl", "gl", "wa"}
RESERVED_PACKAGES = ("alsa-utils", "codec2-examples", "asterisk-core-sounds", "openttd-opensfx")


def _audio_files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


AUDIO = _audio_files()


def _id(p: Path) -> str:
    return p.relative_to(DATA).as_posix()


def test_corpus_present():
    speech = [p for p in AUDIO if p.relative_to(DATA).parts[0] == "speech"]
    noise = [p for p in AUDIO if p.relative_to(DATA).parts[0] == "noise"]
    assert speech, "no bundled speech"
    assert noise, "no bundled noise"
    assert (DATA / "README.md").is_file()
    assert (DATA / "licenses").is_dir() and any((DATA / "licenses").iterdir())


@pytest.mark.parametrize("path", AUDIO, ids=_id)
def test_file_reads_long_and_not_silent(path: Path):
    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    assert len(x) / sr >= 1.5
    assert np.max(np.abs(x)) > 0.05
    hop = sr // 10
    n = len(x) // hop
    db = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    assert np.mean(db < -50.0) < 0.5, "mostly silent"


def test_size_budget():
    """The corpus's budget; the default model in models/ has its own (test_default_model.py)."""
    corpus = [p for p in DATA.rglob("*") if p.is_file() and p.relative_to(DATA).parts[0] != "models"]
    total = sum(p.stat().st_size for p in corpus)
    assert total <= MAX_BYTES, f"sesqa/data without models/ is {total / 1e6:.2f} MB"


def test_one_speaker_folder_per_language():
    for p in AUDIO:
        parts = p.relative_to(DATA).parts
        if parts[0] == "speech":
            assert len(parts) == 3, f"{_id(p)}: expected speech/<lang>/<file>"


def test_no_reserved_language_or_package_in_paths():
    for p in DATA.rglob("*"):
        parts = p.relative_to(DATA).parts
        if parts[0] == "speech" and len(parts) > 1:
            assert parts[1].lower() not in RESERVED_LANGS, f"reserved language: {_id(p)}"
        for part in parts:
            low = part.lower()
            stem = low.split(".")[0]
            assert stem not in RESERVED_LANGS, f"reserved language name in path: {_id(p)}"
            for pkg in RESERVED_PACKAGES:
                assert pkg not in low, f"reserved package name in path: {_id(p)}"
