"""Echo: delayed copies of the signal added to it, single- or multi-tap, up to 500 ms (paper C.14).

The main parameter is the linear gain of the first echo relative to the direct sound; further
taps decay geometrically from it. Multi-tap echoes are either regularly spaced (k * d, what a
feedback delay line produces) or at independent delays. Taps are a shift-and-add in numpy:
pedalboard's Delay only offers the regularly spaced feedback case. The output is not
normalised, so its level rises with the echo gains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Degradation, SamplingContext, check_range, lerp, register

MAX_DELAY_MS = 500.0
MIN_DELAY_MS = 30.0
"""Shorter delays fuse with the direct sound into comb filtering rather than an echo."""
MAX_TAPS = 4
SINGLE_TAP_PROBABILITY = 0.5
DECAY = (0.3, 0.8)


@register
class Echo(Degradation):
    name = "echo"
    weight = 0.035
    strength_param = "echo_gain"
    strength_range = (0.2, 1.0)

    @dataclass(frozen=True)
    class Params:
        echo_gain: float
        """Linear gain of the first tap relative to the direct sound."""
        delays_ms: tuple[float, ...]
        """Delay of each tap; tap k has gain echo_gain * decay**k."""
        decay: float
        """Gain ratio between successive taps."""

        def __post_init__(self) -> None:
            check_range("echo_gain", self.echo_gain, 0.0, 1.0)
            check_range("decay", self.decay, 0.0, 1.0)
            check_range("number of delays_ms", len(self.delays_ms), 1, 8)
            for delay in self.delays_ms:
                check_range("delays_ms", delay, 1.0, MAX_DELAY_MS)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        if rng.random() < SINGLE_TAP_PROBABILITY:
            delays = [rng.uniform(MIN_DELAY_MS, MAX_DELAY_MS)]
        else:
            n_taps = int(rng.integers(2, MAX_TAPS + 1))
            if rng.random() < 0.5:
                spacing = rng.uniform(MIN_DELAY_MS, MAX_DELAY_MS / n_taps)
                delays = [spacing * (k + 1) for k in range(n_taps)]
            else:
                delays = sorted(rng.uniform(MIN_DELAY_MS, MAX_DELAY_MS, n_taps))
        return cls.Params(
            echo_gain=lerp(*cls.strength_range, strength),
            delays_ms=tuple(float(d) for d in delays),
            decay=float(rng.uniform(*DECAY)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        y = x.copy()
        for k, delay_ms in enumerate(params.delays_ms):
            shift = int(round(delay_ms * sr / 1000.0))
            if 0 < shift < len(x):
                y[shift:] += np.float32(params.echo_gain * params.decay**k) * x[: len(x) - shift]
        return y
