"""Normalisation statistics of the metric targets over the training split (`stats.json`).

The trainer regresses the measures normalised with these (spec section 5). They are computed
from the records of every train shard, so they do not depend on which process made which shard.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..runtime.files import atomic_write_text
from .moments import RunningStats

STATS_FILE = "stats.json"


def stats_of(columns: dict[str, list[float | None]]) -> RunningStats:
    """RunningStats over per-measure value lists (None and NaN counted as missing)."""
    stats = RunningStats(tuple(columns))
    for n, values in columns.items():
        stats.update_many(n, values)
    return stats


def write_stats(out: Path, stats: RunningStats) -> Path:
    """Write stats.json beside the shards, atomically."""
    path = Path(out) / STATS_FILE
    atomic_write_text(path, json.dumps(stats.to_json(), indent=2, sort_keys=True) + "\n")
    return path


def read_stats(out: Path) -> RunningStats:
    """The stats.json of a shard directory; ValueError naming the file when malformed."""
    path = Path(out) / STATS_FILE
    try:
        return RunningStats.from_json(json.loads(path.read_text()))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e
