"""Reverb: a Freeverb-style room added at a dry-to-reverberant ratio of 10 .. -5 dB (paper C.23).

The reverberant (wet-only) part comes from pedalboard's Reverb run in stereo with random room
size, damping and width; the left channel is kept, so the width changes how the two decorrelated
tails mix. It is delayed by a random pre-delay and scaled so that
10 * log10(E_dry / E_wet) = snr_db over the frame, then added to the dry signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pedalboard import Reverb as ReverbPlugin

from ._pedalboard import PedalboardEffect, process_mono
from .base import check_range, register


@register
class Reverb(PedalboardEffect):
    name = "reverb"
    weight = 0.035
    strength_param = "snr_db"
    strength_range = (10.0, -5.0)
    drawn_ranges = (
        ("room_size", (0.2, 0.95)),
        ("damping", (0.0, 0.9)),
        ("width", (0.0, 1.0)),
        ("pre_delay_ms", (0.0, 60.0)),
    )

    @dataclass(frozen=True)
    class Params:
        snr_db: float
        """Direct-to-reverberant energy ratio, 10 * log10(E_dry / E_wet)."""
        room_size: float
        """Freeverb room size (comb feedback); larger rooms decay more slowly."""
        damping: float
        """High-frequency damping of the tail."""
        width: float
        """Stereo width of the reverb before the left channel is taken."""
        pre_delay_ms: float
        """Delay of the reverberant part after the direct sound."""

        def __post_init__(self) -> None:
            check_range("snr_db", self.snr_db, -30.0, 60.0)
            check_range("room_size", self.room_size, 0.0, 0.99)
            check_range("damping", self.damping, 0.0, 1.0)
            check_range("width", self.width, 0.0, 1.0)
            check_range("pre_delay_ms", self.pre_delay_ms, 0.0, 200.0)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        plugin = ReverbPlugin(
            room_size=params.room_size,
            damping=params.damping,
            width=params.width,
            wet_level=1.0,
            dry_level=0.0,
        )
        wet = process_mono(x, sr, [plugin], channels=2).astype(np.float64)
        shift = min(int(round(params.pre_delay_ms * sr / 1000.0)), len(x))
        wet = np.concatenate([np.zeros(shift), wet[: len(x) - shift]])
        e_dry = float(np.sum(np.square(x, dtype=np.float64)))
        e_wet = float(np.sum(np.square(wet)))
        if e_dry <= 0.0 or e_wet <= 0.0:
            return x.copy()
        gain = np.sqrt(e_dry / e_wet * 10.0 ** (-params.snr_db / 10.0))
        return (x + gain * wet).astype(np.float32)
