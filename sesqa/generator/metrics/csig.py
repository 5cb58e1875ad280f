"""CSIG: composite predictor of the signal-distortion rating (SIG, ITU-T P.835).

Reference: Y. Hu, P. C. Loizou, "Evaluation of objective quality measures for speech
enhancement", IEEE TASLP 16(1), 2008; Loizou's composite.m.
"""

from __future__ import annotations

import numpy as np

from . import _composite
from ._analysis import PairAnalysis, evaluate


def from_analysis(a: PairAnalysis) -> float:
    a.require_reference()
    return _composite.clamp(
        3.093 - 1.029 * _composite.llr(a) + 0.603 * _composite.pesq(a) - 0.009 * _composite.wss(a)
    )


def csig(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """CSIG = 3.093 - 1.029 LLR + 0.603 PESQ - 0.009 WSS, clamped to [1, 5] (higher is better).

    Inputs as in composite.m at 16 kHz: wideband PESQ MOS-LQO, LLR without per-frame clamp
    (lowest 95 % of frames), WSS (lowest 95 %). NaN when PESQ is undefined.
    """
    return evaluate("csig", from_analysis, ref, deg, sr)
