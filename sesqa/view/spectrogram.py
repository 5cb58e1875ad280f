"""A file's spectrogram for its figure, computed as the file streams: memory stays flat for hours.

The file is read again through `sesqa.audio`'s one decoder (the scorer keeps no samples), at its
own rate up to 48 kHz, so a band limit shows as it is in the file (an 8 kHz recording stops at
4 kHz). Short-time spectra (Hann window, about 21 ms, half overlap) are averaged in power into
at most `max_columns` time columns, so a 2 h file gives an image of the same size as a 10 s one.
Levels are dB re full scale: a full-scale sine peaks at 0 dB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import open_stream

MAX_RATE = 48_000
"""Files above this rate are resampled down to it for the picture (speech has nothing above 24 kHz)."""
WINDOW_S = 0.021
MAX_COLUMNS = 1200
"""Time columns of the image at most: about one per pixel of the figure's width."""
_FLOOR = 1e-10


@dataclass(frozen=True)
class Spectrogram:
    """Levels in dBFS (frequency bins x time columns) and where the columns and bins lie."""

    db: np.ndarray
    """(bins, columns) float32, dB re full scale."""
    column_s: float
    """Seconds per column; column k covers [k * column_s, (k + 1) * column_s)."""
    sample_rate: int
    """Rate the picture was computed at; frequencies go up to half of it."""
    duration_s: float

    @property
    def top_khz(self) -> float:
        return self.sample_rate / 2000.0


def _nfft(sr: int) -> int:
    return 1 << max(6, round(math.log2(WINDOW_S * sr)))


def spectrogram(path: str | Path, duration_s: float, channel: int | None = None, max_columns: int = MAX_COLUMNS) -> Spectrogram:
    """The spectrogram of `path` (mono mix, or `channel`), `duration_s` long as the scorer found it.

    Raises AudioError naming the file when it can no longer be read.
    """
    with open_stream(path, sr=None, channel=channel) as probe:
        native = probe.native_sr
    sr = min(native, MAX_RATE)
    nfft = _nfft(sr)
    hop = nfft // 2
    window = np.hanning(nfft).astype(np.float32)
    scale = (2.0 / window.sum()) ** 2  # |X|^2 -> squared amplitude of a sine
    total = max(1, round(duration_s * sr))
    column = max(hop, math.ceil(total / max_columns / hop) * hop)  # whole STFT hops per column
    n_columns = max(1, math.ceil(total / column))
    power = np.zeros((n_columns, nfft // 2 + 1), dtype=np.float64)
    count = np.zeros(n_columns, dtype=np.int64)
    carry = np.zeros(0, dtype=np.float32)
    frame0 = 0  # index of the first STFT frame starting in `carry`
    with open_stream(path, sr=sr, channel=channel) as stream:
        for block in stream:
            buf = np.concatenate([carry, block]) if carry.size else block
            n = (len(buf) - nfft) // hop + 1 if len(buf) >= nfft else 0
            if n > 0:
                frames = np.lib.stride_tricks.sliding_window_view(buf, nfft)[: n * hop : hop]
                spec = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2 * scale
                cols = np.minimum(((frame0 + np.arange(n)) * hop) // column, n_columns - 1)
                starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
                power[cols[starts]] += np.add.reduceat(spec, starts, axis=0)
                count[cols[starts]] += np.diff(np.r_[starts, n])
                frame0 += n
                carry = buf[n * hop :]
            else:
                carry = buf
    if not count.any() and carry.size:  # shorter than one window: one zero-padded spectrum
        padded = np.zeros(nfft, dtype=np.float32)
        padded[: carry.size] = carry
        power[0] = np.abs(np.fft.rfft(padded * window)) ** 2 * scale
        count[0] = 1
    mean = power / np.maximum(count, 1)[:, None]
    db = 10.0 * np.log10(np.maximum(mean, _FLOOR))
    db[count == 0] = np.nan  # a column past the last window: left blank, not drawn as silence
    db = db.T.astype(np.float32)
    return Spectrogram(db=db, column_s=column / sr, sample_rate=sr, duration_s=float(duration_s))
