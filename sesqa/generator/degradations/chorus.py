"""Chorus: pedalboard's Chorus with a wet mix between 0.15 and 1 (paper C.20).

The output is (1 - mix) * dry + mix * wet, the wet path being an LFO-modulated delay of
`centre_delay_ms`; at mix 1 only the modulated copy remains (a vibrato). Rate, depth, centre
delay and feedback are randomised around classic chorus settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pedalboard import Chorus as ChorusPlugin

from ._pedalboard import PedalboardEffect, process_mono
from .base import check_range, params_to_dict, register


@register
class Chorus(PedalboardEffect):
    name = "chorus"
    weight = 0.011
    strength_param = "mix"
    strength_range = (0.15, 1.0)
    drawn_ranges = (
        ("rate_hz", (0.3, 3.0)),
        ("depth", (0.1, 0.6)),
        ("centre_delay_ms", (5.0, 20.0)),
        ("feedback", (0.0, 0.4)),
    )

    @dataclass(frozen=True)
    class Params:
        mix: float
        """Linear gain of the wet (modulated) path; the dry path gets 1 - mix."""
        rate_hz: float
        """LFO rate."""
        depth: float
        """LFO depth, 0 .. 1 of the modulation range."""
        centre_delay_ms: float
        feedback: float

        def __post_init__(self) -> None:
            check_range("mix", self.mix, 0.0, 1.0)
            check_range("rate_hz", self.rate_hz, 0.01, 20.0)
            check_range("depth", self.depth, 0.0, 1.0)
            check_range("centre_delay_ms", self.centre_delay_ms, 1.0, 50.0)
            check_range("feedback", self.feedback, 0.0, 0.95)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        # The Params fields are the plugin's own arguments.
        return process_mono(x, sr, [ChorusPlugin(**params_to_dict(params))])
