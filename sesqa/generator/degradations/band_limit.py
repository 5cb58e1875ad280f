"""Band limit: what a source recorded or stored at a low sample rate lacks, as a degradation.

A frame of a 16 kHz corpus has nothing above 8 kHz: listeners hear it as muffled, so it is never
"clean". The generator measures each source's upper band edge (`sesqa.audio.band`) and puts this
step first in the x_i chain of every frame cut from a source that stops below `FULL_BAND_EDGE_HZ`
(`for_source`), so the band limit is labelled and replays like any other degradation. It is in
no pool that a run draws from (its pool is "source"); `sample_params` serves the sweep.

`apply` does what storing the audio at twice the edge does: soxr (VHQ) down to that rate and back,
a steep anti-aliasing filter at the edge. On a source already band-limited there it takes away
next to nothing; on a full-band one it makes the limit, which then measures at the same edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...audio import resample
from .base import AppliedDegradation, Degradation, SamplingContext, check_range, fit_length, register

FULL_BAND_EDGE_HZ = 15_000.0
"""A source whose measured edge reaches this carries no band-limit step: full band for speech."""


@register
class BandLimit(Degradation):
    name = "band_limit"
    weight = 0.0
    pool = "source"
    strength_param = "edge_hz"
    strength_range = (FULL_BAND_EDGE_HZ, 2000.0)

    @dataclass(frozen=True)
    class Params:
        edge_hz: float
        """Upper band edge: the Nyquist frequency of the rate the audio passes through."""

        def __post_init__(self) -> None:
            check_range("edge_hz", self.edge_hz, 100.0, 24_000.0)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        mildest, most_severe = (math.log(f) for f in cls.strength_range)
        return cls.Params(edge_hz=math.exp(mildest + (most_severe - mildest) * strength))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        rate = int(round(2 * params.edge_hz))
        x = np.asarray(x, dtype=np.float32)
        if rate >= sr:
            return x.copy()
        return fit_length(resample(resample(x, sr, rate), rate, sr), len(x))


def strength_of(edge_hz: float) -> float:
    """Strength in [0, 1] of a band edge: 0 at FULL_BAND_EDGE_HZ, 1 at 2 kHz, log-linear between."""
    mildest, most_severe = (math.log(f) for f in BandLimit.strength_range)
    return float(np.clip((math.log(max(edge_hz, 1.0)) - mildest) / (most_severe - mildest), 0.0, 1.0))


def for_source(edge_hz: float | None) -> tuple[AppliedDegradation, ...]:
    """The steps a source's measured band edge puts before every chain: none for a full-band (or
    unmeasured, None) source, else one band limit at the edge."""
    if edge_hz is None or edge_hz >= FULL_BAND_EDGE_HZ:
        return ()
    edge = max(float(edge_hz), 100.0)
    return (AppliedDegradation(BandLimit.name, strength_of(edge), BandLimit.Params(edge_hz=edge)),)
