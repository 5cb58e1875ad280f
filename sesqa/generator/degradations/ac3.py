"""AC-3 transcoding (paper C.32): an encode/decode round trip at 2..96 kbps.

AC-3 has no bitrate below 32 kbps at any of its sample rates (32, 44.1, 48 kHz); FFmpeg's encoder
takes the nearest bitrate of the AC-3 table, so requests under 32 kbps encode at 32 kbps, as they
did with the paper's ffmpeg. See docs/codecs.md.
"""

from __future__ import annotations

from ._codec import CodecSpec, CodecTranscoding
from .base import register

AC3 = CodecSpec("ac3", "ac3", rates=(32000, 44100, 48000))


@register
class Ac3(CodecTranscoding):
    name = "ac3"
    weight = 0.035
    strength_range = (96.0, 2.0)
    spec = AC3
