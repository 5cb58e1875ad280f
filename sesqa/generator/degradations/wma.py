"""WMA (version 2) transcoding (paper C.35): an encode/decode round trip at 32..128 kbps, 48 kHz."""

from __future__ import annotations

from ._codec import CodecSpec, CodecTranscoding
from .base import register

WMA = CodecSpec(
    "wmav2", "wmav2", rates=(8000, 11025, 16000, 22050, 32000, 44100, 48000), header_format="asf"
)


@register
class Wma(CodecTranscoding):
    name = "wma"
    weight = 0.023
    strength_range = (128.0, 32.0)
    spec = WMA
