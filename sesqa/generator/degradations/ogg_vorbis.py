"""Ogg Vorbis transcoding with libvorbis (paper C.36): a round trip at 32..64 kbps, 48 kHz.

PyAV's FFmpeg build has no libvorbis (only FFmpeg's experimental native encoder), so this runs
through the ffmpeg binary of the imageio-ffmpeg wheel. libvorbis's lowest average bitrate for mono
48 kHz is 32 kbps, the bottom of the paper's range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._codec import CodecSpec, round_trip
from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

VORBIS = CodecSpec("libvorbis", "vorbis", rates=(8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000))


@register
class OggVorbis(Degradation):
    name = "ogg_vorbis"
    weight = 0.023
    strength_param = "bitrate_kbps"
    strength_range = (64.0, 32.0)

    @dataclass(frozen=True)
    class Params:
        bitrate_kbps: float
        """Average (managed) bitrate."""
        codec_sr_hz: int
        """Sample rate the stream is encoded at."""

        def __post_init__(self) -> None:
            check_range("bitrate_kbps", self.bitrate_kbps, 32.0, 64.0)
            check_choice("codec_sr_hz", self.codec_sr_hz, VORBIS.rates)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(bitrate_kbps=lerp(*cls.strength_range, strength), codec_sr_hz=48000)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        return round_trip(x, sr, VORBIS, params.bitrate_kbps, params.codec_sr_hz)
