"""Mixing an interfering signal into a region of the frame at a given SNR (paper C.1-4)."""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def signal_power(x: np.ndarray) -> float:
    """Mean power of the clean frame, the reference of every SNR in this family."""
    return float(np.mean(np.square(x, dtype=np.float64)))


def add_at_snr(x: np.ndarray, interference: np.ndarray, snr_db: float, start: int, stop: int) -> np.ndarray:
    """Add `interference` (length stop - start) to x[start:stop] so that
    10 log10(P_x / P_interference) = snr_db, with P_x the mean power of the whole frame.

    The whole frame is the reference so that a partial noise burst over a pause is as loud as
    one over speech, which is how a listener hears a background event.
    """
    y = np.array(x, dtype=np.float32, copy=True)
    p_noise = float(np.mean(np.square(interference, dtype=np.float64)))
    if p_noise <= _EPS:
        return y
    gain = np.sqrt(max(signal_power(x), _EPS) / (p_noise * 10.0 ** (snr_db / 10.0)))
    y[start:stop] += (gain * interference).astype(np.float32)
    return y
