"""Butterworth filtering shared by the high-pass, low-pass, band-pass and band-reject degradations,
with the base classes holding their shared params and sampling.

pedalboard's HighpassFilter/LowpassFilter are first-order (6 dB/octave) only and it has no
band-pass or band-stop with a Q, so these use scipy's Butterworth designs as second-order
sections: the magnitude is exactly -3 dB at each cutoff/band edge and the slope follows the order.
Filtering is causal (like analogue or real-time filters), run in float64 for the narrow,
low-frequency bands whose poles sit close to the unit circle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import signal

from .base import Degradation, SamplingContext, check_range, lerp

MAX_EDGE_FRACTION_OF_SR = 0.49
"""Cutoffs and band edges are kept below this fraction of the sample rate (Nyquist is 0.5)."""


def below_nyquist(freq_hz: float, sr: int) -> float:
    """Clamp a design frequency to just below Nyquist so low sample rates still work."""
    return min(float(freq_hz), MAX_EDGE_FRACTION_OF_SR * sr)


def band_edges_hz(centre_hz: float, bandwidth_octaves: float) -> tuple[float, float]:
    """-3 dB edges of a band `bandwidth_octaves` wide, geometrically centred on `centre_hz`."""
    half = 2.0 ** (bandwidth_octaves / 2.0)
    return centre_hz / half, centre_hz * half


def q_from_bandwidth(bandwidth_octaves: float) -> float:
    """Quality factor centre / (f_high - f_low) of a band `bandwidth_octaves` wide."""
    ratio = 2.0**bandwidth_octaves
    return math.sqrt(ratio) / (ratio - 1.0)


def butterworth(
    x: np.ndarray,
    sr: int,
    order: int,
    cutoff_hz: float | tuple[float, float],
    btype: Literal["lowpass", "highpass", "bandpass", "bandstop"],
) -> np.ndarray:
    """Filter `x` with a causal Butterworth filter; returns float32 of the same length."""
    if isinstance(cutoff_hz, tuple):
        wn: float | list[float] = [below_nyquist(f, sr) for f in cutoff_hz]
    else:
        wn = below_nyquist(cutoff_hz, sr)
    sos = signal.butter(order, wn, btype=btype, fs=sr, output="sos")
    return signal.sosfilt(sos, np.asarray(x, dtype=np.float64)).astype(np.float32)


BAND_CENTRE_HZ = (100.0, 4000.0)
"""Paper C.16-17: band-pass and band-reject centres lie in this range."""
BAND_ORDERS = (1, 4)
"""Random prototype order of the band filters; each skirt falls 6 dB/octave per order."""


def sample_band_centre_hz(rng: np.random.Generator) -> float:
    """Log-uniform band centre, so each octave of BAND_CENTRE_HZ is equally likely."""
    low, high = BAND_CENTRE_HZ
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


PASS_ORDERS = (2, 6)
"""Random order range of the high-pass and low-pass (12 .. 36 dB/octave)."""


class PassFilter(Degradation):
    """Shared body of high-pass and low-pass; subclasses choose the filter type in `apply`."""

    strength_param = "cutoff_hz"

    @dataclass(frozen=True)
    class Params:
        cutoff_hz: float
        """-3 dB frequency."""
        order: int
        """Butterworth order; the roll-off beyond the cutoff is 6 dB/octave per order."""

        def __post_init__(self) -> None:
            check_range("cutoff_hz", self.cutoff_hz, 10.0, 20_000.0)
            check_range("order", self.order, 1, 10)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            cutoff_hz=lerp(*cls.strength_range, strength),
            order=int(rng.integers(PASS_ORDERS[0], PASS_ORDERS[1] + 1)),
        )


class BandFilter(Degradation):
    """Shared body of band-pass and band-reject; subclasses choose the filter type in `apply`."""

    strength_param = "bandwidth_octaves"

    @dataclass(frozen=True)
    class Params:
        bandwidth_octaves: float
        """Width of the band (passed or rejected) between its -3 dB edges."""
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
