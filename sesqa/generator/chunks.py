"""Workers make quadruples in chunks; this process writes them to their shards, in order.

A shard is the unit of output (and of resuming), but a poor unit of work: `sesqa generate
--n 200` plans shards of 144, 28 and 28 quadruples, so with 2 workers one made 144 while the
other was idle after 56. Each quadruple depends on (seed, split, shard, index) alone, so any
process can make any of them: the shards' index ranges are cut into chunks of `CHUNK`
quadruples, workers make chunks as they free up, and this process writes each chunk's records
and audio to its shard in index order (holding a chunk that came early until the ones before it
are written). The shards are the bytes a single process writes. At most `2 x workers` chunks
are in flight or waiting, so memory is bounded (a quadruple's two signals are about 0.4 MB).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..shards.schema import QuadrupleRecord
from ..shards.writer import ShardWriter

CHUNK = 25
"""Quadruples per unit of work: about 2 s on one core with all metric targets."""


class Task(Protocol):
    name: str
    size: int


@dataclass(frozen=True)
class Chunk:
    """Quadruples [start, stop) of one shard."""

    task: Task
    start: int
    stop: int


@dataclass
class ChunkResult:
    """What a worker made of a chunk: (record, FLAC of x_i, FLAC of x_j) in index order, and what
    went wrong. The worker encodes the audio (2 ms of the 3.4 ms a quadruple's writing takes), so
    the process writing the shards only appends bytes and keeps up with more workers."""

    chunk: Chunk
    items: list[tuple[QuadrupleRecord, bytes, bytes]] = field(default_factory=list)
    degradation_failures: int = 0
    bad_files: dict[str, str] = field(default_factory=dict)


def plan_chunks(tasks: Sequence[Task], size: int = CHUNK) -> list[Chunk]:
    """Every shard's index range cut into chunks of `size`, shard after shard."""
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    return [Chunk(t, a, min(a + size, t.size)) for t in tasks for a in range(0, t.size, size)]


def write_chunks(
    submit: Callable[[Chunk], Future[ChunkResult]],
    tasks: Sequence[Task],
    out: Path,
    window: int,
    on_written: Callable[[ChunkResult], None] = lambda r: None,
    poll: Callable[[], object] = lambda: None,
    chunk_size: int = CHUNK,
) -> Iterator[Task]:
    """Submit every chunk of `tasks` (at most `window` in flight or waiting to be written), write
    each to its shard in order, and yield each task once its shard is complete and renamed.

    `on_written` sees each chunk once written; `poll` runs every 0.2 s while waiting (log records
    of the workers). A worker's exception is raised here, and the shards still open are
    discarded (never left under their names).
    """
    todo = iter(plan_chunks(tasks, chunk_size))
    waiting: dict[tuple[str, int], ChunkResult] = {}
    written = {t.name: 0 for t in tasks}
    unfinished = list(tasks)
    running: set[Future[ChunkResult]] = set()
    writers: dict[str, ShardWriter] = {}
    try:
        while unfinished:
            while len(running) + len(waiting) < window and (chunk := next(todo, None)) is not None:
                running.add(submit(chunk))
            done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            poll()
            for future in done:
                result = future.result()
                waiting[(result.chunk.task.name, result.chunk.start)] = result
            for task in list(unfinished):  # write what is next in line, shard by shard
                while (result := waiting.pop((task.name, written[task.name]), None)) is not None:
                    writer = writers.get(task.name) or writers.setdefault(task.name, ShardWriter(out / task.name))
                    for record, i_flac, j_flac in result.items:
                        writer.write_encoded(record, i_flac, j_flac)
                    written[task.name] = result.chunk.stop
                    on_written(result)
                if written[task.name] == task.size:
                    writers.pop(task.name).__exit__(None, None, None)  # complete: under its final name now
                    unfinished.remove(task)
                    yield task
    except BaseException as e:  # a worker's error, Ctrl-C, the caller closing early
        for writer in writers.values():
            writer.__exit__(type(e), e, e.__traceback__)  # discarded: no partial shard under a final name
        raise


__all__ = ["CHUNK", "Chunk", "ChunkResult", "plan_chunks", "write_chunks"]
