"""Mel-cepstral distortion (MCD), in dB.

Reference: R. F. Kubichek, "Mel-cepstral distance measure for objective speech quality
assessment", Proc. IEEE PACRIM 1993, pp. 125-128 (the (10 / ln 10) sqrt(2 sum) form used in
speech synthesis evaluation).
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dct

from ._analysis import PairAnalysis, evaluate
from ._mel import floored_mel_power

ORDER = 24
"""Cepstral coefficients c_1..c_24 compared; c_0 (overall level) is left out."""

SCALE = 10.0 / np.log(10.0)


def mel_cepstrum(power: np.ndarray, order: int = ORDER) -> np.ndarray:
    """(frames, order + 1) cepstrum c_0..c_order of the log mel amplitude.

    c = DCT-II(ln sqrt(P)) / (2 N): then ln|X|_n = c_0 + 2 sum_k c_k cos(pi k (2n + 1) / 2N),
    the cosine-series convention under which MCD's factor sqrt(2 sum ...) is derived.
    """
    log_amp = 0.5 * np.log(power)
    return dct(log_amp, type=2, axis=1)[:, : order + 1] / (2.0 * power.shape[1])


def mcd_frames(ref_power: np.ndarray, deg_power: np.ndarray, order: int = ORDER) -> np.ndarray:
    """Per-frame (10 / ln 10) sqrt(2 sum_{k=1..order} (c_k - c'_k)^2)."""
    diff = mel_cepstrum(ref_power, order)[:, 1:] - mel_cepstrum(deg_power, order)[:, 1:]
    return SCALE * np.sqrt(2.0 * np.sum(diff * diff, axis=1))


def from_analysis(a: PairAnalysis) -> float:
    ref, deg = floored_mel_power(a)
    return float(np.mean(mcd_frames(ref, deg)))


def mcd(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """Mel-cepstral distortion in dB (lower is better), >= 0.

    Conventions: at the input rate (full band), 25 ms periodic-Hann frames every 10 ms,
    80 HTK-mel bands 0..sr/2, each power spectrogram floored 80 dB below its own maximum,
    cepstrum of the natural-log mel amplitude (DCT-II / 2N), coefficients 1..24 (level c_0
    excluded: with the relative floors a pure gain change costs exactly nothing), mean over
    all frames, frames aligned as
    given (no DTW). Identical signals give 0; a silent reference gives NaN.
    """
    return evaluate("mcd", from_analysis, ref, deg, sr)
