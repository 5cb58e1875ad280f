"""Spectrogram convolution: the STFT magnitude is convolved with a random 2-D kernel over
(time, frequency) and recombined with the original phase (paper C.28), with a random window
and 50 % overlap.

The kernel is non-negative with unit sum, so it blurs: strength is its side in STFT cells
(3 .. 15), and a larger kernel smears energy further across frames and bins. Convolving the
complex STFT instead was tried and left out: neighbouring frames' phases cancel, so even a
3 x 3 kernel wrecks the signal and the strength label would say nothing. The output is scaled
back to the input's RMS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from ._int_checks import check_int
from ._stft import check_window, istft, match_level, sample_window, stft, with_phase
from .base import Degradation, SamplingContext, lerp, new_seed, register


def random_kernel(rng: np.random.Generator, size: int) -> np.ndarray:
    """A size x size (frames x bins) kernel of uniform random non-negative values summing to 1."""
    kernel = rng.random((size, size), dtype=np.float32)
    return kernel / kernel.sum()


@register
class SpectrogramConvolution(Degradation):
    name = "spectrogram_convolution"
    weight = 0.011
    strength_param = "kernel_size"
    strength_range = (3, 15)

    @dataclass(frozen=True)
    class Params:
        kernel_size: int
        """Side of the square kernel in STFT cells (frames x bins)."""
        win_len: int
        """STFT window in samples; the hop is half of it."""
        seed: int
        """Seed of the kernel's values."""

        def __post_init__(self) -> None:
            check_int("kernel_size", self.kernel_size, 1, 64)
            check_window(self.win_len)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            kernel_size=int(round(lerp(*cls.strength_range, strength))),
            win_len=sample_window(rng),
            seed=new_seed(rng),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        z = stft(x, params.win_len)
        kernel = random_kernel(np.random.default_rng(params.seed), params.kernel_size)
        blurred = np.maximum(signal.fftconvolve(np.abs(z), kernel, mode="same"), 0.0)
        y = istft(with_phase(blurred.astype(np.float32), np.angle(z)), params.win_len, len(x))
        return match_level(y, x)
