"""Weighted spectral slope (WSS) distance.

Reference: D. H. Klatt, "Prediction of perceived phonetic distance from critical-band
spectra: a first step", Proc. ICASSP 1982, pp. 1278-1281; implementation conventions of
P. C. Loizou, "Speech Enhancement: Theory and Practice", 2nd ed., 2013, section 11.1.2 and
comp_wss.m / composite.m (Pellom & Hansen).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._analysis import PROCESSING_SR, PairAnalysis, SparseBank, evaluate, trimmed_mean

K_MAX = 20.0
"""Klatt's weight constant for the distance to the frame's global peak (p. 1280)."""

K_LOCMAX = 1.0
"""Klatt's weight constant for the distance to the nearest local peak (p. 1280)."""

KEEP = 0.95
"""Share of lowest-distortion frames averaged (the worst 5 % are dropped)."""

FLOOR_DB = -100.0
"""Band energies are floored at 1e-10 (composite.m)."""

# 25 critical bands: centre frequency and bandwidth in Hz (Klatt 1982, as tabulated by Loizou).
CENTRE_HZ = (
    50.0, 120.0, 190.0, 260.0, 330.0, 400.0, 470.0, 540.0, 617.372, 703.378, 798.717,
    904.128, 1020.38, 1148.30, 1288.72, 1442.54, 1610.70, 1794.16, 1993.93, 2211.08,
    2446.71, 2701.97, 2978.04, 3276.17, 3597.63,
)
BANDWIDTH_HZ = (
    70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 77.3724, 86.0056, 95.3398, 105.411,
    116.256, 127.914, 140.423, 153.823, 168.154, 183.457, 199.776, 217.153, 235.631,
    255.255, 276.072, 298.126, 321.465, 346.136,
)


@lru_cache(maxsize=8)
def critical_filters(sr: int, n_fft: int) -> SparseBank:
    """(25, n_fft // 2) Gaussian critical-band weights over FFT bins 0..n_fft/2 - 1.

    Each filter is exp(-11 ((k - floor(f0)) / bw)^2) in bins, scaled by bw_min / bw so the
    filters have equal area, and set to zero below -30 dB (composite.m).
    """
    half = n_fft // 2
    k = np.arange(half)
    centre = np.floor(np.asarray(CENTRE_HZ) / (sr / 2) * half)
    bw = np.asarray(BANDWIDTH_HZ) / (sr / 2) * half
    norm = np.log(BANDWIDTH_HZ[0]) - np.log(np.asarray(BANDWIDTH_HZ))
    filt = np.exp(-11.0 * ((k[None, :] - centre[:, None]) / bw[:, None]) ** 2 + norm[:, None])
    min_factor = np.exp(-30.0 / (2.0 * 2.303))
    return SparseBank.from_dense(filt * (filt > min_factor))


def band_energies_db(frames: np.ndarray, sr: int) -> np.ndarray:
    """(n, 25) critical-band energies in dB of windowed frames (FFT of 2^nextpow2(2 N) points)."""
    n_fft = 1 << int(np.ceil(np.log2(2 * frames.shape[1])))
    spec = np.abs(np.fft.rfft(frames, n_fft, axis=1)[:, : n_fft // 2]) ** 2
    energy = critical_filters(sr, n_fft).apply(spec)
    return 10.0 * np.log10(np.maximum(energy, 10.0 ** (FLOOR_DB / 10.0)))


def nearest_peaks(energy_db: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """(n, 24) level of the "nearest local peak" of each band, vectorised over frames and bands.

    Follows composite.m exactly: where the slope is rising the search goes right to the first
    non-rising slope m (or the last band) and takes the level of band m - 1, which is one band
    short of the peak; where it is not rising it goes left to the last rising slope m (or the
    start) and takes band m + 1. The off-by-one is kept on purpose: the CSIG/CBAK/COVL
    regressions were fitted on values computed this way.
    """
    nb = slope.shape[1]
    idx = np.arange(nb)
    rising = slope > 0
    first_not_rising = np.where(~rising, idx, nb)
    first_not_rising = np.minimum.accumulate(first_not_rising[:, ::-1], axis=1)[:, ::-1]
    last_rising = np.maximum.accumulate(np.where(rising, idx, -1), axis=1)
    right = np.take_along_axis(energy_db, first_not_rising - 1, axis=1)
    left = np.take_along_axis(energy_db, last_rising + 1, axis=1)
    return np.where(rising, right, left)


def wss_frames(ref_frames: np.ndarray, deg_frames: np.ndarray, sr: int) -> np.ndarray:
    """Per-frame WSS: sum_k W_k (slope_ref_k - slope_deg_k)^2 / sum_k W_k.

    W = (W_ref + W_deg) / 2 with W_x = K_MAX / (K_MAX + max_dB_x - E_x,k) *
    K_LOCMAX / (K_LOCMAX + peak_x,k - E_x,k) for the 24 band-to-band slopes.
    """
    weights = []
    slopes = []
    for fr in (ref_frames, deg_frames):
        e = band_energies_db(fr, sr)
        s = np.diff(e, axis=1)
        peak = nearest_peaks(e, s)
        w_max = K_MAX / (K_MAX + e.max(axis=1, keepdims=True) - e[:, :-1])
        w_loc = K_LOCMAX / (K_LOCMAX + peak - e[:, :-1])
        weights.append(w_max * w_loc)
        slopes.append(s)
    w = 0.5 * (weights[0] + weights[1])
    return np.sum(w * (slopes[0] - slopes[1]) ** 2, axis=1) / np.sum(w, axis=1)


def composite_wss(a: PairAnalysis) -> float:
    """The pair's WSS, computed once (also used by CSIG, CBAK and COVL)."""
    a.require_reference()
    return a.memo(
        "wss", lambda: trimmed_mean(wss_frames(*a.loizou_frames(), PROCESSING_SR), KEEP)
    )


def from_analysis(a: PairAnalysis) -> float:
    return composite_wss(a)


def wss(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """Weighted spectral slope distance (lower is better), >= 0.

    Conventions (comp_wss.m / composite.m): 16 kHz, both signals offset by MATLAB eps,
    30 ms Hann frames every 7.5 ms, 1024-point power spectrum, 25 Gaussian critical bands up
    to 3.6 kHz, band energies in dB floored at -100 dB, Klatt's weights with K_max = 20 and
    K_locmax = 1 (nearest-peak search as in composite.m), per-frame distance normalised by
    the sum of the weights, mean over the lowest 95 % of frames. Identical signals give 0;
    a silent reference gives NaN.
    """
    return evaluate("wss", from_analysis, ref, deg, sr)
