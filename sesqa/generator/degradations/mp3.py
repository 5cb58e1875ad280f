"""MP3 transcoding with LAME (paper C.31): an encode/decode round trip at 2..96 kbps.

LAME offers 32..320 kbps at 32/44.1/48 kHz (MPEG-1), 8..160 kbps at 16/22.05/24 kHz (MPEG-2) and
8..64 kbps at 8/11.025/12 kHz (MPEG-2.5), so low bitrates need a low sample rate. The rate is the
one LAME itself picks for a mono CBR stream when left to choose (lame.c: `optimum_bandwidth` maps
the bitrate to a lowpass, x1.5 for mono, and `optimum_samplefreq` maps that to a rate). Below 8 kbps
LAME encodes its minimum, 8 kbps; see docs/codecs.md.
"""

from __future__ import annotations

from ._codec import CodecSpec, CodecTranscoding
from .base import register

MP3 = CodecSpec("libmp3lame", "mp3", rates=(8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000))

_LAME_RATES = ((12.0, 8000), (28.0, 16000), (36.0, 22050), (44.0, 24000), (60.0, 32000))
"""(bitrate below which, sample rate) as LAME chooses them for mono CBR; 48 kHz above."""


def lame_sample_rate(bitrate_kbps: float) -> int:
    """The output sample rate LAME chooses for a mono CBR stream at this bitrate."""
    return next((rate for upper, rate in _LAME_RATES if bitrate_kbps < upper), 48000)


@register
class Mp3(CodecTranscoding):
    name = "mp3"
    weight = 0.023
    strength_range = (96.0, 2.0)
    spec = MP3

    @classmethod
    def codec_sr_hz_for(cls, bitrate_kbps: float) -> int:
        return lame_sample_rate(bitrate_kbps)
