"""Sample duplicate: 1..10 sections of 20..120 ms are filled by repeating the samples just before
them, the way a simple packet-loss concealment repeats the last period (paper C.13)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._section_ops import SectionDegradation, SectionParams, clipped_sections
from .base import SamplingContext, check_range, register

PERIOD_MS_RANGE = (5.0, 60.0)


@register
class SampleDuplicate(SectionDegradation):
    name = "sample_duplicate"
    weight = 0.011

    @dataclass(frozen=True)
    class Params(SectionParams):
        period_ms: float
        """Length of the repeated stretch; a section longer than it repeats it periodically."""

        def __post_init__(self) -> None:
            super().__post_init__()
            check_range("period_ms", self.period_ms, 0.1, 1000.0)

    @classmethod
    def sample_extra(cls, rng: np.random.Generator, count: int, ctx: SamplingContext) -> dict[str, Any]:
        return {"period_ms": float(rng.uniform(*PERIOD_MS_RANGE))}

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        """Sections are filled in order of their start from the output so far, so a section right
        after another repeats the concealed samples, as a real concealment would. A section at
        the very start has nothing before it and is left as is."""
        y = np.array(x, dtype=np.float32, copy=True)
        period = max(1, int(round(params.period_ms * sr / 1000.0)))
        for a, b in sorted(clipped_sections(params, len(y))):
            p = min(period, a)
            if p == 0:
                continue
            y[a:b] = y[a - p + np.arange(b - a) % p]
        return y
