"""Shared body of the section degradations (paper C.9-13): 1..10 short sections are edited.

The sections are drawn once by `sample_sections` and stored as flat `starts` / `stops`
tuples (JSON keeps them as lists of scalars), so a sample replays exactly. `apply` clips
them to the signal it gets, so a shorter signal is still handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._int_checks import check_int
from ._sections import sample_sections
from .base import Degradation, SamplingContext, lerp

MAX_SECTIONS = 100
"""Largest section count a Params accepts when replayed (sampling uses 1..10)."""


@dataclass(frozen=True)
class SectionParams:
    """Where the sections are: `section_count` pairs of [start, stop) sample indices."""

    section_count: int
    starts: tuple[int, ...]
    stops: tuple[int, ...]

    def __post_init__(self) -> None:
        check_int("section_count", self.section_count, 1, MAX_SECTIONS)
        for name, values in (("starts", self.starts), ("stops", self.stops)):
            if not isinstance(values, tuple) or len(values) != self.section_count:
                raise ValueError(f"{name} must be a tuple of section_count ({self.section_count}) ints, got {values!r}")
        for start, stop in zip(self.starts, self.stops):
            check_int("starts", start, 0, float("inf"))
            check_int("stops", stop, start + 1, float("inf"))


def clipped_sections(params: SectionParams, n: int) -> list[tuple[int, int]]:
    """The non-empty sections within a signal of n samples."""
    return [(a, min(b, n)) for a, b in zip(params.starts, params.stops) if a < n]


def section_mask(params: SectionParams, n: int) -> np.ndarray:
    """Boolean mask of the samples inside any section."""
    edges = np.zeros(n + 1, dtype=np.int32)
    for a, b in clipped_sections(params, n):
        edges[a] += 1
        edges[b] -= 1
    return np.cumsum(edges[:n]) > 0


class SectionDegradation(Degradation):
    """Base of the section degradations: strength sets how many sections are edited."""

    strength_param = "section_count"
    strength_range = (1, 10)
    Params: ClassVar[type[SectionParams]]

    @classmethod
    def sample_extra(cls, rng: np.random.Generator, count: int, ctx: SamplingContext) -> dict[str, Any]:
        """Draw the parameters beyond the sections (gains, noise level, seed ...)."""
        return {}

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> SectionParams:
        count = int(round(lerp(*cls.strength_range, strength)))
        sections = sample_sections(rng, ctx.n_samples, ctx.sr, count)
        return cls.Params(
            section_count=count,
            starts=tuple(int(a) for a, _ in sections),
            stops=tuple(int(b) for _, b in sections),
            **cls.sample_extra(rng, count, ctx),
        )
