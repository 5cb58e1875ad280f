"""Phase shuffle: the phases of STFT frames are permuted in time while each frame keeps its
magnitude (paper C.27), with a random window and 50 % overlap.

Strength is the share of frames taking part in the permutation (25 .. 100 %). The output is
scaled back to the input's RMS, since mismatched phases cancel in the overlap-add.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._stft import RandomSpectralEdit, SpectralEditParams, istft, match_level, stft, with_phase
from .base import register


@register
class PhaseShuffle(RandomSpectralEdit):
    name = "phase_shuffle"
    weight = 0.011
    strength_param = "shuffled_percent"
    strength_range = (25.0, 100.0)

    @dataclass(frozen=True)
    class Params(SpectralEditParams):
        shuffled_percent: float
        """Share of the frames whose phases are permuted among themselves."""
        win_len: int
        seed: int

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        z = stft(x, params.win_len)
        frames = z.shape[0]
        count = min(frames, max(2, int(round(frames * params.shuffled_percent / 100.0))))
        rng = np.random.default_rng(params.seed)
        chosen = rng.choice(frames, size=count, replace=False)
        phase = np.angle(z)
        phase[chosen] = phase[rng.permutation(chosen)]
        y = istft(with_phase(np.abs(z), phase), params.win_len, len(x))
        return match_level(y, x)
