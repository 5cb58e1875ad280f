"""Model scores of the four 1 s frames of every quadruple in generated WebDataset shards.

`sesqa evaluate --shards` computes R_RANK and L_CONS (and E_TOTAL with labels) from them, the
same two per type of degradation (`by_first_type`), and draws the strength figure from what was
done to each quadruple.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...measures.criteria import l_cons_quadruples, r_rank_quadruples

if TYPE_CHECKING:
    from ...scoring.scorer import Scorer
    from ...shards.schema import QuadrupleRecord

log = logging.getLogger(__name__)

SHARD_BATCH = 32
"""Quadruples per forward pass when scoring shards (4 frames each)."""


@dataclass(frozen=True)
class ShardScores:
    """Frame scores of generated quadruples and what was done to them (for the strength figure)."""

    scores: np.ndarray
    """(Q, 4): x_ik, x_il, x_jk, x_jl."""
    first_type: tuple[str, ...]
    """Type of the first degradation x_j got on top of x_i."""
    first_strength: np.ndarray
    clean_i: np.ndarray
    """True where x_i is undegraded."""
    n_shards: int


@dataclass(frozen=True)
class TypeFigures:
    """R_RANK and L_CONS of the quadruples whose x_j got `type` first on top of x_i."""

    type: str
    n: int
    r_rank: float
    l_cons: float


def by_first_type(scores: ShardScores) -> tuple[TypeFigures, ...]:
    """R_RANK and L_CONS per first degradation of x_j, by type name: where a model orders
    degraded speech well and where it does not (no intervals: a few dozen quadruples a type)."""
    types = np.asarray(scores.first_type)
    out = []
    for t in sorted(set(scores.first_type)):
        q = scores.scores[types == t]
        out.append(TypeFigures(t, len(q), r_rank_quadruples(*q.T), l_cons_quadruples(*q.T)))
    return tuple(out)


def split_shards(directory: Path, split: str) -> list[Path]:
    """The ``<directory>/<split>-*.tar`` shards in order; ValueError naming the folder when there are none."""
    shards = sorted(Path(directory).glob(f"{split}-*.tar"))
    if not shards:
        raise ValueError(f"{directory}: no {split}-*.tar shards (generate them with `sesqa generate --out {directory}`, or pick --split)")
    return shards


def quadruple_batches(
    shards: list[Path], frame_samples: int, sample_rate: int, max_quadruples: int | None = None, batch: int = SHARD_BATCH
) -> Iterator[tuple[list[QuadrupleRecord], np.ndarray]]:
    """(records, frames (quadruples, 4, T) float32) of up to ``batch`` quadruples at a time, in shard order.

    ValueError naming the shard when a quadruple's frames are not the model's (length, rate).
    """
    from ...shards.reader import read_shard

    limit = max_quadruples if max_quadruples is not None else math.inf
    records: list[QuadrupleRecord] = []
    frames: list[np.ndarray] = []
    seen = 0
    for shard in shards:
        for sample in read_shard(shard):
            record = sample.record
            if record.frame_samples != frame_samples or record.sample_rate != sample_rate:
                raise ValueError(
                    f"{shard}: quadruple {record.key} has {record.frame_samples}-sample frames at {record.sample_rate} Hz; "
                    f"the model takes {frame_samples} at {sample_rate} Hz"
                )
            records.append(record)
            frames.append(np.stack(sample.frames()).astype(np.float32))
            seen += 1
            if len(records) == batch:
                yield records, np.stack(frames)
                records, frames = [], []
            if seen >= limit:
                break
        if seen >= limit:
            break
    if records:
        yield records, np.stack(frames)


def score_shards(scorer: Scorer, directory: Path, split: str = "test", max_quadruples: int | None = None) -> ShardScores:
    """Score the four frames of every quadruple in ``<directory>/<split>-*.tar`` (in shard order)."""
    shards = split_shards(directory, split)
    backend = scorer.backend
    frame_samples = backend.config.frame_samples
    out: list[np.ndarray] = []
    kinds: list[str] = []
    strengths: list[float] = []
    clean: list[bool] = []
    for records, x in quadruple_batches(shards, frame_samples, backend.config.sample_rate, max_quadruples):
        out.append(backend.frames(x.reshape(-1, frame_samples)).score.reshape(x.shape[:2]))  # all four frames of each at once
        kinds += [r.chain_j[0].type for r in records]
        strengths += [r.chain_j[0].strength for r in records]
        clean += [not r.chain_i for r in records]
    scores = np.concatenate(out) if out else np.zeros((0, 4), np.float32)
    log.info("scored %d quadruples from %d %s shards in %s", len(scores), len(shards), split, directory)
    return ShardScores(scores.astype(np.float64), tuple(kinds), np.asarray(strengths), np.asarray(clean, bool), len(shards))


__all__ = ["SHARD_BATCH", "ShardScores", "TypeFigures", "by_first_type", "quadruple_batches", "score_shards", "split_shards"]
