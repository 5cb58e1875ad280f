"""mu-law quantisation to 2..10 bits (paper C.6), as in G.711 with mu = 2**bits - 1.

The signal is scaled to its peak, companded, rounded by a mid-tread quantiser with
2**bits - 1 levels (so silence stays silent instead of toggling around zero), expanded and
scaled back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._int_checks import check_int
from .base import Degradation, SamplingContext, lerp, register


@register
class MuLaw(Degradation):
    name = "mu_law"
    weight = 0.011
    strength_param = "bits"
    strength_range = (10, 2)

    @dataclass(frozen=True)
    class Params:
        bits: int

        def __post_init__(self) -> None:
            check_int("bits", self.bits, 2, 16)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(bits=int(round(lerp(*cls.strength_range, strength))))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        peak = float(np.max(np.abs(x))) if len(x) else 0.0
        if peak == 0.0:
            return x.astype(np.float32)
        mu = 2.0**params.bits - 1.0
        steps = 2.0 ** (params.bits - 1) - 1.0
        u = x / peak
        companded = np.sign(u) * np.log1p(mu * np.abs(u)) / np.log1p(mu)
        q = np.round(companded * steps) / steps
        expanded = np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu
        return (peak * expanded).astype(np.float32)
