"""Griffin-Lim reconstruction: the STFT magnitude is kept and the phase is re-estimated from a
random start (paper C.25), with a random window and 50 % overlap.

It uses the fast Griffin-Lim of Perraudin, Balazs & Søndergaard (2013): each iteration
projects onto consistent spectrograms (ISTFT then STFT) and extrapolates with momentum 0.99,
which converges much faster than plain Griffin-Lim. Strength lowers the number of iterations
(32 .. 2): fewer iterations leave a less consistent phase and more of the typical phasiness.
The transform is the vectorised one of `_stft`, so 32 iterations on 1.1 s at 48 kHz cost
about 10 .. 20 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._int_checks import check_int
from ._stft import check_window, istft, sample_window, stft
from .base import Degradation, SamplingContext, lerp, new_seed, register

MOMENTUM = 0.99


def griffin_lim(magnitude: np.ndarray, win_len: int, n: int, iterations: int, rng: np.random.Generator) -> np.ndarray:
    """n samples whose STFT magnitude approximates `magnitude`, from a random initial phase."""
    magnitude = magnitude.astype(np.float32, copy=False)
    tiny = np.float32(1e-12)
    spectrum = magnitude * np.exp(1j * rng.uniform(-np.pi, np.pi, size=magnitude.shape)).astype(np.complex64)
    previous = None
    for _ in range(iterations):
        projected = stft(istft(spectrum, win_len, n), win_len)
        if previous is None:
            accelerated = projected.copy()
        else:
            np.subtract(projected, previous, out=accelerated)
            accelerated *= np.float32(MOMENTUM)
            accelerated += projected
        previous = projected
        spectrum = accelerated * (magnitude / np.maximum(np.abs(accelerated), tiny))
    return istft(spectrum, win_len, n)


@register
class GriffinLim(Degradation):
    name = "griffin_lim"
    weight = 0.023
    strength_param = "iterations"
    strength_range = (32, 2)

    @dataclass(frozen=True)
    class Params:
        iterations: int
        win_len: int
        """STFT window in samples; the hop is half of it."""
        seed: int
        """Seed of the random initial phase."""

        def __post_init__(self) -> None:
            check_int("iterations", self.iterations, 0, 1000)
            check_window(self.win_len)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            iterations=int(round(lerp(*cls.strength_range, strength))),
            win_len=sample_window(rng),
            seed=new_seed(rng),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        magnitude = np.abs(stft(x, params.win_len))
        return griffin_lim(magnitude, params.win_len, len(x), params.iterations, np.random.default_rng(params.seed))
