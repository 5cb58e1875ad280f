"""Time reversal of the whole frame (paper C.8); it has no strength."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Degradation, SamplingContext, register


@register
class Reverse(Degradation):
    name = "reverse"
    weight = 0.05
    strength_param = "none"
    strength_range = (0, 0)
    has_strength = False

    @dataclass(frozen=True)
    class Params:
        """Reversal has nothing to choose."""

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params()

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        return np.asarray(x, dtype=np.float32)[::-1].copy()
