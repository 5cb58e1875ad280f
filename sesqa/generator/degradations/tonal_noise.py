"""Tonal noise: a sine, sawtooth or square tone between 20 Hz and 12 kHz (paper C.4)."""

from __future__ import annotations

import numpy as np

from ._tone import ToneInterference
from .base import register


@register
class TonalNoise(ToneInterference):
    name = "tonal_noise"
    weight = 0.011

    @classmethod
    def sample_frequency_hz(cls, rng: np.random.Generator) -> float:
        # Log-uniform, so each octave of the range is equally likely.
        return float(np.exp(rng.uniform(np.log(20.0), np.log(12_000.0))))
