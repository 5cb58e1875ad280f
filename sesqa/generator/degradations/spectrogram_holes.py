"""Spectrogram holes: dropout on the STFT, each time-frequency bin zeroed with probability
15 .. 98 % (paper C.29), with a random window and 50 % overlap.

The output is scaled back to the input's RMS, so the damage is the holes and not a drop in
level (dropout with the usual 1 / (1 - p) rescaling would instead make it up to 17 dB louder).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._stft import RandomSpectralEdit, SpectralEditParams, dropout_mask, istft, match_level, stft
from .base import register


@register
class SpectrogramHoles(RandomSpectralEdit):
    name = "spectrogram_holes"
    weight = 0.011
    strength_param = "dropout_percent"
    strength_range = (15.0, 98.0)

    @dataclass(frozen=True)
    class Params(SpectralEditParams):
        dropout_percent: float
        win_len: int
        seed: int

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        z = stft(x, params.win_len)
        z[dropout_mask(z.shape, params.dropout_percent, np.random.default_rng(params.seed))] = 0.0
        return match_level(istft(z, params.win_len, len(x)), x)
