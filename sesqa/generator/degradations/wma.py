"""WMA (version 2) transcoding (paper C.35): an encode/decode round trip at 32..128 kbps, 48 kHz."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._codec import CodecSpec, round_trip
from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

WMA = CodecSpec(
    "wmav2", "wmav2", rates=(8000, 11025, 16000, 22050, 32000, 44100, 48000), header_format="asf"
)


@register
class Wma(Degradation):
    name = "wma"
    weight = 0.023
    strength_param = "bitrate_kbps"
    strength_range = (128.0, 32.0)

    @dataclass(frozen=True)
    class Params:
        bitrate_kbps: float
        codec_sr_hz: int
        """Sample rate the stream is encoded at."""

        def __post_init__(self) -> None:
            check_range("bitrate_kbps", self.bitrate_kbps, 32.0, 128.0)
            check_choice("codec_sr_hz", self.codec_sr_hz, WMA.rates)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(bitrate_kbps=lerp(*cls.strength_range, strength), codec_sr_hz=48000)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        return round_trip(x, sr, WMA, params.bitrate_kbps, params.codec_sr_hz)
