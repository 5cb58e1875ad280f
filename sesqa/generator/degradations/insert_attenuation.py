"""Insert attenuation: 1..10 sections of 20..120 ms are scaled by a gain <= 0.8 (paper C.11)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._section_ops import SectionDegradation, SectionParams, clipped_sections
from .base import SamplingContext, check_range, register

MAX_GAIN = 0.8


@register
class InsertAttenuation(SectionDegradation):
    name = "insert_attenuation"
    weight = 0.011

    @dataclass(frozen=True)
    class Params(SectionParams):
        gains: tuple[float, ...]
        """Linear gain of each section, in [0, 0.8]; where sections overlap the lowest wins."""

        def __post_init__(self) -> None:
            super().__post_init__()
            if not isinstance(self.gains, tuple) or len(self.gains) != self.section_count:
                raise ValueError(
                    f"gains must be a tuple of section_count ({self.section_count}) floats, got {self.gains!r}"
                )
            for gain in self.gains:
                check_range("gains", gain, 0.0, MAX_GAIN)

    @classmethod
    def sample_extra(cls, rng: np.random.Generator, count: int, ctx: SamplingContext) -> dict[str, Any]:
        return {"gains": tuple(float(g) for g in rng.uniform(0.0, MAX_GAIN, size=count))}

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        gain = np.ones(len(x), dtype=np.float32)
        for (a, b), g in zip(clipped_sections(params, len(x)), params.gains):
            np.minimum(gain[a:b], g, out=gain[a:b])
        return (x * gain).astype(np.float32)
