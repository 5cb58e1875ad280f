"""G.722 (ITU-T G.722): 7 kHz wideband SB-ADPCM of HD voice, at 64, 56 or 48 kbps.

G.722 splits 16 kHz speech into two sub-bands by a QMF bank and codes each by ADPCM, 6 bits per
low-band sample and 2 per high-band one: 64 kbps. Its modes 2 and 3 give the low band only 5 or
4 of those bits (56 or 48 kbps of speech) and leave the rest of each 8-bit codeword to an auxiliary
data channel. The FFmpeg encoder (`g722`) always fills the 64 kbps channel; the lower modes are
decoded as a mode-2/3 receiver would, reading 7 or 6 bits of each codeword (decoder option
`bits_per_codeword`) and ignoring the low bits. Strength steps through 64, 56 and 48 kbps.
"""

from __future__ import annotations

import numpy as np

from .._codec import CodecSpec, CodecTranscoding, round_trip
from ..base import register

G722 = CodecSpec("g722", "g722", rates=(16000,))
CHANNEL_KBPS = 64.0
"""What the encoder emits in every mode."""
BITS_PER_CODEWORD = {64.0: 8, 56.0: 7, 48.0: 6}
"""Bits of each 8-bit codeword the decoder reads in each mode (G.722 modes 1, 2, 3)."""
MODES_KBPS = tuple(BITS_PER_CODEWORD)


@register
class G722Wideband(CodecTranscoding):
    name = "g722"
    weight = 0.07
    pool = "telephony"
    spec = G722
    modes_kbps = MODES_KBPS

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: CodecTranscoding.Params) -> np.ndarray:
        bits = str(BITS_PER_CODEWORD[params.bitrate_kbps])
        return round_trip(x, sr, G722, CHANNEL_KBPS, params.codec_sr_hz, decoder_options=(("bits_per_codeword", bits),))
