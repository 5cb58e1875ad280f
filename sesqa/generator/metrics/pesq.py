"""PESQ, wideband (ITU-T P.862.2 MOS-LQO), through the `pesq` package.

Reference: ITU-T Rec. P.862 (2001) and P.862.2 (2007); implementation: the `pesq` Python
package (ITU-T reference C code). The signals are resampled to 16 kHz with soxr first.
"""

from __future__ import annotations

import numpy as np
from pesq import PesqError
from pesq import pesq as _pesq

from ._analysis import (
    PROCESSING_SR,
    SILENCE_PEAK,
    MetricUndefined,
    PairAnalysis,
    evaluate,
)


def pesq_wb(ref16: np.ndarray, deg16: np.ndarray) -> float:
    """Wideband PESQ of two 16 kHz signals; MetricUndefined with the package's reason on failure."""
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # the package divides by the peak
            return float(_pesq(PROCESSING_SR, ref16, deg16, "wb"))
    except PesqError as e:
        msg = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise MetricUndefined(f"pesq: {type(e).__name__}: {msg}") from e
    except ValueError as e:  # the C code fails this way on some degenerate inputs
        raise MetricUndefined(f"pesq: failed on degenerate input: {e}") from e


def shared(a: PairAnalysis) -> float:
    """The pair's PESQ, computed once (also used by CSIG, CBAK and COVL)."""
    a.require_reference()

    def run() -> float:
        if a.deg_silent():
            raise MetricUndefined(f"degraded is silent (peak <= {SILENCE_PEAK:g}): PESQ has no utterance to compare")
        return pesq_wb(a.ref16, a.deg16)

    return a.memo("pesq", run)


def from_analysis(a: PairAnalysis) -> float:
    return shared(a)


def pesq(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """Wideband PESQ MOS-LQO (higher is better), about [1.04, 4.64].

    Conventions: both signals resampled to 16 kHz (soxr, VHQ) and passed to `pesq.pesq(16000,
    ref, deg, "wb")`, which normalises their level itself. NaN when the reference or the
    degraded signal is silent, when the package finds no utterance (NoUtterancesError) or
    the signal is shorter than 0.25 s (BufferTooShortError).
    """
    return evaluate("pesq", from_analysis, ref, deg, sr)
