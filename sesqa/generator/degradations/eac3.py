"""E-AC-3 transcoding (paper C.33): an encode/decode round trip at 16..96 kbps, all at 48 kHz."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._codec import CodecSpec, round_trip
from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

EAC3 = CodecSpec("eac3", "eac3", rates=(32000, 44100, 48000))


@register
class Eac3(Degradation):
    name = "eac3"
    weight = 0.023
    strength_param = "bitrate_kbps"
    strength_range = (96.0, 16.0)

    @dataclass(frozen=True)
    class Params:
        bitrate_kbps: float
        codec_sr_hz: int
        """Sample rate the stream is encoded at."""

        def __post_init__(self) -> None:
            check_range("bitrate_kbps", self.bitrate_kbps, 16.0, 96.0)
            check_choice("codec_sr_hz", self.codec_sr_hz, EAC3.rates)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(bitrate_kbps=lerp(*cls.strength_range, strength), codec_sr_hz=48000)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        return round_trip(x, sr, EAC3, params.bitrate_kbps, params.codec_sr_hz)
