"""Opus transcoding with libopus (paper C.37): an encode/decode round trip at 2..64 kbps.

Opus always runs at 48 kHz and picks its own audio bandwidth for the bitrate (narrowband SILK at
the bottom). libopus accepts any bitrate from 0.5 kbps but with its default 20 ms frames spends
about 4.6 kbps at least, so requests below ~5 kbps give its minimum; see docs/codecs.md. The
encoder's application mode (VoIP-tuned or general audio) is drawn at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._codec import CodecSpec, round_trip
from .base import Degradation, SamplingContext, check_choice, check_range, lerp, register

OPUS = CodecSpec("libopus", "opus", rates=(48000,))
APPLICATIONS = ("voip", "audio")


@register
class Opus(Degradation):
    name = "opus"
    weight = 0.046
    strength_param = "bitrate_kbps"
    strength_range = (64.0, 2.0)
    encoders = (OPUS.encoder,)

    @dataclass(frozen=True)
    class Params:
        bitrate_kbps: float
        codec_sr_hz: int
        """Sample rate the stream is encoded at (Opus: 48 kHz)."""
        application: str
        """libopus application mode: "voip" (speech-tuned) or "audio"."""

        def __post_init__(self) -> None:
            check_range("bitrate_kbps", self.bitrate_kbps, 2.0, 64.0)
            check_choice("codec_sr_hz", self.codec_sr_hz, OPUS.rates)
            check_choice("application", self.application, APPLICATIONS)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Params:
        return cls.Params(
            bitrate_kbps=lerp(*cls.strength_range, strength),
            codec_sr_hz=48000,
            application=APPLICATIONS[int(rng.integers(len(APPLICATIONS)))],
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        options = (("application", params.application),)
        return round_trip(x, sr, OPUS, params.bitrate_kbps, params.codec_sr_hz, options)
