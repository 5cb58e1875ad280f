"""Shard bookkeeping of the quadruple stream: sample counts from tar headers, node and worker
identity, the DataLoader's round-robin share of batches (for resuming), seeded generators."""

from __future__ import annotations

import functools
import logging
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..runtime.distributed_env import torchrun_slot

log = logging.getLogger(__name__)


def shard_sizes(shards: Iterable[str | Path]) -> list[int]:
    """Quadruples per shard, counted from the tar headers (no audio is read).

    An unreadable shard counts the samples before the damage (0 when nothing can be read) and
    is logged.
    """
    out = []
    for shard in shards:
        path = Path(shard)
        try:
            stat = path.stat()
        except OSError as e:
            log.warning("%s: cannot be read (%s); counted as 0 quadruples", path, e)
            out.append(0)
            continue
        out.append(_shard_size(str(path), stat.st_mtime_ns, stat.st_size))
    return out


@functools.lru_cache(maxsize=4096)
def _shard_size(path: str, mtime_ns: int, size: int) -> int:
    keys: set[str] = set()
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                name = info.name.rsplit("/", 1)[-1]
                if info.isfile() and name.endswith(".json"):
                    keys.add(name.partition(".")[0])
    except (tarfile.TarError, OSError, EOFError) as e:
        log.warning("%s: not a readable tar shard (%s); counted %d quadruples before the damage", path, e, len(keys))
    return len(keys)


def count_samples(shards: Iterable[str | Path]) -> int:
    """Quadruples in all `shards` (for planning epochs and steps)."""
    return sum(shard_sizes(shards))


def node_info() -> tuple[int, int]:
    """(rank, world size): torch.distributed when initialised, else RANK/WORLD_SIZE, else (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    slot = torchrun_slot()
    return slot.rank, slot.world_size


def worker_info() -> tuple[int, int]:
    """(worker id, worker count) of the DataLoader process this runs in; (0, 1) in the main process."""
    info = torch.utils.data.get_worker_info()
    return (0, 1) if info is None else (info.id, info.num_workers)


def round_robin_share(consumed: int, batches: Sequence[float]) -> tuple[list[int], int]:
    """How many of `consumed` batches came from each worker, DataLoader style, and whose batch is next.

    Workers are visited 0, 1, ..., W-1 repeatedly; worker w yields at most batches[w] (math.inf
    for an endless one) and is passed over once exhausted. Returns (share per worker, the worker
    that yields the next batch; 0 when none is left).
    """
    share = [0] * len(batches)
    remaining = consumed
    active = [w for w, n in enumerate(batches) if n > 0]
    while remaining > 0 and active:
        rounds = min(min(batches[w] - share[w] for w in active), remaining // len(active))
        if rounds < 1:  # a partial round: fewer batches left than active workers
            for w in active[:remaining]:
                share[w] += 1
            return share, active[remaining]
        rounds = int(rounds)
        for w in active:
            share[w] += rounds
        remaining -= rounds * len(active)
        active = [w for w in active if share[w] < batches[w]]
    return share, (active[0] if active else 0)


def seeded_rng(*words: int) -> np.random.Generator:
    """A generator seeded by the SeedSequence of `words` (seed, epoch, rank, worker, purpose...)."""
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


class Randint:
    """The `randint(a, b)` that webdataset's shuffle buffer calls, drawn from a numpy Generator."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def randint(self, a: int, b: int) -> int:
        return int(self.rng.integers(a, b + 1))


@dataclass
class Pass:
    """Mutable state of one iteration of one worker: the open shard, draws since the last good sample."""

    shard: str = "?"
    fruitless_draws: int = 0
