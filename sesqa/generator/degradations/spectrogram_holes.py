"""Spectrogram holes: dropout on the STFT, each time-frequency bin zeroed with probability
15 .. 98 % (paper C.29), with a random window and 50 % overlap.

The output is scaled back to the input's RMS, so the damage is the holes and not a drop in
level (dropout with the usual 1 / (1 - p) rescaling would instead make it up to 17 dB louder).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._stft import check_window, istft, match_level, sample_window, stft
from .base import Degradation, SamplingContext, check_range, lerp, new_seed, register


def dropout_mask(shape: tuple[int, ...], dropout_percent: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the bins that are dropped, each with probability dropout_percent / 100."""
    return rng.random(shape, dtype=np.float32) < np.float32(dropout_percent / 100.0)


@register
class SpectrogramHoles(Degradation):
    name = "spectrogram_holes"
    weight = 0.011
    strength_param = "dropout_percent"
    strength_range = (15.0, 98.0)

    @dataclass(frozen=True)
    class Params:
        dropout_percent: float
        win_len: int
        """STFT window in samples; the hop is half of it."""
        seed: int

        def __post_init__(self) -> None:
            check_range("dropout_percent", self.dropout_percent, 0.0, 100.0)
            check_window(self.win_len)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            dropout_percent=lerp(*cls.strength_range, strength),
            win_len=sample_window(rng),
            seed=new_seed(rng),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        z = stft(x, params.win_len)
        z[dropout_mask(z.shape, params.dropout_percent, np.random.default_rng(params.seed))] = 0.0
        return match_level(istft(z, params.win_len, len(x)), x)
