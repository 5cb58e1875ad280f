"""The paper's B.3 procedure: a clean frame -> x_i -> x_j on top -> a delay -> four 1 s frames."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..audio import SAMPLE_RATE
from ..shards.schema import DegradationStep
from .degradations import REGISTRY, AppliedDegradation, DegradationError, SamplingContext
from .degradations.band_limit import for_source
from .degradations.base import NoiseSource
from .degradations.pools import DEFAULT_POOL, pool_weights
from .sources import Frame, FrameSampler, read_frame

log = logging.getLogger(__name__)

FRAME_S = 1.0
MAX_DELAY_S = 0.1
N_DEGRADATIONS_I = ((0, 1, 2), (0.84, 0.12, 0.04))
"""How many degradations make x_i, and their probabilities."""
N_DEGRADATIONS_J = ((1, 2, 3, 4), (0.75, 0.20, 0.04, 0.01))
"""How many further degradations, on top of x_i, make x_j."""
MAX_REDRAWS = 20


@dataclass(frozen=True)
class DegradationPool:
    """A pool of the registry (`pools.py`) as names and draw probabilities (summing to 1)."""

    names: tuple[str, ...]
    probabilities: np.ndarray

    @classmethod
    def from_registry(cls, pool: str = DEFAULT_POOL, balance: float = 0.0) -> "DegradationPool":
        weights = pool_weights(pool, balance)
        names = tuple(weights)  # sorted by name
        w = np.array([weights[n] for n in names], dtype=np.float64)
        return cls(names, w / w.sum())

    def draw(self, rng: np.random.Generator) -> str:
        return self.names[int(rng.choice(len(self.names), p=self.probabilities))]


@dataclass(frozen=True)
class Quadruple:
    """x_i and x_j as 1 s + delay signals; the four frames are their first and delayed 1 s."""

    frame: Frame
    chain_i: tuple[AppliedDegradation, ...]
    """Applied to the clean frame; a band-limited source's band limit comes first."""
    chain_j: tuple[AppliedDegradation, ...]
    """Applied on top of x_i."""
    delay_samples: int
    x_i: np.ndarray
    x_j: np.ndarray

    @property
    def frame_samples(self) -> int:
        return len(self.x_i) - self.delay_samples

    def frames(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x_ik, x_il, x_jk, x_jl): offsets 0 and delay of x_i and of x_j."""
        n, d = self.frame_samples, self.delay_samples
        return self.x_i[:n], self.x_i[d : d + n], self.x_j[:n], self.x_j[d : d + n]


class QuadrupleMaker:
    """Builds quadruples from clean frames, a noise source and the degradation pool."""

    def __init__(
        self, frames: FrameSampler, noise: NoiseSource | None, sr: int = SAMPLE_RATE, pool: str = DEFAULT_POOL, balance: float = 0.0
    ):
        self.frames = frames
        self.noise = noise
        self.sr = sr
        self.pool = DegradationPool.from_registry(pool, balance)
        self.failures = 0
        """Degradations that failed and were redrawn."""

    def make(self, rng: np.random.Generator) -> Quadruple:
        frame = self.frames.sample(rng)
        source_steps = for_source(frame.source.band_edge_hz)
        counts, probs = N_DEGRADATIONS_I
        talkers = OtherTalkers(self.frames, frame.source.group)
        x_i, drawn_i = self._degrade(replay_chain(frame.audio, source_steps, self.sr), int(rng.choice(counts, p=probs)), rng, talkers)
        chain_i = source_steps + drawn_i
        counts, probs = N_DEGRADATIONS_J
        x_j, chain_j = self._degrade(x_i, int(rng.choice(counts, p=probs)), rng, talkers)
        delay = int(rng.integers(0, int(MAX_DELAY_S * self.sr) + 1))
        n = int(FRAME_S * self.sr) + delay
        return Quadruple(frame, chain_i, chain_j, delay, x_i[:n].copy(), x_j[:n].copy())

    def _degrade(
        self, x: np.ndarray, count: int, rng: np.random.Generator, talkers: "OtherTalkers"
    ) -> tuple[np.ndarray, tuple[AppliedDegradation, ...]]:
        ctx = SamplingContext(n_samples=len(x), sr=self.sr, noise=self.noise, talkers=talkers)
        chain: list[AppliedDegradation] = []
        for _ in range(count):
            for _attempt in range(MAX_REDRAWS):
                try:
                    step = self._draw(rng, ctx)
                    x = step.apply(x, self.sr)
                except DegradationError as e:
                    self.failures += 1
                    log.warning("degradation failed, redrawing: %s", e)
                    continue
                chain.append(step)
                break
            else:
                raise RuntimeError(f"{MAX_REDRAWS} degradations in a row failed; see the warnings above")
        return x, tuple(chain)

    def _draw(self, rng: np.random.Generator, ctx: SamplingContext) -> AppliedDegradation:
        name = self.pool.draw(rng)
        strength = float(rng.uniform())
        return AppliedDegradation(name, strength, REGISTRY[name].sample_params(rng, strength, ctx))


@dataclass(frozen=True)
class OtherTalkers:
    """competing_talker's source: active speech of the frame's split by a speaker (split group)
    other than the frame's own."""

    frames: FrameSampler
    group: str

    def sample(self, rng: np.random.Generator, duration_s: float) -> tuple[str, float] | None:
        if duration_s > self.frames.frame_s + 1e-9:
            raise ValueError(f"duration_s must be <= {self.frames.frame_s} s (the clean frame), got {duration_s}")
        frame = self.frames.sample_other_talker(rng, self.group)
        return None if frame is None else (frame.source.path, frame.offset_s)


def replay_chain(x: np.ndarray, chain: Sequence[AppliedDegradation | DegradationStep], sr: int = SAMPLE_RATE) -> np.ndarray:
    """Apply a recorded chain again, step by step; stored steps get their typed params back first.

    Raises ValueError before touching the signal when a stored step has an unknown type or bad params.
    """
    steps = [s if isinstance(s, AppliedDegradation) else AppliedDegradation.from_step(s) for s in chain]
    for step in steps:
        x = step.apply(x, sr)
    return x


def regenerate(
    source_path: str,
    offset_s: float,
    duration_s: float,
    chain_i: Sequence[AppliedDegradation | DegradationStep],
    chain_j: Sequence[AppliedDegradation | DegradationStep],
    delay_samples: int,
    sr: int = SAMPLE_RATE,
    dc_removed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """x_i and x_j (1 s + delay) rebuilt from a record alone: source (and whether its DC offset was
    removed), chains (as stored or typed), delay."""
    x_i = replay_chain(read_frame(source_path, offset_s, duration_s, sr, remove_dc=dc_removed), chain_i, sr)
    x_j = replay_chain(x_i, chain_j, sr)
    n = int(FRAME_S * sr) + delay_samples
    return x_i[:n], x_j[:n]
