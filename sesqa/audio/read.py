"""Whole-segment reads on the one decoder: `load` a stretch of a file into memory, `info` about it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import SAMPLE_RATE, AudioError, AudioInfo
from .stream import open_stream


def info(path: str | Path) -> AudioInfo:
    """Duration, rate and channels of a file; raises AudioError if it is not readable audio.

    libsndfile's header gives the length at once; for other formats (whose headers may only
    estimate it) the file is decoded, at its own rate and in constant memory, and counted.
    """
    with open_stream(path, sr=None) as stream:
        if stream.backend == "soundfile" and stream.duration_s is not None:
            return AudioInfo(stream.duration_s, stream.native_sr, stream.channels)
        for _ in stream:
            pass
        if stream.native_samples == 0:
            raise AudioError(f"{stream.path}: no audio frames")
        return AudioInfo(stream.native_samples / stream.native_sr, stream.native_sr, stream.channels)


def load(
    path: str | Path,
    sr: int = SAMPLE_RATE,
    offset_s: float = 0.0,
    duration_s: float | None = None,
) -> np.ndarray:
    """Read `duration_s` seconds from `offset_s` of any audio file as mono float32 at `sr`.

    Raises AudioError naming the file when it cannot be read, is empty or holds NaN/inf.
    """
    with open_stream(path, sr=sr, offset_s=offset_s, limit_s=duration_s) as stream:
        blocks = list(stream)
        if stream.native_samples == 0:
            raise AudioError(f"{stream.path}: no audio frames at offset {offset_s:.3f} s")
    if len(blocks) == 1:
        return blocks[0]
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
