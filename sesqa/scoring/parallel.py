"""Score files in several processes: each decodes and scores whole files with its own model session.

`--workers N` starts N processes (spawn: nothing of the parent's state, threads or open files
is inherited). Each opens its own backend from a `ScorerSpec` (the model file, not the parent's
session, which cannot be sent) with its intra-op threads set to `max(1, cpus // N)`, and one
BLAS thread, so the workers do not fight over the cores. Files go out in chunks of a few,
at most `2 N` chunks in flight, so a list of a million paths is read as the work goes, never
queued whole; results come back as each chunk is done, **in completion order, not list order**
(with `--resume` the set of files is what counts; sort by path for an order).

Log records of the workers are forwarded to the parent and written there (above its progress
bar). A worker that dies (killed, out of memory) ends the run with `BrokenProcessPool`: what
the output holds stays, and `--resume` goes on from it. Workers whose parent dies (SIGKILL)
notice within half a second and exit.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from ..runtime.device import available_cpus, single_threaded_children
from ..runtime.progress import forward_records, queue_logging

if TYPE_CHECKING:
    from .scorer import FileError, Scorer, ScoreResult

log = logging.getLogger(__name__)

CHUNK_FILES = 4
"""Files per task sent to a worker: few enough that a killed run loses little, enough to keep
the hand-over cost (about 1 ms) small next to scoring (about 50 ms for 10 s)."""
_PARENT_POLL_S = 0.5


@dataclass(frozen=True)
class ScorerSpec:
    """What opens a Scorer in another process: the --model value and the scoring options."""

    model: str | None = None
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 32
    hop_s: float = 1.0
    threads: int | None = None
    """Intra-op threads of the engine (None: one per CPU the process may use)."""
    pack_frames: int | None = None
    """Frames per network call packed across files (`packed.py`); None: one file at a time."""

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.pack_frames is not None and self.pack_frames < 1:
            raise ValueError(f"pack_frames must be >= 1, got {self.pack_frames}")

    @classmethod
    def of(cls, scorer: Scorer, model: str | None = None, device: str = "auto", **kwargs: Any) -> ScorerSpec:
        """The spec of an open Scorer: `model` as given on the command line, else its model file
        (ValueError for a model that lives only in memory)."""
        source = model if model is not None else scorer.backend.source
        if source == "in memory":
            raise ValueError("workers > 1 need a model file (a checkpoint or .onnx): this Scorer's model exists only in memory")
        return cls(source, device, scorer.precision, scorer.batch_size, scorer.hop_s, **kwargs)

    def open(self) -> Scorer:
        from .scorer import open_scorer

        return open_scorer(self.model, device=self.device, precision=self.precision, batch_size=self.batch_size, hop_s=self.hop_s, threads=self.threads)


def score_with(scorer: Scorer, paths: Iterable[str], *, channel: int | None, embeddings: bool, pack_frames: int | None) -> Iterator[ScoreResult | FileError]:
    """`scorer.score_files`, or its packed form when `pack_frames` is given, with one BLAS thread
    (numpy's dot products in the level meter otherwise leave OpenBLAS threads spinning on the
    cores the network needs: half the CPU time of scoring, measured on 2 cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        if pack_frames is None:
            yield from scorer.score_files(paths, channel=channel, embeddings=embeddings)
        else:
            from .packed import score_files_packed

            yield from score_files_packed(scorer, paths, channel=channel, embeddings=embeddings, batch_frames=pack_frames)


_scorer: Scorer | None = None
_pack: int | None = None


def _exit_with_parent(parent: int) -> None:
    """End this worker when the parent is gone (killed with SIGKILL, it cannot stop its workers,
    which would otherwise wait for work for ever)."""
    while True:
        time.sleep(_PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(spec: ScorerSpec, records: Any, level: int, parent: int) -> None:
    global _scorer, _pack
    threading.Thread(target=_exit_with_parent, args=(parent,), name="sesqa-parent-watch", daemon=True).start()
    queue_logging(records, level)
    _scorer, _pack = spec.open(), spec.pack_frames


def _score_chunk(paths: list[str], channel: int | None, embeddings: bool) -> list[ScoreResult | FileError]:
    if _scorer is None:
        raise RuntimeError("scoring worker was not initialised")
    return list(score_with(_scorer, paths, channel=channel, embeddings=embeddings, pack_frames=_pack))


def worker_threads(workers: int) -> int:
    """Intra-op threads per worker: the CPUs this process may use, shared out (at least 1)."""
    return max(1, available_cpus() // workers)


def score_in_workers(
    spec: ScorerSpec, paths: Iterable[str], workers: int, *, channel: int | None = None, embeddings: bool = False, chunk: int = CHUNK_FILES
) -> Iterator[ScoreResult | FileError]:
    """Score `paths` in `workers` processes; results in completion order (see the module's doc).

    `spec.threads` None becomes `worker_threads(workers)`. Closing the iterator early (an error
    in the caller, Ctrl-C) cancels what has not started and stops the workers.
    """
    if workers < 2:
        raise ValueError(f"workers must be >= 2 here (1 scores in this process), got {workers}")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if spec.threads is None:
        from dataclasses import replace

        spec = replace(spec, threads=worker_threads(workers))
    ctx = mp.get_context("spawn")
    records = ctx.Queue()
    todo = iter(paths)
    level = logging.getLogger().getEffectiveLevel()
    with single_threaded_children():  # held while the pool runs: it starts its processes as work is submitted
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(spec, records, level, os.getpid()))
        try:
            pending: set[Future[list[ScoreResult | FileError]]] = set()
            more = True
            while True:
                while more and len(pending) < 2 * workers:
                    batch = list(islice(todo, chunk))
                    if not batch:
                        more = False
                        break
                    pending.add(pool.submit(_score_chunk, batch, channel, embeddings))
                if not pending:
                    break
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                forward_records(records)
                for future in done:
                    yield from future.result()
            forward_records(records)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            records.close()


__all__ = ["CHUNK_FILES", "ScorerSpec", "score_in_workers", "score_with", "worker_threads"]
