"""Which files this process scores: its share of the list (`--shard`), each file once, none already done.

- **Shards.** `--shard INDEX/COUNT` takes every COUNT-th entry, from INDEX, of the list sorted by
  path (as written, after list-relative joining and normalising; no file system calls), with
  repeated entries counted once. Every task of an array job reads the same list and sorts it the
  same way, so the shards are disjoint and together give the whole list, whatever machine each
  runs on. Without `--shard`, a Slurm array task (SLURM_ARRAY_TASK_ID / _COUNT) or a torchrun
  rank (RANK / WORLD_SIZE) gives it (`sesqa.runtime.distributed_env`); `--shard 0/1` takes everything.
  Unsharded, nothing is sorted: the list is read as it is scored.
- **Keys.** A file is known by its key, the resolved absolute path (symlinks followed), so
  `a.wav`, `./a.wav` and a link to it are one file. A repeated file is scored once and counted
  as a duplicate; one whose key is already in the output (`--resume`) is skipped.
- **Memory.** Keys are kept as 16-byte digests (BLAKE2b), about 100 bytes a file in a set:
  a million files take about 100 MB, the sorted list of a sharded run about as much again.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..runtime.distributed_env import slurm_array_slot, task_slot
from .paths import Entry


def file_key(path: str | os.PathLike[str]) -> str:
    """A file's key: its resolved absolute path (as `os.path.realpath`; a missing file gets its
    absolute normalised path)."""
    return os.path.realpath(path)


def key_digest(key: str) -> bytes:
    """The 16 bytes a key is remembered by (BLAKE2b of its file-system encoding)."""
    return hashlib.blake2b(os.fsencode(key), digest_size=16).digest()


_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Task `index` of `count` (0-based), and what said so ("--shard", "SLURM_ARRAY_TASK_ID", ...)."""

    index: int = 0
    count: int = 1
    source: str = "--shard"

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"shard count must be >= 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard index must be in [0, {self.count}), got {self.index} (INDEX/COUNT is 0-based)")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`INDEX/COUNT`, e.g. "3/10"; ValueError naming the value otherwise."""
        m = _SHARD.match(text)
        if m is None:
            raise ValueError(f"--shard must be INDEX/COUNT with 0 <= INDEX < COUNT (e.g. 3/10), got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Shard:
        """A Slurm array task's share, else a torchrun rank's, else the whole list (0/1)."""
        env = os.environ if env is None else env
        slot = task_slot(env)
        if slot.world_size == 1:
            return cls()
        source = "SLURM_ARRAY_TASK_ID" if slurm_array_slot(env) is not None else "RANK/WORLD_SIZE"
        return cls(slot.rank, slot.world_size, source)

    @property
    def whole(self) -> bool:
        """Whether this is the whole list (one shard)."""
        return self.count == 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass
class Tally:
    """How the entries of a run were sorted out; the scoring loop adds scored and failed."""

    entries: int = 0
    """Entries this shard took from the inputs (files and paths that gave none)."""
    duplicates: int = 0
    """Entries naming a file already taken (by the same text, or by the same key)."""
    skipped: int = 0
    """Files already in the output (--resume)."""
    scored: int = 0
    failed: int = 0
    listed: int = 0
    """Entries in the whole list before sharding (known only when sharded: it is sorted)."""


def shard_entries(entries: Iterable[Entry], shard: Shard, tally: Tally) -> Iterator[Entry]:
    """This shard's entries: the whole list as it comes (one shard), or the sorted unique list's
    every `count`-th entry from `index`, the repeats of each counted as duplicates by the shard
    that takes it."""
    if shard.whole:
        yield from entries
        return
    listed = sorted((str(e.path), e.problem or "") for e in entries)
    unique = 0
    for k, (path, problem) in enumerate(listed):
        if k and path == listed[k - 1][0]:
            if (unique - 1) % shard.count == shard.index:
                tally.duplicates += 1
            continue
        if unique % shard.count == shard.index:
            yield Entry(Path(path), problem or None)
        unique += 1
    tally.listed = unique


def select(entries: Iterable[Entry], shard: Shard, done: set[bytes], tally: Tally) -> Iterator[Entry]:
    """The entries this process scores, lazily: its shard, each file once by key, none in `done`
    (digests of keys already in the output). Every entry taken is counted in `tally`."""
    seen: set[bytes] = set()
    for entry in shard_entries(entries, shard, tally):
        tally.entries += 1
        digest = key_digest(file_key(entry.path))
        if digest in seen:
            tally.duplicates += 1
            continue
        seen.add(digest)
        if digest in done:
            tally.skipped += 1
            continue
        yield entry


__all__ = ["Shard", "Tally", "file_key", "key_digest", "select", "shard_entries"]
