"""Mel power spectrogram of a pair at its own rate, shared by MCD and the log-mel distortion.

Unlike the Loizou measures and PESQ (16 kHz), these two see the full band of the input, so
degradations above 8 kHz (low-pass, codecs, bandwidth loss) move them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._analysis import MetricUndefined, PairAnalysis, SparseBank, frames

WINDOW_S = 0.025
"""Frame length (25 ms, periodic Hann)."""

HOP_S = 0.010
"""Frame hop (10 ms)."""

N_MELS = 80
"""Triangular bands, equally spaced on the HTK mel scale from 0 Hz to sr / 2."""

FLOOR_DB = -80.0
"""Power floor added to each spectrogram, relative to that signal's own loudest band power:
keeps log(0) out of silent bands, makes detail more than 80 dB down count for nothing, and
(being relative) leaves MCD exactly invariant to a gain change."""

ABS_FLOOR = 1e-10
"""Lowest floor, for a silent degraded signal (about -155 dB re a full-scale sine's band power)."""


def hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)


def stft_params(sr: int) -> tuple[int, int, int]:
    """(window, hop, n_fft) in samples: 25 ms, 10 ms, next power of two >= window."""
    win = round(WINDOW_S * sr)
    hop = round(HOP_S * sr)
    return win, hop, 1 << int(np.ceil(np.log2(win)))


@lru_cache(maxsize=8)
def mel_filterbank(sr: int, n_fft: int, n_mels: int = N_MELS) -> SparseBank:
    """(n_mels, n_fft // 2 + 1) unit-peak triangular filters on the HTK mel scale."""
    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(sr / 2.0), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lo) / (mid - lo)
    falling = (hi - freqs[None, :]) / (hi - mid)
    fb = np.maximum(0.0, np.minimum(rising, falling))
    empty = np.flatnonzero(fb.sum(axis=1) == 0)
    if empty.size:  # a band narrower than an FFT bin: give it its nearest bin
        nearest = np.abs(freqs[None, :] - mid[empty]).argmin(axis=1)
        fb[empty, nearest] = 1.0
    return SparseBank.from_dense(fb)


def mel_power(x: np.ndarray, sr: int) -> np.ndarray:
    """(frames, N_MELS) mel power of x (no centring: frames lie inside the signal)."""
    win, hop, n_fft = stft_params(sr)
    count = 1 + (len(x) - win) // hop if len(x) >= win else 0
    if count < 1:
        raise MetricUndefined(f"signal of {len(x) / sr * 1e3:.1f} ms is shorter than one {WINDOW_S * 1e3:.0f} ms frame")
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(win) / win)
    spec = np.abs(np.fft.rfft(frames(x, win, hop, count, window), n_fft, axis=1)) ** 2
    return mel_filterbank(sr, n_fft).apply(spec)


def with_floor(power: np.ndarray) -> np.ndarray:
    """power + max(its maximum * 10^(FLOOR_DB / 10), ABS_FLOOR)."""
    return power + max(float(power.max()) * 10.0 ** (FLOOR_DB / 10.0), ABS_FLOOR)


def floored_mel_power(a: PairAnalysis) -> tuple[np.ndarray, np.ndarray]:
    """Mel power of ref and of deg, each plus its own floor FLOOR_DB below its maximum."""
    a.require_reference()
    return a.memo("mel_power", lambda: (with_floor(mel_power(a.ref, a.sr)), with_floor(mel_power(a.deg, a.sr))))
