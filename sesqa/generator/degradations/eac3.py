"""E-AC-3 transcoding (paper C.33): an encode/decode round trip at 16..96 kbps, all at 48 kHz."""

from __future__ import annotations

from ._codec import CodecSpec, CodecTranscoding
from .base import register

EAC3 = CodecSpec("eac3", "eac3", rates=(32000, 44100, 48000))


@register
class Eac3(CodecTranscoding):
    name = "eac3"
    weight = 0.023
    strength_range = (96.0, 16.0)
    spec = EAC3
