"""COVL: composite predictor of the overall-quality rating (OVRL, ITU-T P.835).

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
        1.594 + 0.805 * _composite.pesq(a) - 0.512 * _composite.llr(a) - 0.007 * _composite.wss(a)
    )


def covl(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """COVL = 1.594 + 0.805 PESQ - 0.512 LLR - 0.007 WSS, clamped to [1, 5] (higher is better).

    Inputs as in composite.m at 16 kHz: wideband PESQ MOS-LQO, LLR without per-frame clamp
    (lowest 95 % of frames), WSS (lowest 95 %). NaN when PESQ is undefined.
    """
    return evaluate("covl", from_analysis, ref, deg, sr)
