"""Log-mel-band distortion: RMS difference of the two log mel spectra, in dB.

Reference: the log-spectral distance (A. H. Gray, J. D. Markel, "Distance measures for
speech processing", IEEE TASSP 24(5), 1976) computed on mel bands instead of FFT bins.
"""

from __future__ import annotations

import numpy as np

from ._analysis import PairAnalysis, evaluate
from ._mel import floored_mel_power


def lmd_frames(ref_power: np.ndarray, deg_power: np.ndarray) -> np.ndarray:
    """Per-frame sqrt(mean_bands (10 log10 P_ref - 10 log10 P_deg)^2)."""
    d = 10.0 * (np.log10(ref_power) - np.log10(deg_power))
    return np.sqrt(np.mean(d * d, axis=1))


def from_analysis(a: PairAnalysis) -> float:
    ref, deg = floored_mel_power(a)
    return float(np.mean(lmd_frames(ref, deg)))


def log_mel_distortion(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """Log-mel-band distortion in dB (lower is better), >= 0.

    Conventions: the mel power spectrogram of MCD (input rate, 25 ms / 10 ms frames, 80 HTK
    mel bands 0..sr/2, each floored 80 dB below its own maximum), per frame the RMS over bands
    of the dB difference, mean over frames. Level differences count (unlike MCD): a gain g
    gives exactly |20 log10 g|.
    Identical signals give 0; a silent reference gives NaN.
    """
    return evaluate("log_mel_distortion", from_analysis, ref, deg, sr)
