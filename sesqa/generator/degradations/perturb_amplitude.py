"""Perturb amplitude: multiplicative Gaussian noise in 1..10 sections of 20..120 ms (paper C.12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._section_ops import SectionDegradation, SectionParams, section_mask
from .base import SamplingContext, check_range, new_seed, register

NOISE_STD_RANGE = (0.2, 1.0)


@register
class PerturbAmplitude(SectionDegradation):
    name = "perturb_amplitude"
    weight = 0.011

    @dataclass(frozen=True)
    class Params(SectionParams):
        noise_std: float
        """Standard deviation of the gain: in the sections y = x * (1 + noise_std * N(0, 1))."""
        seed: int

        def __post_init__(self) -> None:
            super().__post_init__()
            check_range("noise_std", self.noise_std, 0.0, 10.0)

    @classmethod
    def sample_extra(cls, rng: np.random.Generator, count: int, ctx: SamplingContext) -> dict[str, Any]:
        return {"noise_std": float(rng.uniform(*NOISE_STD_RANGE)), "seed": new_seed(rng)}

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        mask = section_mask(params, len(x))
        gain = np.ones(len(x), dtype=np.float32)
        noise = np.random.default_rng(params.seed).standard_normal(int(mask.sum()), dtype=np.float32)
        gain[mask] += params.noise_std * noise
        return (x * gain).astype(np.float32)
