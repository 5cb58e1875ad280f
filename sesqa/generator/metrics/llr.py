"""Log-likelihood ratio (LLR) between the LPC models of reference and degraded frames.

Reference: S. R. Quackenbush, T. P. Barnwell, M. A. Clements, "Objective Measures of Speech
Quality", Prentice Hall, 1988, eq. 2.18; P. C. Loizou, "Speech Enhancement: Theory and
Practice", 2nd ed., 2013, section 11.1.2 and comp_llr.m / composite.m.
"""

from __future__ import annotations

import numpy as np

from ._analysis import PROCESSING_SR, PairAnalysis, evaluate, trimmed_mean

FRAME_MAX = 2.0
"""comp_llr.m limits each frame's LLR to [0, 2] (composite.m does not)."""

KEEP = 0.95
"""Share of lowest-distortion frames averaged (the worst 5 % are dropped)."""


def lpc_order(sr: int) -> int:
    """LPC order of comp_llr.m: 10 below 10 kHz, 16 above."""
    return 10 if sr < 10_000 else 16


def autocorrelation(frames: np.ndarray, order: int) -> np.ndarray:
    """(n, order + 1) autocorrelation lags 0..order of each frame (biased, unnormalised)."""
    n = frames.shape[1]
    return np.stack([np.einsum("ij,ij->i", frames[:, : n - k], frames[:, k:]) for k in range(order + 1)], axis=1)


def levinson(r: np.ndarray) -> np.ndarray:
    """Levinson-Durbin recursion for many frames at once.

    r: (n, p + 1) autocorrelations. Returns (n, p + 1) inverse-filter coefficients
    A = [1, a_1, ..., a_p] (A(z) = 1 + sum a_k z^-k) minimising the prediction error A R A^T.
    The loop runs over the order p only; every step is vectorised over frames. A frame whose
    prediction error reaches zero (a perfectly predictable or all-zero frame) yields NaN.
    """
    n, p1 = r.shape
    a = np.zeros((n, p1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(1, p1):
            acc = np.einsum("ij,ij->i", a[:, :i], r[:, i:0:-1])
            k = -acc / err
            a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1 : 0 : -1]
            a[:, i] = k
            err = err * (1.0 - k * k)
    return a


def quadratic_toeplitz(a: np.ndarray, r: np.ndarray) -> np.ndarray:
    """a T(r) a^T per frame, T(r) the symmetric Toeplitz matrix of lags r."""
    p1 = r.shape[1]
    idx = np.abs(np.arange(p1)[:, None] - np.arange(p1)[None, :])
    return np.einsum("ni,nij,nj->n", a, r[:, idx], a)


def llr_frames(ref_frames: np.ndarray, deg_frames: np.ndarray, order: int) -> np.ndarray:
    """Per-frame log(A_deg R_ref A_deg^T / A_ref R_ref A_ref^T), unclamped above.

    The ratio is >= 1 in exact arithmetic (A_ref minimises the quadratic form), so values
    are floored at 0 to drop round-off; a frame whose ratio is not finite (ill-conditioned
    LPC, e.g. digital silence) is +inf, which the clamp or the 5 % trimming then handles.
    """
    r_ref = autocorrelation(ref_frames, order)
    r_deg = autocorrelation(deg_frames, order)
    a_ref = levinson(r_ref)
    a_deg = levinson(r_deg)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = quadratic_toeplitz(a_deg, r_ref) / quadratic_toeplitz(a_ref, r_ref)
        d = np.log(np.maximum(ratio, 1.0))
    d[~np.isfinite(ratio)] = np.inf
    return d


def shared_frames(a: PairAnalysis) -> np.ndarray:
    """The pair's per-frame (unclamped) LLR, computed once (also used by CSIG and COVL)."""
    a.require_reference()
    return a.memo("llr_frames", lambda: llr_frames(*a.loizou_frames(), lpc_order(PROCESSING_SR)))


def composite_llr(a: PairAnalysis) -> float:
    """LLR as composite.m feeds it to CSIG/COVL: no per-frame clamp, mean of the lowest 95 %."""
    return a.memo("llr_composite", lambda: trimmed_mean(shared_frames(a), KEEP))


def from_analysis(a: PairAnalysis) -> float:
    return trimmed_mean(np.minimum(shared_frames(a), FRAME_MAX), KEEP)


def llr(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """Log-likelihood ratio (lower is better), in [0, 2].

    Conventions (comp_llr.m): 16 kHz, both signals offset by MATLAB eps, 30 ms Hann frames
    every 7.5 ms, LPC order 16 by the autocorrelation method (Levinson-Durbin), per-frame
    LLR = log(A_d R_r A_d^T / A_r R_r A_r^T) clamped to [0, 2], mean over the lowest 95 % of
    frames. Identical signals give 0; a silent reference gives NaN.
    """
    return evaluate("llr", from_analysis, ref, deg, sr)
