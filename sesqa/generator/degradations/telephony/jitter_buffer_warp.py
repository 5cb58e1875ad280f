"""Jitter-buffer warp: segments repeated or dropped as an adaptive jitter buffer stretches and catches up.

An adaptive jitter buffer (e.g. WebRTC's NetEq) changes its delay by warping the playout: on an
underflow it plays a stretch again (the delay grows), and when too much has built up it skips one
(the delay shrinks). Here, at the instants of a Poisson process in playout time (`events_per_s`),
a segment of `segment_ms` is repeated or dropped, each splice smoothed by a raised-cosine
cross-fade of `crossfade_ms` centred on it. The playout delay (output time minus input time)
stays within 0 .. `MAX_OFFSET_SEGMENTS` segments: the first event is always a repeat, an event at
zero delay repeats, one at the largest delay drops, any other repeats or drops with equal odds.
Unlike NetEq's pitch-synchronous accelerate/expand, the segment is not aligned to the pitch.

An event is skipped where it cannot happen: before a whole segment (plus half a cross-fade) has
been played, or where its cross-fade would overlap the previous event's. The output is the first
n samples of the warped playout, so the length is kept without padding (the delay is >= 0).
When the generator draws the parameters for a signal, the seed is one with at least one event
on it (at the mildest 0.5 events/s, 59 % of 1.1 s frames would have none); drawn without a
signal, the events are the Poisson process's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._int_checks import check_int
from ..base import Degradation, SamplingContext, check_range, lerp, register, with_an_event

SEGMENT_MS_RANGE = (10.0, 20.0)
CROSSFADE_MS = 2.5
MAX_OFFSET_SEGMENTS = 4
"""Largest playout delay the buffer builds up, in segments."""


@register
class JitterBufferWarp(Degradation):
    name = "jitter_buffer_warp"
    weight = 0.06
    pool = "telephony"
    strength_param = "events_per_s"
    strength_range = (0.5, 8.0)
    encoders = ()

    @dataclass(frozen=True)
    class Params:
        events_per_s: float
        """Rate of the Poisson process of warp events (repeats and drops)."""
        segment_ms: float
        """Duration of the stretch repeated or dropped by one event."""
        crossfade_ms: float
        """Length of the raised-cosine cross-fade over each splice."""
        seed: int
        """Seed of the event times and kinds."""

        def __post_init__(self) -> None:
            check_range("events_per_s", self.events_per_s, 0.0, 20.0)
            check_range("segment_ms", self.segment_ms, 5.0, 40.0)
            check_range("crossfade_ms", self.crossfade_ms, 0.5, 5.0)
            check_int("seed", self.seed, 0, 2**63 - 1)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        drawn = cls.Params(
            events_per_s=lerp(*cls.strength_range, strength),
            segment_ms=float(rng.uniform(*SEGMENT_MS_RANGE)),
            crossfade_ms=CROSSFADE_MS,
            seed=0,
        )
        return with_an_event(rng, ctx, drawn, lambda p, c: len(warp_events(c.n_samples, c.sr, p)[0]) > 0)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        n = len(x)
        splices, offsets = warp_events(n, sr, params)
        # Output sample j plays input sample j - delay(j); the delay changes at each splice.
        j = np.arange(n)
        delay = np.concatenate([[0], offsets])[np.searchsorted(splices, j, side="right")]
        y = x[j - delay].astype(np.float64)
        fade = _samples(params.crossfade_ms, sr)
        half = fade // 2
        w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
        before = np.concatenate([[0], offsets[:-1]]) if len(offsets) else offsets
        for at, old, new in zip(splices, before, offsets):
            k = np.arange(at - half, min(at - half + fade, n))
            y[k] = (1.0 - w[: len(k)]) * x[k - old] + w[: len(k)] * x[k - new]
        return y.astype(np.float32)


def warp_events(n_samples: int, sr: int, params: JitterBufferWarp.Params) -> tuple[np.ndarray, np.ndarray]:
    """(splice sample, playout delay in samples after it) of every event applied to `n_samples`.

    Splices are output sample indices, sorted; the delay is 0 before the first one.
    """
    rng = np.random.default_rng(params.seed)
    count = int(rng.poisson(params.events_per_s * n_samples / sr))
    times = np.sort(rng.integers(0, n_samples, size=count)) if n_samples else np.zeros(0, dtype=np.int64)
    coins = rng.random(count) < 0.5
    segment = _samples(params.segment_ms, sr)
    fade = _samples(params.crossfade_ms, sr)
    half = fade // 2
    splices: list[int] = []
    offsets: list[int] = []
    delay = 0
    for at, coin in zip(times.tolist(), coins.tolist()):
        if splices and at - splices[-1] <= fade:
            continue
        repeat = delay == 0 or (delay < MAX_OFFSET_SEGMENTS * segment and coin)
        new = delay + segment if repeat else delay - segment
        if at - half - new < 0:  # the segment to repeat has not been played yet
            continue
        delay = new
        splices.append(at)
        offsets.append(delay)
    return np.asarray(splices, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def _samples(ms: float, sr: int) -> int:
    return max(1, int(round(ms * sr / 1000.0)))
