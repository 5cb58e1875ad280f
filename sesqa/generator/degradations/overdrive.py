"""Overdrive: tanh saturation after 12 .. 50 dB of drive, then a tone control (paper C.21).

pedalboard's Distortion computes tanh(x * 10^(drive_db / 20)), so the output stays within
[-1, 1] whatever the drive and no extra clipping occurs; it is followed by a first-order
low-pass 'tone' control (pedalboard LowpassFilter) that tames the highest harmonics, as on an
overdrive pedal. Up to sr / 4 (12 kHz at 48 kHz) that bilinear low-pass has no overshoot, so the
output peak stays <= 1. The output is not normalised: a saturated signal is louder than its input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pedalboard import Distortion, LowpassFilter

from ._filters import below_nyquist
from ._pedalboard import process_mono
from .base import Degradation, SamplingContext, check_range, lerp, register

TONE_HZ = (3000.0, 12_000.0)


@register
class Overdrive(Degradation):
    name = "overdrive"
    weight = 0.011
    strength_param = "drive_db"
    strength_range = (12.0, 50.0)

    @dataclass(frozen=True)
    class Params:
        drive_db: float
        """Gain before the tanh waveshaper."""
        tone_hz: float
        """Cutoff of the first-order low-pass after the waveshaper."""

        def __post_init__(self) -> None:
            check_range("drive_db", self.drive_db, 0.0, 80.0)
            check_range("tone_hz", self.tone_hz, 500.0, 12_000.0)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            drive_db=lerp(*cls.strength_range, strength),
            tone_hz=float(rng.uniform(*TONE_HZ)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        plugins = [
            Distortion(drive_db=params.drive_db),
            LowpassFilter(cutoff_frequency_hz=below_nyquist(params.tone_hz, sr)),
        ]
        return process_mono(x, sr, plugins)
