"""MP3 transcoding with LAME (paper C.31): an encode/decode round trip at 2..96 kbps.

LAME offers 32..320 kbps at 32/44.1/48 kHz (MPEG-1), 8..160 kbps at 16/22.05/24 kHz (MPEG-2) and
8..64 kbps at 8/11.025/12 kHz (MPEG-2.5), so low bitrates need a low sample rate. The rate is the
one LAME itself picks for a mono CBR stream when left to choose (lame.c: `optimum_bandwidth` maps
the bitrate to a lowpass, x1.5 for mono, and `optimum_samplefreq` maps that to a rate). Below 8 kbps
LAME encodes its minimum, 8 kbps; see docs/codecs.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._codec import CodecSpec, round_trip
from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

MP3 = CodecSpec("libmp3lame", "mp3", rates=(8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000))

_LAME_RATES = ((12.0, 8000), (28.0, 16000), (36.0, 22050), (44.0, 24000), (60.0, 32000))
"""(bitrate below which, sample rate) as LAME chooses them for mono CBR; 48 kHz above."""


def lame_sample_rate(bitrate_kbps: float) -> int:
    """The output sample rate LAME chooses for a mono CBR stream at this bitrate."""
    return next((rate for upper, rate in _LAME_RATES if bitrate_kbps < upper), 48000)


@register
class Mp3(Degradation):
    name = "mp3"
    weight = 0.023
    strength_param = "bitrate_kbps"
    strength_range = (96.0, 2.0)

    @dataclass(frozen=True)
    class Params:
        bitrate_kbps: float
        """Requested CBR bitrate; LAME uses the nearest bitrate its MPEG version allows."""
        codec_sr_hz: int
        """Sample rate the stream is encoded at."""

        def __post_init__(self) -> None:
            check_range("bitrate_kbps", self.bitrate_kbps, 2.0, 96.0)
            check_choice("codec_sr_hz", self.codec_sr_hz, MP3.rates)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        bitrate = lerp(*cls.strength_range, strength)
        return cls.Params(bitrate_kbps=bitrate, codec_sr_hz=lame_sample_rate(bitrate))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        return round_trip(x, sr, MP3, params.bitrate_kbps, params.codec_sr_hz)
