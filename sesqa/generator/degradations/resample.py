"""Resampling: down to a 2..32 kHz rate and back up, removing everything above its Nyquist
frequency (paper C.5). The soxr quality is drawn at random: lower ones roll off earlier."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

from ._int_checks import check_int
from .base import Degradation, SamplingContext, check_choice, fit_length, lerp, register

QUALITIES = ("LQ", "MQ", "HQ", "VHQ")
"""soxr recipes with an anti-aliasing filter ("QQ" is cubic interpolation and would alias)."""


@register
class Resample(Degradation):
    name = "resample"
    weight = 0.011
    strength_param = "target_rate_hz"
    strength_range = (32_000, 2_000)

    @dataclass(frozen=True)
    class Params:
        target_rate_hz: int
        quality: str
        """soxr quality recipe, one of QUALITIES."""

        def __post_init__(self) -> None:
            check_int("target_rate_hz", self.target_rate_hz, 1_000, 192_000)
            check_choice("quality", self.quality, QUALITIES)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            target_rate_hz=int(round(lerp(*cls.strength_range, strength))),
            quality=str(rng.choice(QUALITIES)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if params.target_rate_hz == sr:
            return x.copy()
        low = soxr.resample(x, sr, params.target_rate_hz, quality=params.quality)
        return fit_length(soxr.resample(low, params.target_rate_hz, sr, quality=params.quality), len(x))
