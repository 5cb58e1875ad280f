"""Band-pass: a Butterworth band-pass with a random Q centred between 100 and 4,000 Hz (paper C.16).

The main parameter is the bandwidth in octaves between the -3 dB edges, which fixes the Q
(Q = sqrt(2^B) / (2^B - 1): 4 octaves is Q 0.27, 1/3 octave is Q 4.3); a narrower band keeps
less of the speech spectrum and is the more severe.
"""

from __future__ import annotations

import numpy as np

from ._filters import BandFilter, band_edges_hz, butterworth
from .base import register


@register
class BandPass(BandFilter):
    name = "band_pass"
    weight = 0.006
    strength_range = (4.0, 1.0 / 3.0)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: BandFilter.Params) -> np.ndarray:
        edges = band_edges_hz(params.centre_hz, params.bandwidth_octaves)
        return butterworth(x, sr, params.order, edges, "bandpass")
