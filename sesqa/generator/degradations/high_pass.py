"""High-pass: a Butterworth high-pass at a cutoff between 150 and 4,000 Hz (paper C.18)."""

from __future__ import annotations

import numpy as np

from ._filters import PassFilter, butterworth
from .base import register


@register
class HighPass(PassFilter):
    name = "high_pass"
    weight = 0.011
    strength_range = (150.0, 4000.0)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: PassFilter.Params) -> np.ndarray:
        return butterworth(x, sr, params.order, params.cutoff_hz, "highpass")
