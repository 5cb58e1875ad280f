"""Inputs of the Hu & Loizou composite measures, shared so each is computed once per pair.

Reference: Y. Hu, P. C. Loizou, "Evaluation of objective quality measures for speech
enhancement", IEEE TASLP 16(1), 2008, pp. 229-238, and Loizou's composite.m.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import llr as _llr
from . import pesq as _pesq
from . import segsnr as _segsnr
from . import wss as _wss
from ._analysis import MetricUndefined, PairAnalysis

LOW, HIGH = 1.0, 5.0
"""Composite scores are clamped to the MOS scale [1, 5] (composite.m)."""


def _part(a: PairAnalysis, label: str, fn: Callable[[PairAnalysis], float]) -> float:
    try:
        return float(fn(a))
    except MetricUndefined as e:
        raise MetricUndefined(f"needs {label}, which is undefined: {e}") from e


def pesq(a: PairAnalysis) -> float:
    """Wideband PESQ MOS-LQO (composite.m uses the P.862.2 score at 16 kHz)."""
    return _part(a, "PESQ", _pesq.shared)


def llr(a: PairAnalysis) -> float:
    """LLR without composite.m's per-frame clamp, mean of the lowest 95 % of frames."""
    return _part(a, "LLR", _llr.composite_llr)


def wss(a: PairAnalysis) -> float:
    return _part(a, "WSS", _wss.composite_wss)


def segsnr(a: PairAnalysis) -> float:
    return _part(a, "segSNR", lambda x: float(np.mean(_segsnr.shared_frames(x))))


def clamp(x: float) -> float:
    """x limited to [1, 5]; an infinite LLR (degenerate frames) gives the bound."""
    return float(np.clip(x, LOW, HIGH))
