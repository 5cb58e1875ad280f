"""Additive noise from a real noise corpus, whole frame or part of it (paper C.1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...audio import load
from ...data import resolve_path
from ._additive import add_at_snr
from ._sections import check_region, sample_region
from .base import Degradation, SamplingContext, check_range, lerp, register


@register
class AdditiveNoise(Degradation):
    name = "additive_noise"
    weight = 0.29
    strength_param = "snr_db"
    strength_range = (35.0, -15.0)

    @dataclass(frozen=True)
    class Params:
        snr_db: float
        noise_path: str
        """Portable name of the noise file (see sesqa.data)."""
        noise_offset_s: float
        start_sample: int
        stop_sample: int

        def __post_init__(self) -> None:
            check_range("snr_db", self.snr_db, -60.0, 80.0)
            check_range("noise_offset_s", self.noise_offset_s, 0.0, float("inf"))
            check_region(self.start_sample, self.stop_sample)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        if ctx.noise is None:
            raise ValueError("additive_noise needs a noise corpus (SamplingContext.noise is None)")
        start, stop = sample_region(rng, ctx.n_samples, ctx.sr)
        path, offset_s = ctx.noise.sample(rng, (stop - start) / ctx.sr)
        return cls.Params(lerp(*cls.strength_range, strength), path, offset_s, start, stop)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        length = params.stop_sample - params.start_sample
        noise = load(resolve_path(params.noise_path), sr, params.noise_offset_s, length / sr)
        # A noise file shorter than the region is looped rather than zero-padded.
        noise = np.resize(noise, length)
        return add_at_snr(x, noise, params.snr_db, params.start_sample, params.stop_sample)
