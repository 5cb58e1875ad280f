"""Scale-invariant signal-to-distortion ratio (SI-SDR).

Reference: J. Le Roux, S. Wisdom, H. Erdogan, J. R. Hershey, "SDR - half-baked or well
done?", Proc. ICASSP 2019, eq. (1)-(2).
"""

from __future__ import annotations

import numpy as np

from ._analysis import SILENCE_PEAK, MetricUndefined, PairAnalysis, dot, evaluate

MIN_DB = -50.0
MAX_DB = 60.0
"""SI-SDR is clamped to [MIN_DB, MAX_DB]. Above 60 dB the difference is inaudible, and a
gain-only chain (deg = a ref, SI-SDR = +inf in exact arithmetic) would otherwise give
round-off-dependent outliers to the normalisation statistics. Below about -47 dB (for 1 s at
48 kHz) the two signals are as unrelated as two independent noises."""


def si_sdr_value(ref: np.ndarray, deg: np.ndarray) -> float:
    """10 log10(|alpha s|^2 / |alpha s - s_hat|^2), alpha = <s_hat, s> / |s|^2, unclamped.

    No mean removal (the paper's definition); +inf when deg is exactly a multiple of ref.
    """
    alpha = dot(deg, ref) / dot(ref, ref)
    target = alpha * ref
    error = deg - target
    t, e = dot(target, target), dot(error, error)
    if e == 0.0:
        return float("inf")
    if t == 0.0:
        return float("-inf")
    return 10.0 * np.log10(t / e)


def from_analysis(a: PairAnalysis) -> float:
    a.require_reference()
    if a.deg_silent():
        raise MetricUndefined(f"degraded is silent (peak <= {SILENCE_PEAK:g}): SI-SDR is 0/0")
    return float(np.clip(si_sdr_value(a.ref, a.deg), MIN_DB, MAX_DB))


def si_sdr(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """SI-SDR in dB (higher is better), clamped to [-50, 60].

    Conventions: computed at the input rate over the whole signal (full band), no mean
    removal, the optimal scaling alpha applied to the reference (Le Roux et al. 2019).
    NaN when the reference or the degraded signal is silent.
    """
    return evaluate("si_sdr", from_analysis, ref, deg, sr)
