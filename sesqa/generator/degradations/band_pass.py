"""Band-pass: a Butterworth band-pass with a random Q centred between 100 and 4,000 Hz (paper C.16).

The main parameter is the bandwidth in octaves between the -3 dB edges, which fixes the Q
(Q = sqrt(2^B) / (2^B - 1): 4 octaves is Q 0.27, 1/3 octave is Q 4.3); a narrower band keeps
less of the speech spectrum and is the more severe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._filters import BAND_ORDERS, band_edges_hz, butterworth, sample_band_centre_hz
from .base import Degradation, SamplingContext, check_range, lerp, register


@register
class BandPass(Degradation):
    name = "band_pass"
    weight = 0.006
    strength_param = "bandwidth_octaves"
    strength_range = (4.0, 1.0 / 3.0)

    @dataclass(frozen=True)
    class Params:
        bandwidth_octaves: float
        """Width of the pass band between its -3 dB edges."""
        centre_hz: float
        """Geometric centre of the band."""
        order: int
        """Butterworth prototype order; each skirt falls 6 dB/octave per order."""

        def __post_init__(self) -> None:
            check_range("bandwidth_octaves", self.bandwidth_octaves, 0.05, 8.0)
            check_range("centre_hz", self.centre_hz, 20.0, 16_000.0)
            check_range("order", self.order, 1, 8)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            bandwidth_octaves=lerp(*cls.strength_range, strength),
            centre_hz=sample_band_centre_hz(rng),
            order=int(rng.integers(BAND_ORDERS[0], BAND_ORDERS[1] + 1)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        edges = band_edges_hz(params.centre_hz, params.bandwidth_octaves)
        return butterworth(x, sr, params.order, edges, "bandpass")
