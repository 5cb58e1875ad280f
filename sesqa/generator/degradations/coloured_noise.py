"""Coloured (1/f^exponent) Gaussian noise, whole frame or part of it (paper C.2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._additive import add_at_snr
from ._sections import check_region, sample_region
from .base import Degradation, SamplingContext, check_range, lerp, new_seed, register


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise whose power spectrum falls as 1/f^exponent (0 = white, 1 = pink)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0
    spectrum *= f ** (-exponent / 2.0)
    return np.fft.irfft(spectrum, n).astype(np.float32)


@register
class ColouredNoise(Degradation):
    name = "coloured_noise"
    weight = 0.07
    strength_param = "snr_db"
    strength_range = (45.0, -15.0)

    @dataclass(frozen=True)
    class Params:
        snr_db: float
        exponent: float
        start_sample: int
        stop_sample: int
        seed: int

        def __post_init__(self) -> None:
            check_range("snr_db", self.snr_db, -60.0, 80.0)
            check_range("exponent", self.exponent, 0.0, 2.0)
            check_region(self.start_sample, self.stop_sample)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        start, stop = sample_region(rng, ctx.n_samples, ctx.sr)
        return cls.Params(lerp(*cls.strength_range, strength), float(rng.uniform(0.0, 0.7)), start, stop, new_seed(rng))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        noise = coloured_noise(params.stop_sample - params.start_sample, params.exponent, np.random.default_rng(params.seed))
        return add_at_snr(x, noise, params.snr_db, params.start_sample, params.stop_sample)
