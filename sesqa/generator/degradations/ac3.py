"""AC-3 transcoding (paper C.32): an encode/decode round trip at 2..96 kbps.

AC-3 has no bitrate below 32 kbps at any of its sample rates (32, 44.1, 48 kHz); FFmpeg's encoder
takes the nearest bitrate of the AC-3 table, so requests under 32 kbps encode at 32 kbps, as they
did with the paper's ffmpeg. See docs/codecs.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._codec import CodecSpec, round_trip
from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

AC3 = CodecSpec("ac3", "ac3", rates=(32000, 44100, 48000))


@register
class Ac3(Degradation):
    name = "ac3"
    weight = 0.035
    strength_param = "bitrate_kbps"
    strength_range = (96.0, 2.0)

    @dataclass(frozen=True)
    class Params:
        bitrate_kbps: float
        """Requested bitrate; the encoder uses the nearest AC-3 bitrate (32 kbps at least)."""
        codec_sr_hz: int
        """Sample rate the stream is encoded at."""

        def __post_init__(self) -> None:
            check_range("bitrate_kbps", self.bitrate_kbps, 2.0, 96.0)
            check_choice("codec_sr_hz", self.codec_sr_hz, AC3.rates)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(bitrate_kbps=lerp(*cls.strength_range, strength), codec_sr_hz=48000)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        return round_trip(x, sr, AC3, params.bitrate_kbps, params.codec_sr_hz)
