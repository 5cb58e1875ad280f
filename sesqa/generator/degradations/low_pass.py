"""Low-pass: a Butterworth low-pass at a cutoff between 8,000 and 250 Hz (paper C.19)."""

from __future__ import annotations

import numpy as np

from ._filters import PassFilter, butterworth
from .base import register


@register
class LowPass(PassFilter):
    name = "low_pass"
    weight = 0.011
    strength_range = (8000.0, 250.0)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: PassFilter.Params) -> np.ndarray:
        return butterworth(x, sr, params.order, params.cutoff_hz, "lowpass")
