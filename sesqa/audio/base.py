"""What every part of the audio layer shares: the project's rate, the error type, the minimum length, resampling."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

SAMPLE_RATE = 48_000
"""The rate sesqa works at: sources, degradations, shards and the model."""

MIN_DURATION_S = 0.5
"""Shortest recording sesqa scores or trains on, one rule for `score`, `compare`, `evaluate` and
`train --mos` (`check_duration`): half of a 1 s frame, so the one frame of a short clip is never
more zero padding than audio."""

MIN_SLACK_S = 0.005
"""A file is too short only when it falls short of `MIN_DURATION_S` by more than this, so a clip
reported as "0.50 s" is never refused (0.5 s at 11025 Hz is 5512 samples, 0.49995 s)."""


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


def min_samples(sr: int, min_s: float = MIN_DURATION_S) -> int:
    """The fewest samples at `sr` a recording may hold: `min_s` less `MIN_SLACK_S`, at least one."""
    return max(1, math.ceil((min_s - MIN_SLACK_S) * sr - 1e-9))


def check_duration(source: str | Path, n_samples: int, sr: int, min_s: float = MIN_DURATION_S) -> None:
    """Raise AudioError naming `source` when `n_samples` at `sr` is empty or shorter than `min_s`.

    The one minimum-length rule: the scorer's frames, `compare` and the training streams all call it.
    """
    if n_samples <= 0:
        raise AudioError(f"{source}: no audio samples")
    if n_samples < min_samples(sr, min_s):
        raise AudioError(f"{source}: {n_samples / sr:.2f} s is shorter than the {min_s:g} s minimum")
