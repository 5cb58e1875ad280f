"""Segmental SNR (dB), as in Loizou's composite.m / comp_snr.m.

Reference: P. C. Loizou, "Speech Enhancement: Theory and Practice", 2nd ed., CRC Press, 2013,
section 11.1.1 and its MATLAB code; Hansen & Pellom, "An effective quality evaluation protocol
for speech enhancement algorithms", ICSLP 1998.
"""

from __future__ import annotations

import numpy as np

from ._analysis import EPS, PairAnalysis, evaluate

MIN_DB = -10.0
MAX_DB = 35.0


def segsnr_frames(ref_frames: np.ndarray, deg_frames: np.ndarray) -> np.ndarray:
    """Per-frame SNR 10 log10(E_ref / (E_err + eps) + eps), clamped to [MIN_DB, MAX_DB].

    One deliberate departure from composite.m: a frame with no error at all (E_err == 0)
    scores MAX_DB. composite.m gives such a frame MIN_DB when the reference frame is digital
    silence (E_ref ~ 1e-30 after its eps offset, so E_ref / eps << 1), which would make a
    pair that is identical wherever the reference is silent look worse than a noisy one.
    Every frame with any error is computed exactly as composite.m does.
    """
    signal = np.einsum("ij,ij->i", ref_frames, ref_frames)
    diff = ref_frames - deg_frames
    noise = np.einsum("ij,ij->i", diff, diff)
    snr = 10.0 * np.log10(signal / (noise + EPS) + EPS)
    snr[noise == 0.0] = MAX_DB
    return np.clip(snr, MIN_DB, MAX_DB)


def shared_frames(a: PairAnalysis) -> np.ndarray:
    """The pair's per-frame segSNR, computed once (also used by CBAK)."""
    a.require_reference()
    return a.memo("segsnr_frames", lambda: segsnr_frames(*a.loizou_frames()))


def from_analysis(a: PairAnalysis) -> float:
    return float(np.mean(shared_frames(a)))


def segsnr(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """Segmental SNR in dB (higher is better), in [-10, 35].

    Conventions (composite.m): both signals resampled to 16 kHz and offset by MATLAB eps,
    30 ms Hann frames (w[k] = 0.5 (1 - cos(2 pi k/(N+1))), k = 1..N) every 7.5 ms, no
    silence removal, each frame's SNR clamped to [-10, 35] dB (a frame with no error at all
    is 35 even where the reference is digital silence, see `segsnr_frames`), then the plain
    mean. Identical signals give 35; a silent reference gives NaN.
    """
    return evaluate("segsnr", from_analysis, ref, deg, sr)
