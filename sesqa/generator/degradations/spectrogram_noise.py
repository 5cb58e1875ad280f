"""Spectrogram noise: like spectrogram holes, but the dropped STFT bins get random values
instead of zeros (paper C.30), with a random window and 50 % overlap.

The random values are complex Gaussian with, per frequency, the signal's RMS magnitude over
time, so the noise follows the long-term spectrum of the frame rather than being white. The
output is scaled back to the input's RMS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._stft import RandomSpectralEdit, SpectralEditParams, dropout_mask, istft, match_level, stft
from .base import register


@register
class SpectrogramNoise(RandomSpectralEdit):
    name = "spectrogram_noise"
    weight = 0.011
    strength_param = "replaced_percent"
    strength_range = (15.0, 98.0)

    @dataclass(frozen=True)
    class Params(SpectralEditParams):
        replaced_percent: float
        """Probability, in percent, that a bin is replaced by a random value."""
        win_len: int
        seed: int

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        z = stft(x, params.win_len)
        rng = np.random.default_rng(params.seed)
        mask = dropout_mask(z.shape, params.replaced_percent, rng)
        rows, cols = np.nonzero(mask)
        scale = np.sqrt(np.mean(np.abs(z) ** 2, axis=0) / 2.0).astype(np.float32)[cols]
        noise = rng.standard_normal((2, len(cols)), dtype=np.float32)
        z[rows, cols] = scale * (noise[0] + 1j * noise[1])
        return match_level(istft(z, params.win_len, len(x)), x)
