"""Chorus: pedalboard's Chorus with a wet mix between 0.15 and 1 (paper C.20).

The output is (1 - mix) * dry + mix * wet, the wet path being an LFO-modulated delay of
`centre_delay_ms`; at mix 1 only the modulated copy remains (a vibrato). Rate, depth, centre
delay and feedback are randomised around classic chorus settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pedalboard import Chorus as ChorusPlugin

from ._pedalboard import process_mono
from .base import Degradation, SamplingContext, check_range, lerp, register

RATE_HZ = (0.3, 3.0)
DEPTH = (0.1, 0.6)
CENTRE_DELAY_MS = (5.0, 20.0)
FEEDBACK = (0.0, 0.4)


@register
class Chorus(Degradation):
    name = "chorus"
    weight = 0.011
    strength_param = "mix"
    strength_range = (0.15, 1.0)

    @dataclass(frozen=True)
    class Params:
        mix: float
        """Linear gain of the wet (modulated) path; the dry path gets 1 - mix."""
        rate_hz: float
        """LFO rate."""
        depth: float
        """LFO depth, 0 .. 1 of the modulation range."""
        centre_delay_ms: float
        feedback: float

        def __post_init__(self) -> None:
            check_range("mix", self.mix, 0.0, 1.0)
            check_range("rate_hz", self.rate_hz, 0.01, 20.0)
            check_range("depth", self.depth, 0.0, 1.0)
            check_range("centre_delay_ms", self.centre_delay_ms, 1.0, 50.0)
            check_range("feedback", self.feedback, 0.0, 0.95)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            mix=lerp(*cls.strength_range, strength),
            rate_hz=float(rng.uniform(*RATE_HZ)),
            depth=float(rng.uniform(*DEPTH)),
            centre_delay_ms=float(rng.uniform(*CENTRE_DELAY_MS)),
            feedback=float(rng.uniform(*FEEDBACK)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        plugin = ChorusPlugin(
            rate_hz=params.rate_hz,
            depth=params.depth,
            centre_delay_ms=params.centre_delay_ms,
            feedback=params.feedback,
            mix=params.mix,
        )
        return process_mono(x, sr, [plugin])
