"""Phaser: pedalboard's 6-stage Phaser with a wet mix between 0.1 and 1 (paper C.22).

The output is (1 - mix) * dry + mix * wet, the wet path being a chain of LFO-swept all-pass
filters; mixing it with the dry signal carves moving notches into the spectrum. Rate, depth,
centre frequency and feedback are randomised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pedalboard import Phaser as PhaserPlugin

from ._pedalboard import process_mono
from .base import Degradation, SamplingContext, check_range, lerp, register

RATE_HZ = (0.2, 3.0)
DEPTH = (0.3, 1.0)
CENTRE_FREQUENCY_HZ = (300.0, 3000.0)
FEEDBACK = (0.0, 0.7)


@register
class Phaser(Degradation):
    name = "phaser"
    weight = 0.011
    strength_param = "mix"
    strength_range = (0.1, 1.0)

    @dataclass(frozen=True)
    class Params:
        mix: float
        """Linear gain of the wet (all-pass) path; the dry path gets 1 - mix."""
        rate_hz: float
        """LFO rate."""
        depth: float
        """LFO sweep depth, 0 .. 1."""
        centre_frequency_hz: float
        """Centre of the all-pass sweep."""
        feedback: float

        def __post_init__(self) -> None:
            check_range("mix", self.mix, 0.0, 1.0)
            check_range("rate_hz", self.rate_hz, 0.01, 20.0)
            check_range("depth", self.depth, 0.0, 1.0)
            check_range("centre_frequency_hz", self.centre_frequency_hz, 20.0, 16_000.0)
            check_range("feedback", self.feedback, -0.95, 0.95)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            mix=lerp(*cls.strength_range, strength),
            rate_hz=float(rng.uniform(*RATE_HZ)),
            depth=float(rng.uniform(*DEPTH)),
            centre_frequency_hz=float(rng.uniform(*CENTRE_FREQUENCY_HZ)),
            feedback=float(rng.uniform(*FEEDBACK)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        plugin = PhaserPlugin(
            rate_hz=params.rate_hz,
            depth=params.depth,
            centre_frequency_hz=params.centre_frequency_hz,
            feedback=params.feedback,
            mix=params.mix,
        )
        return process_mono(x, sr, [plugin])
