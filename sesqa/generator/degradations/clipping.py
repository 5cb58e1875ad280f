"""Clipping: a share of the samples is clipped at a symmetric threshold (paper C.7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Degradation, SamplingContext, check_range, lerp, register


@register
class Clipping(Degradation):
    name = "clipping"
    weight = 0.011
    strength_param = "clipped_percent"
    strength_range = (0.5, 99.0)

    @dataclass(frozen=True)
    class Params:
        clipped_percent: float
        """Share of samples whose magnitude reaches the threshold, in percent."""

        def __post_init__(self) -> None:
            check_range("clipped_percent", self.clipped_percent, 0.0, 100.0)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(clipped_percent=lerp(*cls.strength_range, strength))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        threshold = float(np.quantile(np.abs(x), 1.0 - params.clipped_percent / 100.0))
        if threshold <= 0.0:
            return x.astype(np.float32, copy=True)
        return np.clip(x, -threshold, threshold).astype(np.float32)
