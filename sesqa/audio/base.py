"""What every part of the audio layer shares: the project's rate, the error type, resampling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

SAMPLE_RATE = 48_000
"""The rate sesqa works at: sources, degradations, shards and the model."""


class AudioError(Exception):
    """A file could not be read as audio; the message names the file and the problem."""


class ChannelError(AudioError, ValueError):
    """`channel` is out of range for a file: a ValueError (bad option) that a batch, catching
    AudioError per file, also survives (a `--channel 1` over a mix of mono and stereo files)."""


@dataclass(frozen=True)
class AudioInfo:
    """What the corpus index needs to know about a file without decoding it."""

    duration_s: float
    sample_rate: int
    channels: int


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a mono signal with soxr (VHQ); returns float32."""
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    y = soxr.resample(np.asarray(x, dtype=np.float32), sr_in, sr_out, quality="VHQ")
    return np.asarray(y, dtype=np.float32)
