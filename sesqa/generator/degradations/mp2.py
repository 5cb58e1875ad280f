"""MPEG-1 Layer II transcoding (paper C.34): an encode/decode round trip at 32..96 kbps, 48 kHz.

FFmpeg's mp2 encoder accepts only the bitrates of the Layer II tables and refuses any other, so the
requested bitrate is snapped to the nearest one (32, 48, 56, 64, 80, 96 kbps at 32..48 kHz).
"""

from __future__ import annotations

import numpy as np

from ._codec import CodecSpec, CodecTranscoding, round_trip
from .base import register

MP2 = CodecSpec("mp2", "mp2", rates=(16000, 22050, 24000, 32000, 44100, 48000))

LAYER2_KBPS = (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384)
"""MPEG-1 Layer II bitrates (32, 44.1, 48 kHz)."""
LAYER2_LSF_KBPS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
"""MPEG-2 low-sampling-frequency Layer II bitrates (16, 22.05, 24 kHz)."""


def layer2_bitrate(bitrate_kbps: float, codec_sr_hz: int) -> int:
    """The Layer II bitrate nearest to the requested one at this sample rate."""
    table = LAYER2_KBPS if codec_sr_hz >= 32000 else LAYER2_LSF_KBPS
    return min(table, key=lambda b: abs(b - bitrate_kbps))


@register
class Mp2(CodecTranscoding):
    name = "mp2"
    weight = 0.023
    strength_range = (96.0, 32.0)
    spec = MP2

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: CodecTranscoding.Params) -> np.ndarray:
        bitrate = layer2_bitrate(params.bitrate_kbps, params.codec_sr_hz)
        return round_trip(x, sr, MP2, bitrate, params.codec_sr_hz)
