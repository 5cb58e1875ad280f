"""Extreme equalisation: a peak filter with a random Q boosting or cutting 20 .. 40 dB (paper C.15).

The filter is pedalboard's PeakFilter (RBJ peaking biquad): the gain is reached at the centre
frequency and fades to 0 dB away from it. A +40 dB boost can lift the signal level a lot; it is
left as is (no normalisation), as an equaliser would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pedalboard import PeakFilter

from ._filters import below_nyquist
from ._pedalboard import process_mono
from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

CENTRE_HZ = (100.0, 8000.0)
Q_RANGE = (0.3, 5.0)


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A value whose logarithm is uniform between log(low) and log(high)."""
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


@register
class ExtremeEq(Degradation):
    name = "extreme_eq"
    weight = 0.006
    strength_param = "gain_magnitude_db"
    strength_range = (20.0, 40.0)

    @dataclass(frozen=True)
    class Params:
        gain_magnitude_db: float
        """Size of the boost or cut at the centre frequency."""
        boost: bool
        """True: +gain_magnitude_db at the centre; False: -gain_magnitude_db."""
        centre_hz: float
        q: float
        """Quality factor: centre frequency over bandwidth."""

        def __post_init__(self) -> None:
            check_range("gain_magnitude_db", self.gain_magnitude_db, 0.0, 60.0)
            check_choice("boost", self.boost, (True, False))
            check_range("centre_hz", self.centre_hz, 20.0, 20_000.0)
            check_range("q", self.q, 0.05, 20.0)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            gain_magnitude_db=lerp(*cls.strength_range, strength),
            boost=bool(rng.random() < 0.5),
            centre_hz=log_uniform(rng, *CENTRE_HZ),
            q=log_uniform(rng, *Q_RANGE),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        gain_db = params.gain_magnitude_db if params.boost else -params.gain_magnitude_db
        centre_hz = below_nyquist(params.centre_hz, sr)
        return process_mono(x, sr, [PeakFilter(cutoff_frequency_hz=centre_hz, gain_db=gain_db, q=params.q)])
