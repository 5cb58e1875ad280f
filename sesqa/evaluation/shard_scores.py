"""Model scores of the four 1 s frames of every quadruple in generated WebDataset shards.

`sesqa evaluate --shards` computes R_RANK and L_CONS (and E_TOTAL with labels) from them, and
draws the strength figure from what was done to each quadruple.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..scoring.scorer import Scorer

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


def score_shards(scorer: Scorer, directory: Path, split: str = "test", max_quadruples: int | None = None) -> ShardScores:
    """Score the four frames of every quadruple in ``<directory>/<split>-*.tar`` (in shard order)."""
    from ..shards.reader import read_shard

    shards = sorted(Path(directory).glob(f"{split}-*.tar"))
    if not shards:
        raise ValueError(f"{directory}: no {split}-*.tar shards (generate them with `sesqa generate --out {directory}`, or pick --split)")
    backend = scorer.backend
    frame_samples, sample_rate = backend.config.frame_samples, backend.config.sample_rate
    out: list[np.ndarray] = []
    kinds: list[str] = []
    strengths: list[float] = []
    clean: list[bool] = []
    pending: list[np.ndarray] = []

    def flush() -> None:
        if pending:
            x = np.stack(pending)  # (quadruples, 4, T): one backend call for all four frames of each
            out.append(backend.frames(x.reshape(-1, frame_samples)).score.reshape(x.shape[:2]))
            pending.clear()

    limit = max_quadruples if max_quadruples is not None else math.inf
    for shard in shards:
        for sample in read_shard(shard):
            record = sample.record
            if record.frame_samples != frame_samples or record.sample_rate != sample_rate:
                raise ValueError(
                    f"{shard}: quadruple {record.key} has {record.frame_samples}-sample frames at {record.sample_rate} Hz; "
                    f"the model takes {frame_samples} at {sample_rate} Hz"
                )
            pending.append(np.stack(sample.frames()).astype(np.float32))
            kinds.append(record.chain_j[0].type)
            strengths.append(record.chain_j[0].strength)
            clean.append(not record.chain_i)
            if len(pending) == SHARD_BATCH:
                flush()
            if len(kinds) >= limit:
                break
        if len(kinds) >= limit:
            break
    flush()
    scores = np.concatenate(out) if out else np.zeros((0, 4), np.float32)
    log.info("scored %d quadruples from %d %s shards in %s", len(scores), len(shards), split, directory)
    return ShardScores(scores.astype(np.float64), tuple(kinds), np.asarray(strengths), np.asarray(clean, bool), len(shards))


__all__ = ["SHARD_BATCH", "ShardScores", "score_shards"]
