"""Periodic interference (hum, tonal noise): a tone of a given waveform at an SNR (paper C.3-4)."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
from scipy import signal

from ._additive import add_at_snr
from ._sections import check_region, sample_region
from .base import Degradation, SamplingContext, check_choice, check_range, lerp

WAVEFORMS = ("sine", "sawtooth", "square")
_SHAPES = {"sine": np.sin, "sawtooth": signal.sawtooth, "square": signal.square}


def tone(n: int, sr: int, frequency_hz: float, waveform: str, phase_rad: float) -> np.ndarray:
    """n samples of a unit-amplitude periodic waveform starting at `phase_rad`."""
    arg = 2.0 * np.pi * frequency_hz * np.arange(n) / sr + phase_rad
    return _SHAPES[waveform](arg).astype(np.float32)


class ToneInterference(Degradation):
    """Shared body of hum and tonal noise; subclasses choose the frequency."""

    strength_param = "snr_db"
    strength_range = (35.0, -15.0)

    @dataclass(frozen=True)
    class Params:
        snr_db: float
        frequency_hz: float
        waveform: str
        phase_rad: float
        start_sample: int
        stop_sample: int

        def __post_init__(self) -> None:
            check_range("snr_db", self.snr_db, -60.0, 80.0)
            check_range("frequency_hz", self.frequency_hz, 1.0, 24_000.0)
            check_choice("waveform", self.waveform, WAVEFORMS)
            check_region(self.start_sample, self.stop_sample)

    @classmethod
    @abstractmethod
    def sample_frequency_hz(cls, rng: np.random.Generator) -> float:
        """Draw the tone's fundamental frequency."""

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        start, stop = sample_region(rng, ctx.n_samples, ctx.sr)
        return cls.Params(
            snr_db=lerp(*cls.strength_range, strength),
            frequency_hz=cls.sample_frequency_hz(rng),
            waveform=str(rng.choice(WAVEFORMS)),
            phase_rad=float(rng.uniform(0.0, 2.0 * np.pi)),
            start_sample=start,
            stop_sample=stop,
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        t = tone(params.stop_sample - params.start_sample, sr, params.frequency_hz, params.waveform, params.phase_rad)
        return add_at_snr(x, t, params.snr_db, params.start_sample, params.stop_sample)
