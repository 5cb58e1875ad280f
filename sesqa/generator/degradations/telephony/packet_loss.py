"""Packet loss: bursty lost packets (Gilbert model) played as silence, by a receiver without concealment.

The signal is cut into packets of `frame_ms` (10-60 ms, the packet times of VoIP: RFC 3551's
20 ms default, up to the 60 ms of Opus and AMR bundling) on a grid from sample 0, the last partial
packet counting as one. Which packets are lost follows the two-state Gilbert model of `_gilbert.py`
(stationary rate `loss_rate`, geometric bursts of mean `mean_burst_frames`), seeded by `seed`.
A lost packet becomes exact zeros (zero insertion); every received sample is kept bit for bit.
When the generator draws the parameters for a signal, the seed is one that loses at least one
packet of it (at the mildest strength, 1 % of packets lost, 78 % of 1.1 s frames would lose none
and still be labelled packet loss); drawn without a signal, the pattern is the chain's own.
`packet_loss_concealed` draws the same parameters and conceals the gaps instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._int_checks import check_int
from ..base import Degradation, SamplingContext, check_choice, check_range, lerp, register, with_an_event
from ._gilbert import frame_grid, gilbert_losses, sample_mask, transition_probabilities

FRAME_MS = (10, 20, 30, 40, 50, 60)
MEAN_BURST_FRAMES_DRAWN = (1.0, 3.0)
MEAN_BURST_FRAMES_ALLOWED = (1.0, 10.0)
LOSS_RATE_ALLOWED = (0.0, 0.5)
"""Replayable loss rates: wider than the strength range, and every one has a Gilbert chain (p <= 1)."""


@register
class PacketLoss(Degradation):
    name = "packet_loss"
    weight = 0.08
    pool = "telephony"
    strength_param = "loss_rate"
    strength_range = (0.01, 0.30)
    encoders = ()

    @dataclass(frozen=True)
    class Params:
        loss_rate: float
        """Stationary fraction of packets lost."""
        mean_burst_frames: float
        """Mean number of consecutive packets lost in one burst."""
        frame_ms: int
        """Packet duration."""
        seed: int
        """Seed of the loss pattern."""

        def __post_init__(self) -> None:
            check_range("loss_rate", self.loss_rate, *LOSS_RATE_ALLOWED)
            check_range("mean_burst_frames", self.mean_burst_frames, *MEAN_BURST_FRAMES_ALLOWED)
            check_choice("frame_ms", self.frame_ms, FRAME_MS)
            check_int("seed", self.seed, 0, 2**63 - 1)
            transition_probabilities(self.loss_rate, self.mean_burst_frames)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        drawn = cls.Params(
            loss_rate=lerp(*cls.strength_range, strength),
            mean_burst_frames=float(rng.uniform(*MEAN_BURST_FRAMES_DRAWN)),
            frame_ms=FRAME_MS[int(rng.integers(len(FRAME_MS)))],
            seed=0,
        )
        return with_an_event(rng, ctx, drawn, lambda p, c: bool(lost_frames(c.n_samples, c.sr, p)[0].any()))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        y = np.array(x, dtype=np.float32, copy=True).reshape(-1)
        y[lost_samples(len(y), sr, params)] = 0.0
        return y


def lost_frames(n_samples: int, sr: int, params: PacketLoss.Params) -> tuple[np.ndarray, int]:
    """(loss pattern per packet, samples per packet) of `params` over a signal of `n_samples`."""
    frame, n_frames = frame_grid(n_samples, sr, params.frame_ms)
    rng = np.random.default_rng(params.seed)
    return gilbert_losses(rng, n_frames, params.loss_rate, params.mean_burst_frames), frame


def lost_samples(n_samples: int, sr: int, params: PacketLoss.Params) -> np.ndarray:
    """Per-sample mask (True = lost) of `params` over a signal of `n_samples`."""
    lost, frame = lost_frames(n_samples, sr, params)
    return sample_mask(lost, frame, n_samples)
