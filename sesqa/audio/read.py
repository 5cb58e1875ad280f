"""Whole-segment reads on the one decoder: `load` a stretch of a file into memory, `info` about it.

A file's warnings (a WAV cut short) are logged once per file and process: training reads
crops of the same file again and again, and one line per file says it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .base import SAMPLE_RATE, AudioError, AudioInfo
from .stream import AudioStream, open_stream

log = logging.getLogger(__name__)

_warned: set[tuple[str, str]] = set()
"""(file, warning) pairs already logged by this process."""


def _log_warnings(stream: AudioStream) -> None:
    for warning in stream.warnings:
        if (str(stream.path), warning) not in _warned:
            _warned.add((str(stream.path), warning))
            log.warning("%s: %s", stream.path, warning)


def info(path: str | Path) -> AudioInfo:
    """Duration, rate and channels of a file; raises AudioError if it is not readable audio.

    libsndfile's header gives the length at once; for other formats (whose headers may only
    estimate it) the file is decoded, at its own rate and in constant memory, and counted.
    """
    with open_stream(path, sr=None) as stream:
        _log_warnings(stream)
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
        _log_warnings(stream)
        blocks = list(stream)
        if stream.native_samples == 0:
            raise AudioError(f"{stream.path}: no audio frames at offset {offset_s:.3f} s")
    if len(blocks) == 1:
        return blocks[0]
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
