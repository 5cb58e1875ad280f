"""Mains hum: a 50 or 60 Hz (+-1 Hz) sine, sawtooth or square tone (paper C.3)."""

from __future__ import annotations

import numpy as np

from ._tone import ToneInterference
from .base import register


@register
class Hum(ToneInterference):
    name = "hum"
    weight = 0.035

    @classmethod
    def sample_frequency_hz(cls, rng: np.random.Generator) -> float:
        return float(rng.choice([50.0, 60.0])) + float(rng.uniform(-1.0, 1.0))
