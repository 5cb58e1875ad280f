"""BS.1770's K-weighting filter, streamed, with numpy alone.

Two biquads in cascade (ITU-R BS.1770-4, derived for any sample rate with the RBJ "Audio EQ
Cookbook" formulas, as pyloudnorm derives them): a +4 dB high shelf at 1.5 kHz (Q 1/sqrt 2), the
head's acoustic effect, then the RLB high-pass at 38 Hz (Q 0.5).

The cascade is applied as its impulse response, convolved by FFT in blocks a few responses long
with each block's tail added to the next (overlap-add, carried across chunks too), instead of
scipy.signal.lfilter: importing scipy.signal took 1.1 s of a 1.8 s `sesqa score` start-up. The response is computed from the filter's
frequency response on a 2^18-point grid and cut after its last sample above 1e-12 of its
peak, so the output equals the recursive filter's to float rounding (checked
against pyloudnorm's loudness in tests/test_level.py).
"""

from __future__ import annotations

import functools
import math

import numpy as np

SHELF_GAIN_DB, SHELF_Q, SHELF_HZ = 4.0, 1 / math.sqrt(2), 1500.0
HIGH_PASS_Q, HIGH_PASS_HZ = 0.5, 38.0
_GRID = 1 << 18
_TAIL = 1e-12


def _high_shelf(gain_db: float, q: float, f_hz: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    a = 10 ** (gain_db / 40)
    w = 2 * math.pi * f_hz / sr
    cos_w, root = math.cos(w), math.sqrt(a) * math.sin(w) / q  # root: the cookbook's 2 sqrt(A) alpha
    b = np.array([a * ((a + 1) + (a - 1) * cos_w + root), -2 * a * ((a - 1) + (a + 1) * cos_w), a * ((a + 1) + (a - 1) * cos_w - root)])
    den = np.array([(a + 1) - (a - 1) * cos_w + root, 2 * ((a - 1) - (a + 1) * cos_w), (a + 1) - (a - 1) * cos_w - root])
    return b / den[0], den / den[0]


def _high_pass(q: float, f_hz: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    w = 2 * math.pi * f_hz / sr
    alpha, cos_w = math.sin(w) / (2 * q), math.cos(w)
    b = np.array([(1 + cos_w) / 2, -(1 + cos_w), (1 + cos_w) / 2])
    den = np.array([1 + alpha, -2 * cos_w, 1 - alpha])
    return b / den[0], den / den[0]


@functools.lru_cache(maxsize=8)
def impulse_response(sr: int) -> np.ndarray:
    """The K-weighting cascade's impulse response at `sr`, cut where its tail no longer counts."""
    z = np.exp(-1j * np.linspace(0.0, math.pi, _GRID // 2 + 1))  # e^{-jw} on the rfft grid
    response = np.ones_like(z)
    for b, a in (_high_shelf(SHELF_GAIN_DB, SHELF_Q, SHELF_HZ, sr), _high_pass(HIGH_PASS_Q, HIGH_PASS_HZ, sr)):
        response *= np.polyval(b[::-1], z) / np.polyval(a[::-1], z)
    h = np.fft.irfft(response, _GRID)
    above = np.flatnonzero(np.abs(h) > _TAIL * np.abs(h).max())  # the FFT's own noise is ~1e-16
    return h[: int(above[-1]) + 1].copy()


class KWeighting:
    """Feed chunks in order (`filter`); each returns the K-weighted chunk, as one long filter would."""

    def __init__(self, sample_rate: int) -> None:
        self.h = impulse_response(sample_rate)
        self._overlap = np.zeros(len(self.h) - 1)
        self._block_fft = 1 << (4 * len(self.h) - 1).bit_length()
        """FFT size per block: about 4 responses long, where a 10 s chunk runs 4x faster than in one FFT."""
        self._spectra: dict[int, np.ndarray] = {}

    def _spectrum(self, size: int) -> np.ndarray:
        if size not in self._spectra:
            self._spectra[size] = np.fft.rfft(self.h, size)
        return self._spectra[size]

    def filter(self, x: np.ndarray) -> np.ndarray:
        """K-weighted samples of the next chunk (float64, same length)."""
        n, tail = len(x), len(self.h) - 1
        if not n:
            return np.zeros(0)
        size = min(self._block_fft, 1 << (n + tail - 1).bit_length())
        block = size - tail
        blocks = -(-n // block)
        padded = np.zeros(blocks * block)
        padded[:n] = x
        y = np.fft.irfft(np.fft.rfft(padded.reshape(blocks, block), size, axis=1) * self._spectrum(size), size, axis=1)
        full = np.zeros(blocks * block + tail)  # overlap-add: each block's tail runs into the next
        full[: blocks * block] = y[:, :block].ravel()
        if blocks > 1:  # then block > tail: each tail lies within the next block
            full[block : blocks * block].reshape(blocks - 1, block)[:, :tail] += y[:-1, block:]
        full[blocks * block :] += y[-1, block:]
        full[:tail] += self._overlap
        self._overlap = full[n : n + tail].copy()
        return full[:n]


__all__ = ["KWeighting", "impulse_response"]
