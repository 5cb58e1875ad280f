"""Speaker-disjoint train/valid/test splits that depend only on the speakers' names.

Speakers are ordered by a hash of their name (SHA-1, as `generator.sources.assign_splits`), so a
speaker's split does not depend on the order sources were read. First, the first speaker of each
language in that order is kept in train, so every language is represented in train. Then each
source (the part of the name before ':') gives valid and test its share of its own speakers,
rounded half up (a source of 10 speakers gives each one), from the others in hash order: the splits mirror the mix of sources (full-band and
narrow-band, languages) instead of holding only the largest source's speakers. A split left with
fewer than `min_per_split` speakers is topped up from the remaining ones, in hash order.

A train share of 0 makes a held-out set: no speaker is kept in train for its language, so
ratios (0, 0, 1) put every speaker in test (the full-band check set, `corpora.FULLBAND_RECIPES`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

DEFAULT_RATIOS = (0.9, 0.05, 0.05)
MIN_SPEAKERS_PER_SPLIT = 3
"""valid and test get at least this many speakers when there are enough to spare."""


def _hash(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()


def assign_speaker_splits(
    speaker_language: Mapping[str, str],
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    min_per_split: int = MIN_SPEAKERS_PER_SPLIT,
) -> dict[str, str]:
    """Map each speaker (`<source>:<id>`) to train, valid or test; `speaker_language` gives each
    speaker's language. A speaker alone in its language goes to train, unless the train share is 0."""
    if len(ratios) != 3 or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise ValueError(f"ratios must be three non-negative numbers train,valid,test with a positive sum, got {ratios}")
    if min_per_split < 0:
        raise ValueError(f"min_per_split must be >= 0, got {min_per_split}")
    order = sorted(speaker_language, key=_hash)
    first_of_language: dict[str, str] = {}
    for speaker in order:
        first_of_language.setdefault(speaker_language[speaker], speaker)
    pinned = set(first_of_language.values()) if ratios[0] > 0 else set()
    out = {s: "train" for s in order}
    total = sum(ratios)
    held = [("test", ratios[2] / total), ("valid", ratios[1] / total)]
    by_source: dict[str, list[str]] = {}
    for speaker in order:
        by_source.setdefault(speaker.split(":", 1)[0], []).append(speaker)
    for speakers in by_source.values():
        free = [s for s in speakers if s not in pinned]
        for split, share in held:
            count = math.floor(len(speakers) * share + 0.5)
            for s in free[:count]:
                out[s] = split
            free = free[count:]
    for split, share in held:  # top up a short split; test leaves half of what is spare to valid
        if share == 0:
            continue
        spare = [s for s in order if out[s] == "train" and s not in pinned]
        missing = min_per_split - sum(1 for v in out.values() if v == split)
        for s in spare[: max(0, min(missing, len(spare) // 2 if split == "test" else len(spare)))]:
            out[s] = split
    return out
