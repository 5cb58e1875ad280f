"""Time regions shared by several degradations: 'whole frame or part of it' and short sections."""

from __future__ import annotations

import numpy as np

from .base import check_range

PART_PROBABILITY = 0.25
"""Paper C.1-4: with this probability an additive degradation covers only part of the frame."""
MIN_PART_S = 0.3


def sample_region(rng: np.random.Generator, n_samples: int, sr: int) -> tuple[int, int]:
    """(start, stop) in samples: the whole frame, or with p 0.25 a part of at least 300 ms."""
    min_len = int(MIN_PART_S * sr)
    if n_samples <= min_len or rng.random() >= PART_PROBABILITY:
        return 0, n_samples
    length = int(rng.integers(min_len, n_samples + 1))
    start = int(rng.integers(0, n_samples - length + 1))
    return start, start + length


def check_region(start: int, stop: int) -> None:
    """Validate a (start, stop) sample region."""
    check_range("start_sample", start, 0, float("inf"))
    if stop <= start:
        raise ValueError(f"stop_sample must be > start_sample ({start}), got {stop}")


def sample_sections(
    rng: np.random.Generator,
    n_samples: int,
    sr: int,
    count: int,
    length_ms: tuple[float, float] = (20.0, 120.0),
) -> tuple[tuple[int, int], ...]:
    """`count` sections (start, stop) in samples with lengths uniform in `length_ms` (paper C.9)."""
    sections = []
    for _ in range(count):
        length = int(rng.uniform(*length_ms) * sr / 1000.0)
        length = max(1, min(length, n_samples))
        start = int(rng.integers(0, n_samples - length + 1))
        sections.append((start, start + length))
    return tuple(sections)
