"""Call chain: 2-3 telephony impairments in a call's order (channel -> codec -> transport), drawn as one.

A call does not meet one impairment alone: the speech is band-limited by the terminal and the
network, coded, and its packets are then lost or warped by the jitter buffer. A chain draws a
codec, then either a channel in front of it, a transport impairment after it, or both, always in
that order. The channel's band follows the codec's (300-3,400 Hz for the 8 kHz codecs and
Opus coding narrowband, 50-7,000 Hz otherwise). Every part is drawn at the chain's strength and logged
with its own params, so a chain replays exactly and its parts can be read from the shard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..base import REGISTRY, AppliedDegradation, Degradation, SamplingContext, check_range, register
from .opus_voip import coded_bandwidth

CHANNEL = "telephone_channel"
CODECS = ("amr_nb", "g711", "g722", "g726", "gsm_full_rate", "opus_voip")
TRANSPORT = ("packet_loss", "packet_loss_concealed", "jitter_buffer_warp")
STAGES = ((CHANNEL,), CODECS, TRANSPORT)
"""The order parts run in: at most one from each stage, the codec always."""
WIDEBAND_CODECS = ("g722",)
SHAPES = ((True, False), (False, True), (True, True))
"""(with a channel, with a transport impairment) around the codec, equally likely."""


def codec_band(codec: AppliedDegradation) -> str:
    """The channel band ("narrowband" or "wideband") a codec step carries."""
    if codec.type == "opus_voip":
        return "narrowband" if coded_bandwidth(codec.params) == "narrowband" else "wideband"
    return "wideband" if codec.type in WIDEBAND_CODECS else "narrowband"


def _stage(name: str) -> int:
    return next(i for i, members in enumerate(STAGES) if name in members)


@register
class CallChain(Degradation):
    name = "call_chain"
    weight = 0.11
    pool = "telephony"
    strength_param = "part_strength"
    strength_range = (0.0, 1.0)

    @dataclass(frozen=True)
    class Params:
        part_strength: float
        """The strength every part was drawn at."""
        parts: tuple[dict[str, Any], ...]
        """The steps in the order they run, each {"type", "strength", "params"} as a shard stores it."""

        def __post_init__(self) -> None:
            check_range("part_strength", self.part_strength, 0.0, 1.0)
            if not 2 <= len(self.parts) <= 3:
                raise ValueError(f"parts must hold 2 or 3 steps, got {len(self.parts)}")
            steps = [_parse(part) for part in self.parts]
            stages = [_stage(step.type) for step in steps]
            if stages != sorted(set(stages)) or 1 not in stages:
                raise ValueError(
                    "parts must be one codec with at most a channel before it and a transport impairment "
                    f"after it ({' -> '.join('|'.join(s) for s in STAGES)}), got {[s.type for s in steps]}"
                )

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        with_channel, with_transport = SHAPES[int(rng.integers(len(SHAPES)))]
        codec = _draw(CODECS[int(rng.integers(len(CODECS)))], rng, strength, ctx)
        steps = [codec]
        if with_channel:
            band = codec_band(codec)
            steps.insert(0, AppliedDegradation(CHANNEL, strength, REGISTRY[CHANNEL].for_band(band, rng)))
        if with_transport:
            steps.append(_draw(TRANSPORT[int(rng.integers(len(TRANSPORT)))], rng, strength, ctx))
        return cls.Params(part_strength=strength, parts=tuple(step.to_dict() for step in steps))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        for part in params.parts:
            step = _parse(part)
            x = REGISTRY[step.type].apply(x, sr, step.params)
        return np.asarray(x, dtype=np.float32)


def _draw(name: str, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> AppliedDegradation:
    return AppliedDegradation(name, strength, REGISTRY[name].sample_params(rng, strength, ctx))


def _parse(part: dict[str, Any]) -> AppliedDegradation:
    """A stored part as a typed step; ValueError for a part outside the chain's stages or bad params."""
    kind = part.get("type") if isinstance(part, dict) else None
    if not any(kind in members for members in STAGES):
        raise ValueError(f"parts: {kind!r} is not a telephony channel, codec or transport impairment")
    return AppliedDegradation.from_dict(part)
