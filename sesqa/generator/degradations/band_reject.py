"""Band-reject: a Butterworth band-stop with a random Q centred between 100 and 4,000 Hz (paper C.17).

The main parameter is the width in octaves of the rejected band between its -3 dB edges (it
fixes the Q as in band_pass); a wider notch removes more of the speech spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._filters import BAND_ORDERS, band_edges_hz, butterworth, sample_band_centre_hz
from .base import Degradation, SamplingContext, check_range, lerp, register


@register
class BandReject(Degradation):
    name = "band_reject"
    weight = 0.006
    strength_param = "bandwidth_octaves"
    strength_range = (0.5, 4.0)

    @dataclass(frozen=True)
    class Params:
        bandwidth_octaves: float
        """Width of the stop band between its -3 dB edges."""
        centre_hz: float
        """Geometric centre of the band, where the rejection is deepest."""
        order: int
        """Butterworth prototype order; the band edges steepen with it."""

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
        return butterworth(x, sr, params.order, edges, "bandstop")
