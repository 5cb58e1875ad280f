"""Band-reject: a Butterworth band-stop with a random Q centred between 100 and 4,000 Hz (paper C.17).

The main parameter is the width in octaves of the rejected band between its -3 dB edges (it
fixes the Q as in band_pass); a wider notch removes more of the speech spectrum. The rejection
is deepest at the centre, and the band edges steepen with the order.
"""

from __future__ import annotations

import numpy as np

from ._filters import BandFilter, band_edges_hz, butterworth
from .base import register


@register
class BandReject(BandFilter):
    name = "band_reject"
    weight = 0.006
    strength_range = (0.5, 4.0)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: BandFilter.Params) -> np.ndarray:
        edges = band_edges_hz(params.centre_hz, params.bandwidth_octaves)
        return butterworth(x, sr, params.order, edges, "bandstop")
