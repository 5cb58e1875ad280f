"""Phaser: pedalboard's 6-stage Phaser with a wet mix between 0.1 and 1 (paper C.22).

The output is (1 - mix) * dry + mix * wet, the wet path being a chain of LFO-swept all-pass
filters; mixing it with the dry signal carves moving notches into the spectrum. Rate, depth,
centre frequency and feedback are randomised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pedalboard import Phaser as PhaserPlugin

from ._pedalboard import PedalboardEffect, process_mono
from .base import check_range, params_to_dict, register


@register
class Phaser(PedalboardEffect):
    name = "phaser"
    weight = 0.011
    strength_param = "mix"
    strength_range = (0.1, 1.0)
    drawn_ranges = (
        ("rate_hz", (0.2, 3.0)),
        ("depth", (0.3, 1.0)),
        ("centre_frequency_hz", (300.0, 3000.0)),
        ("feedback", (0.0, 0.7)),
    )

    @dataclass(frozen=True)
    class Params:
        mix: float
        """Linear gain of the wet (all-pass) path; the dry path gets 1 - mix."""
        rate_hz: float
        """LFO rate."""
        depth: float
        """LFO sweep depth, 0 .. 1."""
        centre_frequency_hz: float
        """Centre of the all-pass sweep."""
        feedback: float

        def __post_init__(self) -> None:
            check_range("mix", self.mix, 0.0, 1.0)
            check_range("rate_hz", self.rate_hz, 0.01, 20.0)
            check_range("depth", self.depth, 0.0, 1.0)
            check_range("centre_frequency_hz", self.centre_frequency_hz, 20.0, 16_000.0)
            check_range("feedback", self.feedback, -0.95, 0.95)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        # The Params fields are the plugin's own arguments.
        return process_mono(x, sr, [PhaserPlugin(**params_to_dict(params))])
