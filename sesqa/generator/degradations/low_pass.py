"""Low-pass: a Butterworth low-pass at a cutoff between 8,000 and 250 Hz (paper C.19)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._filters import butterworth
from .base import Degradation, SamplingContext, check_range, lerp, register

ORDERS = (2, 6)
"""Random filter order range (12 .. 36 dB/octave)."""


@register
class LowPass(Degradation):
    name = "low_pass"
    weight = 0.011
    strength_param = "cutoff_hz"
    strength_range = (8000.0, 250.0)

    @dataclass(frozen=True)
    class Params:
        cutoff_hz: float
        """-3 dB frequency."""
        order: int
        """Butterworth order; the roll-off above the cutoff is 6 dB/octave per order."""

        def __post_init__(self) -> None:
            check_range("cutoff_hz", self.cutoff_hz, 10.0, 20_000.0)
            check_range("order", self.order, 1, 10)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            cutoff_hz=lerp(*cls.strength_range, strength),
            order=int(rng.integers(ORDERS[0], ORDERS[1] + 1)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        return butterworth(x, sr, params.order, params.cutoff_hz, "lowpass")
