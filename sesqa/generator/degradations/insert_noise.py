"""Insert noise: 1..10 sections of 20..120 ms are replaced by white noise (paper C.10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._section_ops import SectionDegradation, SectionParams, clipped_sections
from ._stft import rms
from .base import SamplingContext, check_range, new_seed, register

LEVEL_DB_RANGE = (-25.0, 0.0)
"""Noise level relative to the frame's RMS."""
SILENT_REFERENCE = 10 ** (-40.0 / 20.0)
"""RMS the level refers to when the frame itself is (nearly) silent."""


@register
class InsertNoise(SectionDegradation):
    name = "insert_noise"
    weight = 0.011

    @dataclass(frozen=True)
    class Params(SectionParams):
        noise_level_db: float
        """RMS of the noise relative to the RMS of the whole input frame."""
        seed: int

        def __post_init__(self) -> None:
            super().__post_init__()
            check_range("noise_level_db", self.noise_level_db, -80.0, 20.0)

    @classmethod
    def sample_extra(cls, rng: np.random.Generator, count: int, ctx: SamplingContext) -> dict[str, Any]:
        return {"noise_level_db": float(rng.uniform(*LEVEL_DB_RANGE)), "seed": new_seed(rng)}

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        y = np.array(x, dtype=np.float32, copy=True)
        std = max(rms(x), SILENT_REFERENCE) * 10.0 ** (params.noise_level_db / 20.0)
        rng = np.random.default_rng(params.seed)
        for a, b in clipped_sections(params, len(y)):
            y[a:b] = std * rng.standard_normal(b - a, dtype=np.float32)
        return y
