"""The encoder's input front-end: what no listener hears is taken out before the network looks.

Three steps, each exact rather than learnt, so that training and scoring see the same thing and
no amount of training data is needed to teach them:

1. DC and sub-audio removal. The frame's mean is subtracted, then a zero-phase high-pass
   `x - box(box(x))`, two centred moving averages of length sr / cutoff_hz. Its response is
   1 - sinc^2(f / cutoff): 0 at DC, -14 dB at cutoff / 4, -4.5 dB at cutoff / 2, exactly 1 at
   the cutoff and within 0.4 dB of 1 above it. Moving averages are running sums (cumsum), so
   the step costs O(T) and exports to ONNX (CumSum) where an FFT or a long FIR would not.
2. Level. Each frame is scaled to a fixed RMS (`frame_level_dbfs`), so a 1 s frame and the same
   frame 30 dB quieter give the same input to float precision. The RMS has a floor
   (`LEVEL_FLOOR_DBFS`): a frame quieter than that is digital near-silence and is not blown up
   to speech level. The network never sees absolute level; the scorer reports it instead.
3. Polarity. Each frame is turned so that its third moment is non-negative. Negating a frame
   negates its third moment exactly in floating point, so x and -x give the same input
   whenever that moment is non-zero (voiced speech is strongly asymmetric; an exact zero means
   silence or a perfectly symmetric test signal).

The front-end has no parameters: turning it on does not change a state_dict, so a model
trained without it can be continued with it (`sesqa train --init`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from sesqa.model.config import ModelConfig

LEVEL_FLOOR_DBFS = -80.0
"""Frames whose RMS is below this are scaled as if they were at it (near-silence stays quiet)."""


def _moving_average(x: torch.Tensor, length: int) -> torch.Tensor:
    """Centred moving average of odd `length` over the last axis of (N, T), zeros beyond the edges."""
    half = length // 2
    padded = F.pad(x, (half + 1, half))
    sums = torch.cumsum(padded, dim=-1)
    return (sums[..., length:] - sums[..., :-length]) / length


def remove_subaudio(x: torch.Tensor, sample_rate: int, cutoff_hz: float) -> torch.Tensor:
    """(N, T) frames without their mean and with the band below `cutoff_hz` taken out.

    Frames shorter than one period of the cutoff only lose their mean.
    """
    x = x - x.mean(dim=-1, keepdim=True)
    length = int(round(sample_rate / cutoff_hz)) | 1
    if length >= x.shape[-1]:
        return x
    return x - _moving_average(_moving_average(x, length), length)


def normalise_level(x: torch.Tensor, level_dbfs: float) -> torch.Tensor:
    """(N, T) frames scaled to an RMS of `level_dbfs` (dB re full scale), floored for near-silence."""
    rms = torch.sqrt(torch.mean(x.square(), dim=-1, keepdim=True))
    floor = 10.0 ** (LEVEL_FLOOR_DBFS / 20.0)
    return x * (10.0 ** (level_dbfs / 20.0) / torch.clamp_min(rms, floor))


def canonical_polarity(x: torch.Tensor) -> torch.Tensor:
    """(N, T) frames each multiplied by +-1 so that its third moment is >= 0."""
    third = torch.sum(x * x * x, dim=-1, keepdim=True)
    return torch.where(third < 0, -x, x)


class FrontEnd(nn.Module):
    """Frames (N, T) -> frames (N, T) with DC, sub-audio, level and polarity taken out (as configured)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.sample_rate = cfg.sample_rate
        self.cutoff_hz = cfg.dc_cutoff_hz
        self.level_dbfs = cfg.frame_level_dbfs
        self.polarity = cfg.canonical_polarity

    @property
    def active(self) -> bool:
        """False for checkpoints made before the front-end existed: then it passes frames through."""
        return self.cutoff_hz > 0 or self.level_dbfs is not None or self.polarity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return x
        # Computed in float32 even under bf16 autocast: an RMS or a third moment in bf16 would
        # make two gains of one frame differ by more than the scores' float precision.
        dtype = x.dtype
        x = x.float()
        if self.cutoff_hz > 0:
            x = remove_subaudio(x, self.sample_rate, self.cutoff_hz)
        if self.level_dbfs is not None:
            x = normalise_level(x, self.level_dbfs)
        if self.polarity:
            x = canonical_polarity(x)
        return x.to(dtype)

    def extra_repr(self) -> str:
        level = "off" if self.level_dbfs is None else f"{self.level_dbfs:g} dBFS"
        cutoff = "off" if self.cutoff_hz <= 0 else f"{self.cutoff_hz:g} Hz"
        return f"high-pass={cutoff}, level={level}, canonical_polarity={self.polarity}"

