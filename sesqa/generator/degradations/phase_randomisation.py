"""Phase randomisation: noise is added to the STFT phase, up to fully random phases (paper C.26),
with a random window and 50 % overlap.

Strength is the amount of phase noise: each bin's phase moves by U(-pi, pi) scaled by
phase_noise_percent / 100 (25 .. 100 %), so 100 % makes every phase uniformly random. The
output is scaled back to the input's RMS, since phases that no longer agree across frames
cancel in the overlap-add and would otherwise also lower the level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._stft import RandomSpectralEdit, SpectralEditParams, istft, match_level, stft, with_phase
from .base import register


@register
class PhaseRandomisation(RandomSpectralEdit):
    name = "phase_randomisation"
    weight = 0.011
    strength_param = "phase_noise_percent"
    strength_range = (25.0, 100.0)

    @dataclass(frozen=True)
    class Params(SpectralEditParams):
        phase_noise_percent: float
        win_len: int
        seed: int

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        z = stft(x, params.win_len)
        rng = np.random.default_rng(params.seed)
        noise = rng.uniform(-np.pi, np.pi, size=z.shape).astype(np.float32)
        phase = np.angle(z) + noise * np.float32(params.phase_noise_percent / 100.0)
        y = istft(with_phase(np.abs(z), phase), params.win_len, len(x))
        return match_level(y, x)
