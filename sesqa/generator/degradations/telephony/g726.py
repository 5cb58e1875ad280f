"""G.726 (ITU-T G.726): ADPCM of DECT cordless phones and trunk lines, at 40, 32, 24 or 16 kbps.

G.726 codes 8 kHz speech sample by sample as the quantised difference from an adaptive
prediction, with 5, 4, 3 or 2 bits per sample (40, 32, 24 or 16 kbps; 32 kbps is the G.721 rate of
DECT). The round trip runs FFmpeg's `g726` encoder and decoder; the decoder learns the code size
from a WAV header. Strength steps through the four rates from 40 to 16 kbps.
"""

from __future__ import annotations

from .._codec import CodecSpec, CodecTranscoding
from ..base import register

G726 = CodecSpec("g726", "g726", rates=(8000,), header_format="wav")
RATES_KBPS = (40.0, 32.0, 24.0, 16.0)


@register
class G726Adpcm(CodecTranscoding):
    name = "g726"
    weight = 0.07
    pool = "telephony"
    spec = G726
    modes_kbps = RATES_KBPS
