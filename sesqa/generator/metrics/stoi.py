"""Short-time objective intelligibility (STOI), through the `pystoi` package.

Reference: C. H. Taal, R. C. Hendriks, R. Heusdens, J. Jensen, "An algorithm for
intelligibility prediction of time-frequency weighted noisy speech", IEEE TASLP 19(7), 2011.
"""

from __future__ import annotations

import warnings

import numpy as np
from pystoi import stoi as _pystoi

from ._analysis import PROCESSING_SR, MetricUndefined, PairAnalysis, evaluate


def stoi_16k(ref16: np.ndarray, deg16: np.ndarray) -> float:
    """pystoi's STOI of two 16 kHz signals; MetricUndefined where pystoi returns its 1e-5 stand-in.

    pystoi resamples to 10 kHz itself (an Octave-compatible polyphase filter), drops frames
    more than 40 dB below the reference's loudest, and, when fewer than 30 frames are left,
    warns and returns 1e-5 instead of a score: that is turned into "undefined" here, as is
    the exception it raises on signals shorter than one frame.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(_pystoi(ref16, deg16, PROCESSING_SR, extended=False))
        except (ValueError, IndexError) as e:  # signals shorter than one 25.6 ms frame
            raise MetricUndefined(f"stoi: pystoi failed on {len(ref16) / PROCESSING_SR * 1e3:.0f} ms of signal: {e}") from e
    for w in caught:
        if issubclass(w.category, RuntimeWarning) and "Not enough STFT frames" in str(w.message):
            raise MetricUndefined(
                "stoi: fewer than 30 frames (384 ms) of reference speech within 40 dB of its loudest frame"
            )
    if not np.isfinite(value):
        raise MetricUndefined(f"stoi: pystoi returned {value}")
    return value


def from_analysis(a: PairAnalysis) -> float:
    a.require_reference()
    return a.memo("stoi", lambda: stoi_16k(a.ref16, a.deg16))


def stoi(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """STOI (higher is better), in about [0, 1].

    Conventions: both signals resampled to 16 kHz with soxr (shared with PESQ and the Loizou
    measures), then `pystoi.stoi(ref, deg, 16000)` (classic, not extended STOI), which
    resamples to 10 kHz itself. Passing 16 kHz instead of 48 kHz changes the score by < 1e-5
    and halves pystoi's cost. NaN when the reference is silent or has < 384 ms of speech.
    """
    return evaluate("stoi", from_analysis, ref, deg, sr)
