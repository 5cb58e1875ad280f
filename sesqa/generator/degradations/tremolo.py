"""Tremolo: periodic amplitude modulation with a depth of 30 .. 100 % (paper C.24).

pedalboard has no tremolo, so the gain curve g(t) = 1 - depth * (1 - s(t)) / 2 is computed in
numpy from an LFO s(t) in [-1, 1] with a random rate (2 .. 10 Hz), shape and start phase. g
swings between 1 and 1 - depth, so (max - min) / max of the envelope equals the depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

RATE_HZ = (2.0, 10.0)
SHAPES = ("sine", "triangle", "square")
SQUARE_SOFTNESS = 6.0
"""The square LFO is tanh(k sin)/tanh(k): flat tops with edges soft enough not to click."""


def lfo(shape: str, phase: np.ndarray) -> np.ndarray:
    """A periodic wave of the given shape in [-1, 1]; `phase` in radians."""
    if shape == "sine":
        return np.sin(phase)
    if shape == "triangle":
        return 2.0 / np.pi * np.arcsin(np.sin(phase))
    return np.tanh(SQUARE_SOFTNESS * np.sin(phase)) / np.tanh(SQUARE_SOFTNESS)


@register
class Tremolo(Degradation):
    name = "tremolo"
    weight = 0.011
    strength_param = "depth_percent"
    strength_range = (30.0, 100.0)

    @dataclass(frozen=True)
    class Params:
        depth_percent: float
        """Peak-to-trough swing of the gain, in percent of its peak."""
        rate_hz: float
        shape: str
        """LFO shape: sine, triangle or (soft) square."""
        phase_rad: float
        """LFO phase at the first sample."""

        def __post_init__(self) -> None:
            check_range("depth_percent", self.depth_percent, 0.0, 100.0)
            check_range("rate_hz", self.rate_hz, 0.1, 50.0)
            check_choice("shape", self.shape, SHAPES)
            check_range("phase_rad", self.phase_rad, 0.0, 2.0 * np.pi)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            depth_percent=lerp(*cls.strength_range, strength),
            rate_hz=float(rng.uniform(*RATE_HZ)),
            shape=SHAPES[int(rng.integers(len(SHAPES)))],
            phase_rad=float(rng.uniform(0.0, 2.0 * np.pi)),
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        t = np.arange(len(x)) / sr
        s = lfo(params.shape, 2.0 * np.pi * params.rate_hz * t + params.phase_rad)
        gain = 1.0 - params.depth_percent / 100.0 * (1.0 - s) / 2.0
        return (np.asarray(x, dtype=np.float64) * gain).astype(np.float32)
