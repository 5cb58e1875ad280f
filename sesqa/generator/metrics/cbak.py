"""CBAK: composite predictor of the background-intrusiveness rating (BAK, ITU-T P.835).

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
        1.634 + 0.478 * _composite.pesq(a) - 0.007 * _composite.wss(a) + 0.063 * _composite.segsnr(a)
    )


def cbak(ref: np.ndarray, deg: np.ndarray, sr: int) -> float:
    """CBAK = 1.634 + 0.478 PESQ - 0.007 WSS + 0.063 segSNR, clamped to [1, 5] (higher is better).

    Inputs as in composite.m at 16 kHz: wideband PESQ MOS-LQO, WSS (lowest 95 % of frames),
    segSNR clamped per frame to [-10, 35] dB. NaN when PESQ is undefined.
    """
    return evaluate("cbak", from_analysis, ref, deg, sr)
