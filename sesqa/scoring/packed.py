"""Frames of many files packed into full batches: what a GPU needs to be kept busy.

`Scorer.score_files` sends the network one file's frames at a time: a 10 s file is a batch of
10 frames, which leaves a GPU mostly idle between calls. Here frames of consecutive files are
packed into batches of exactly `batch_frames` (the last one of a run smaller), the outputs are
cut back to the files they came from, and each file's result is given once all its frames are
through, in input order. Every frame is scored on its own (the network is in eval mode, its
BatchNorm folded), so a file's figures are those of `Scorer.score` to float rounding, whatever
its neighbours in a batch. The same code runs on the CPU (torch or onnxruntime), which is how
the tests check it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ..audio import AudioError
from .backend import FrameOutputs
from .frames import FrameStats
from .prefetch import prefetched
from .scorer import FileError, FrameAccumulator, FrameBatch, Scorer, ScoreResult

log = logging.getLogger(__name__)

DEFAULT_GPU_BATCH = 256
"""Frames per network call when packing on a GPU (1 s frames: 49 MB of input per call)."""


@dataclass(eq=False)
class _File:
    """One file on its way through: outputs kept so far, frames still waiting in the batch, and
    how its reading ended (None while it is still being read)."""

    path: str
    acc: FrameAccumulator = field(default_factory=FrameAccumulator)
    waiting: int = 0
    ended: FrameStats | AudioError | None = None


@dataclass(frozen=True, eq=False)
class _Piece:
    file: _File
    starts: np.ndarray
    frames: np.ndarray


def _slice(out: FrameOutputs, a: int, b: int) -> FrameOutputs:
    return FrameOutputs(**{f.name: getattr(out, f.name)[a:b] for f in fields(FrameOutputs)})


class _Packer:
    """The batch being filled, and the files in input order until each is given back."""

    def __init__(self, scorer: Scorer, batch_frames: int, embeddings: bool) -> None:
        self.scorer = scorer
        self.size = batch_frames
        self.embeddings = embeddings
        self.pieces: list[_Piece] = []
        self.buffered = 0
        self.files: deque[_File] = deque()

    def add(self, file: _File, batch: FrameBatch) -> None:
        self.pieces.append(_Piece(file, batch.starts, batch.frames))
        n = len(batch.starts)
        file.waiting += n
        self.buffered += n
        while self.buffered >= self.size:
            self.run(self.size)

    def fail(self, file: _File, error: AudioError) -> None:
        """A file that failed part-way: its frames waiting in the batch are dropped, not scored."""
        file.ended = error
        kept = [p for p in self.pieces if p.file is not file]
        self.buffered -= sum(len(p.starts) for p in self.pieces if p.file is file)
        self.pieces = kept
        file.waiting = 0

    def run(self, n: int) -> None:
        """The first `n` buffered frames through the network, their outputs kept by their files."""
        taken: list[_Piece] = []
        need = n
        while need:
            piece = self.pieces[0]
            k = len(piece.starts)
            if k <= need:
                taken.append(self.pieces.pop(0))
                need -= k
            else:  # split: the rest stays first in line
                taken.append(_Piece(piece.file, piece.starts[:need], piece.frames[:need]))
                self.pieces[0] = _Piece(piece.file, piece.starts[need:], piece.frames[need:])
                need = 0
        out = self.scorer.backend.frames(np.concatenate([p.frames for p in taken]))
        a = 0
        for p in taken:
            b = a + len(p.starts)
            self.scorer.keep(p.file.acc, p.starts, p.frames, _slice(out, a, b), self.embeddings)
            p.file.waiting -= b - a
            a = b
        self.buffered -= n

    def ready(self) -> Iterator[ScoreResult | FileError]:
        """The results of the files at the head of the line whose frames are all through."""
        while self.files and self.files[0].ended is not None and self.files[0].waiting == 0:
            file = self.files.popleft()
            if isinstance(file.ended, AudioError):
                log.debug("%s", file.ended)
                yield FileError(file.path, str(file.ended))
            else:
                yield self.scorer.result(file.path, file.acc, file.ended, self.embeddings)


def score_files_packed(
    scorer: Scorer,
    paths: Iterable[str | Path],
    *,
    channel: int | None = None,
    embeddings: bool = False,
    batch_frames: int = DEFAULT_GPU_BATCH,
) -> Iterator[ScoreResult | FileError]:
    """Like `scorer.score_files` (a FileError per failed file, results in input order), with the
    frames of consecutive files packed into network calls of `batch_frames` frames.

    Files are read a couple of batches ahead in a thread (`prefetch.py`); memory holds one
    packed batch and the outputs of the files not given back yet.
    """
    if batch_frames < 1:
        raise ValueError(f"batch_frames must be >= 1, got {batch_frames}")
    packer = _Packer(scorer, batch_frames, embeddings)
    current: _File | None = None
    for path, item in prefetched(scorer.read_files(paths, channel)):
        if current is None:
            current = _File(str(path))
            packer.files.append(current)
        if isinstance(item, FrameBatch):
            packer.add(current, item)
        elif isinstance(item, AudioError):
            packer.fail(current, item)
            current = None
        else:
            current.ended = item
            current = None
        yield from packer.ready()
    if packer.buffered:
        packer.run(packer.buffered)
    yield from packer.ready()


__all__ = ["DEFAULT_GPU_BATCH", "score_files_packed"]
