"""STFT / ISTFT pair with 50 % overlap shared by the spectral degradations (paper C.25-30).

A periodic Hann analysis window with hop = window / 2 and its canonical dual as synthesis
window, so `istft(stft(x), n) == x` up to float32 rounding and `stft(istft(Z))` is the
least-squares projection onto consistent spectrograms (what Griffin-Lim relies on).
Frames are centred at multiples of the hop, as in `scipy.signal.ShortTimeFFT`, which computes
the same transform (the tests check this) but slices frame by frame in Python; this version
frames with one strided view and one batched real FFT in single precision, about 10x faster,
which Griffin-Lim's repeated transforms need.

`RandomSpectralEdit` holds the params and sampling shared by the edits whose main parameter is
a percentage of bins or frames changed at random (phase randomisation, phase shuffle,
spectrogram holes and noise).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft as sp_fft
from scipy.signal.windows import hann

from ._int_checks import check_int
from .base import Degradation, SamplingContext, check_range, lerp, new_seed

MIN_WINDOW = 256
MAX_WINDOW = 4096
"""Range of the random window lengths in samples (5.3 .. 85 ms at 48 kHz)."""


@lru_cache(maxsize=64)
def _windows(win_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(analysis, synthesis) windows; the synthesis one is the dual for hop = win_len / 2."""
    hop = win_len // 2
    w = hann(win_len, sym=False)
    overlap = w[:hop] ** 2 + w[hop:] ** 2
    dual = w / np.tile(overlap, 2)
    w32, dual32 = w.astype(np.float32), dual.astype(np.float32)
    w32.flags.writeable = False
    dual32.flags.writeable = False
    return w32, dual32


def check_window(win_len: int) -> None:
    """Validate an STFT window length: an even integer within the usable range."""
    check_int("win_len", win_len, 16, 16_384)
    if win_len % 2:
        raise ValueError(f"win_len must be even (hop is half of it), got {win_len!r}")


def sample_window(rng: np.random.Generator, low: int = MIN_WINDOW, high: int = MAX_WINDOW) -> int:
    """A log-uniform even window length in [low, high] whose half is FFT-friendly (5-smooth)."""
    target = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return min(high, 2 * sp_fft.next_fast_len(int(round(target / 2)), real=True))


def n_frames(n: int, win_len: int) -> int:
    """Number of STFT frames `stft` returns for n samples."""
    return -(-n // (win_len // 2)) + 1


def stft(x: np.ndarray, win_len: int) -> np.ndarray:
    """Complex64 STFT, shape (frames, win_len // 2 + 1); frame k is centred at sample k * hop."""
    hop = win_len // 2
    x = np.asarray(x, dtype=np.float32)
    m = n_frames(len(x), win_len)
    padded = np.zeros((m + 1) * hop, dtype=np.float32)
    padded[hop : hop + len(x)] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, win_len)[::hop]
    return sp_fft.rfft(frames * _windows(win_len)[0], axis=-1)


def istft(z: np.ndarray, win_len: int, n: int) -> np.ndarray:
    """Inverse of `stft` by dual-window overlap-add; returns exactly n float32 samples."""
    hop = win_len // 2
    frames = sp_fft.irfft(z.astype(np.complex64, copy=False), n=win_len, axis=-1)
    frames *= _windows(win_len)[1]
    out = (frames[1:, :hop] + frames[:-1, hop:]).reshape(-1)
    if len(out) < n:
        raise ValueError(f"{z.shape[0]} frames of {win_len} samples cannot cover {n} samples")
    return np.ascontiguousarray(out[:n], dtype=np.float32)


def rms(x: np.ndarray) -> float:
    """Root mean square in double precision."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def match_level(y: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale y to the RMS of `reference`, so a spectral edit does not also change loudness."""
    target, current = rms(reference), rms(y)
    if current < 1e-12 or target < 1e-12:
        return y.astype(np.float32, copy=False)
    return (y * (target / current)).astype(np.float32)


def with_phase(magnitude: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Complex64 spectrogram from a magnitude and a phase in radians."""
    return (magnitude * np.exp(1j * phase.astype(np.float32))).astype(np.complex64, copy=False)


def dropout_mask(shape: tuple[int, ...], dropout_percent: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the bins that are dropped, each with probability dropout_percent / 100."""
    return rng.random(shape, dtype=np.float32) < np.float32(dropout_percent / 100.0)


class SpectralEditParams:
    """Checks of a frozen Params dataclass with the fields (percentage, win_len, seed).

    The percentage comes first, named after what each edit counts; win_len is the STFT window
    in samples (the hop is half of it); seed drives the edit's randomness.
    """

    def __post_init__(self) -> None:
        percent = dataclasses.fields(self)[0].name
        check_range(percent, getattr(self, percent), 0.0, 100.0)
        check_window(self.win_len)


class RandomSpectralEdit(Degradation):
    """Base of the random STFT edits: strength sets the percentage, then a window and a seed are drawn."""

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Any:
        return cls.Params(
            **{cls.strength_param: lerp(*cls.strength_range, strength)},
            win_len=sample_window(rng),
            seed=new_seed(rng),
        )
