"""AMR-NB transcoding (3GPP TS 26.090): the narrowband speech codec of GSM and UMTS calls, 4.75..12.2 kbps.

AMR-NB codes 8 kHz speech in 20 ms frames by ACELP in one of eight modes, 12.2 kbps (the GSM
enhanced full rate codec) down to 4.75 kbps; the network lowers the mode when the radio channel
degrades. The round trip runs libopencore-amrnb through FFmpeg (`libopencore_amrnb` encoder,
`amrnb` decoder). Strength steps through the eight modes from 12.2 to 4.75 kbps.
"""

from __future__ import annotations

from .._codec import CodecSpec, CodecTranscoding
from ..base import register

AMR_NB = CodecSpec("libopencore_amrnb", "amrnb", rates=(8000,), lead_samples=10)
"""lead_samples: the decoded audio leads the input by 10 samples at 8 kHz once placed by its
timestamps (cross-correlation peak on noise and on a formant-shaped voiced signal: 10.03 to 10.13
samples in all eight modes, the same in both back ends)."""
MODES_KBPS = (12.2, 10.2, 7.95, 7.4, 6.7, 5.9, 5.15, 4.75)
"""The eight AMR-NB modes (TS 26.090), best first."""


@register
class AmrNb(CodecTranscoding):
    name = "amr_nb"
    weight = 0.11
    pool = "telephony"
    spec = AMR_NB
    modes_kbps = MODES_KBPS
