"""Shared intermediate results of one (reference, degraded) pair, each computed at most once.

Several measures reuse the same intermediates: PESQ, STOI, segSNR, LLR and WSS all work on the
pair resampled to 16 kHz; CSIG/CBAK/COVL reuse PESQ, LLR, WSS and segSNR; MCD and the log-mel
distortion share one mel spectrogram. `PairAnalysis` memoises each intermediate (or the reason
it is undefined) so that `compute` pays for each exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from sesqa.audio import resample

log = logging.getLogger(__name__)

T = TypeVar("T")

PROCESSING_SR = 16_000
"""Rate of PESQ (wideband), STOI and the Loizou measures (segSNR, LLR, WSS, composites)."""

SILENCE_PEAK = 1e-6
"""A signal whose peak magnitude is at most this (-120 dBFS) counts as silent."""

MIN_SR = 8_000
"""Lowest accepted input rate."""

LOIZOU_FRAME_S = 0.030
"""Frame length of segSNR, LLR and WSS (Loizou, composite.m: 30 ms)."""

EPS = float(np.finfo(np.float64).eps)
"""MATLAB's `eps`, added to both signals and to the segSNR ratio as composite.m does."""


class MetricUndefined(Exception):
    """A measure has no value on this pair; the message says why."""


def validate_pair(ref: np.ndarray, deg: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Check a pair and return it as float64 copies; ValueError names the bad parameter."""
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < MIN_SR:
        raise ValueError(f"sr must be an integer >= {MIN_SR} Hz, got {sr!r}")
    arrays = []
    for name, x in (("ref", ref), ("deg", deg)):
        a = np.asarray(x)
        if a.ndim != 1:
            raise ValueError(f"{name} must be a 1-D (mono) array, got shape {a.shape}")
        if a.size == 0:
            raise ValueError(f"{name} must not be empty")
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(f"{name} must be floating point in [-1, 1] (scale integer PCM first), got dtype {a.dtype}")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite, it holds NaN or infinite samples")
        arrays.append(a)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"deg must have the length of ref ({arrays[0].size} samples), got {arrays[1].size}")
    return arrays[0], arrays[1]


def is_silent(x: np.ndarray) -> bool:
    """True when the peak magnitude is at most SILENCE_PEAK."""
    return float(np.max(np.abs(x))) <= SILENCE_PEAK


def trimmed_mean(values: np.ndarray, keep: float = 0.95) -> float:
    """Mean of the lowest `keep` share of values (MATLAB `round`), as in composite.m."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = int(np.floor(len(v) * keep + 0.5))
    if n < 1:
        raise MetricUndefined(f"no frame left after keeping the lowest {keep:.0%} of {len(v)}")
    return float(np.mean(v[:n]))


def loizou_framing(n_samples: int, sr: int) -> tuple[int, int, int]:
    """(frame length, hop, frame count) of composite.m: 30 ms frames, hop = frame // 4.

    The count is MATLAB's `floor(len/skip - win/skip)`, one fewer than would fit when the
    signal length minus the window is a multiple of the hop.
    """
    win = round(LOIZOU_FRAME_S * sr)
    hop = win // 4
    count = int(np.floor(n_samples / hop - win / hop)) if n_samples >= win else 0
    return win, hop, count


def hann_loizou(win: int) -> np.ndarray:
    """composite.m's window 0.5 (1 - cos(2 pi k / (win + 1))), k = 1..win (no zero end points)."""
    k = np.arange(1, win + 1)
    return 0.5 * (1.0 - np.cos(2.0 * np.pi * k / (win + 1)))


def frames(x: np.ndarray, win: int, hop: int, count: int, window: np.ndarray | None = None) -> np.ndarray:
    """(count, win) frames of x starting every hop samples, optionally windowed (a copy)."""
    view = np.lib.stride_tricks.sliding_window_view(x, win)[::hop][:count]
    return view * window if window is not None else view.copy()


class PairAnalysis:
    """A validated pair and its lazily computed, memoised intermediates."""

    def __init__(self, ref: np.ndarray, deg: np.ndarray, sr: int):
        self.ref, self.deg = validate_pair(ref, deg, sr)
        self.sr = int(sr)
        self._memo: dict[str, tuple[bool, Any]] = {}

    def memo(self, key: str, fn: Callable[[], T]) -> T:
        """fn() computed once; a MetricUndefined it raises is remembered and raised again."""
        if key not in self._memo:
            try:
                self._memo[key] = (True, fn())
            except MetricUndefined as e:
                self._memo[key] = (False, e)
        ok, value = self._memo[key]
        if not ok:
            raise MetricUndefined(str(value))
        return value

    def require_reference(self) -> None:
        """Raise MetricUndefined when the reference is silent: no measure is defined then."""
        if self.memo("ref_silent", lambda: is_silent(self.ref)):
            raise MetricUndefined(f"reference is silent (peak <= {SILENCE_PEAK:g})")

    def deg_silent(self) -> bool:
        return self.memo("deg_silent", lambda: is_silent(self.deg))

    @property
    def ref16(self) -> np.ndarray:
        """Reference at PROCESSING_SR (soxr VHQ), float64."""
        return self.memo("ref16", lambda: self._at16(self.ref))

    @property
    def deg16(self) -> np.ndarray:
        """Degraded at PROCESSING_SR (soxr VHQ), float64."""
        return self.memo("deg16", lambda: self._at16(self.deg))

    def _at16(self, x: np.ndarray) -> np.ndarray:
        return resample(x.astype(np.float32), self.sr, PROCESSING_SR).astype(np.float64)

    def loizou_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """Hann-windowed 30 ms / 7.5 ms-hop frames of ref16 + eps and deg16 + eps (composite.m)."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            win, hop, count = loizou_framing(len(self.ref16), PROCESSING_SR)
            if count < 1:
                raise MetricUndefined(
                    f"signal of {len(self.ref16) / PROCESSING_SR * 1e3:.1f} ms is shorter than one "
                    f"{LOIZOU_FRAME_S * 1e3:.0f} ms frame"
                )
            w = hann_loizou(win)
            return frames(self.ref16 + EPS, win, hop, count, w), frames(self.deg16 + EPS, win, hop, count, w)

        return self.memo("loizou_frames", make)


@dataclass(frozen=True)
class SparseBank:
    """A filterbank matrix stored by its non-zero weights, applied without BLAS.

    A dense `spec @ bank.T` goes through OpenBLAS, whose worker threads, on a machine already
    busy with other processes, can cost far more than the product itself; the banks here are
    over 90 % zeros, so a gather and `np.add.reduceat` are both cheaper and single-threaded.
    """

    columns: np.ndarray
    """Bin index of each non-zero weight, band after band."""
    weights: np.ndarray
    starts: np.ndarray
    """Offset of each band's first weight in `columns`."""

    @classmethod
    def from_dense(cls, bank: np.ndarray) -> SparseBank:
        rows, cols = np.nonzero(bank)
        counts = np.bincount(rows, minlength=bank.shape[0])
        if np.any(counts == 0):
            raise ValueError(f"bank: band(s) {np.flatnonzero(counts == 0).tolist()} have no non-zero weight")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        weights = bank[rows, cols]
        for a in (cols, weights, starts):
            a.setflags(write=False)
        return cls(cols, weights, starts)

    def apply(self, spec: np.ndarray) -> np.ndarray:
        """(frames, bins) -> (frames, bands): the same as spec @ bank.T."""
        return np.add.reduceat(spec[:, self.columns] * self.weights, self.starts, axis=1)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two 1-D arrays without BLAS (see SparseBank for why)."""
    return float(np.einsum("i,i->", a, b))


def evaluate(name: str, from_analysis: Callable[[PairAnalysis], float], ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """One measure on one pair; NaN (reason logged at DEBUG) when it is undefined."""
    analysis = PairAnalysis(ref, deg, sr)
    try:
        return float(from_analysis(analysis))
    except MetricUndefined as e:
        log.debug("%s undefined: %s", name, e)
        return float("nan")
