"""Insert silence: 1..10 sections of 20..120 ms are zeroed, like lost packets (paper C.9)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._section_ops import SectionDegradation, SectionParams, clipped_sections
from .base import register


@register
class InsertSilence(SectionDegradation):
    name = "insert_silence"
    weight = 0.011

    @dataclass(frozen=True)
    class Params(SectionParams):
        """Only the sections: silence needs nothing else."""

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        y = np.array(x, dtype=np.float32, copy=True)
        for a, b in clipped_sections(params, len(y)):
            y[a:b] = 0.0
        return y
