"""Packet loss with concealment: lost packets filled by pitch-period repetition (after G.711 Appendix I).

The loss pattern is `packet_loss`'s, with the same parameters: packets of `frame_ms` on a grid
from sample 0, lost after the two-state Gilbert model (`loss_rate`, `mean_burst_frames`, `seed`).
A receiver with packet-loss concealment plays the gaps as the last pitch period repeated, fading
to silence over 10-60 ms of consecutive loss and cross-faded into the packets around them
(`_concealment.py`, after ITU-T G.711 Appendix I). This is what most VoIP receivers play for the
codecs without a concealment of their own (why not the codec's own: `_concealment.py`).
"""

from __future__ import annotations

import numpy as np

from ..base import register
from ._concealment import conceal
from .packet_loss import PacketLoss, lost_samples


@register
class PacketLossConcealed(PacketLoss):
    name = "packet_loss_concealed"
    weight = 0.09

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: PacketLoss.Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        return conceal(x, lost_samples(len(x), sr, params), sr)
