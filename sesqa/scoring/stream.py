"""Score a corpus into JSONL: streamed, resumable, shardable, in parallel (`sesqa score --jsonl`).

The inputs are expanded lazily (`paths.iter_entries`: arguments, folders with `--glob`,
`--files-from` a file or standard input), cut to this task's shard and cleared of duplicates
and of files already done (`selection.py`), scored in this process or in workers
(`parallel.py`), and each file's line is written as soon as it is done (`jsonl.py`). Nothing
per file is kept: memory does not grow with the number of files (beyond the keys, 100 bytes
a file). Embeddings, when asked for, are named `<stem>-<12 hex digits of the key>.npy`, the
same in every run and shard, so a resumed run or another shard never overwrites one.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..runtime.files import AtomicFile
from .jsonl import JsonlOutput, jsonl_row
from .output import is_error
from .parallel import ScorerSpec, score_in_workers, score_with
from .paths import Entry, iter_entries
from .selection import Shard, Tally, file_key, key_digest, select

if TYPE_CHECKING:
    import numpy as np

    from .output import Item
    from .scorer import Scorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamReport:
    """What a `score_to_jsonl` run did, in counts (nothing per file: that is in the JSONL)."""

    output: str
    shard: Shard
    tally: Tally
    already: int
    """Lines the output held when the run started (--resume)."""

    @property
    def exit_code(self) -> int:
        """1 when files were tried and every one failed (or the inputs named none), else 0."""
        t = self.tally
        if t.scored or t.skipped:
            return 0
        return 1 if t.failed or (self.shard.whole and not t.entries) else 0

    def summary(self) -> str:
        t = self.tally
        parts = [f"{t.scored} file(s) scored", f"{t.failed} failed"]
        if t.skipped:
            parts.append(f"{t.skipped} skipped (already in {self.output})")
        if t.duplicates:
            parts.append(f"{t.duplicates} duplicate entr{'y' if t.duplicates == 1 else 'ies'} left out")
        text = ", ".join(parts)
        if not self.shard.whole:
            text += f"; shard {self.shard} (from {self.shard.source}): {t.entries} of {t.listed} entries"
        return text


def _key_stem(source: str) -> str:
    stem = re.sub(r"[^\w.+-]", "_", Path(source).stem) or "audio"
    return f"{stem}-{key_digest(file_key(source)).hex()[:12]}"


def _write_embeddings(folder: Path, source: str, z: np.ndarray) -> str:
    import numpy as np

    path = folder / f"{_key_stem(source)}.npy"
    with AtomicFile(path, "wb", fsync=False) as f:
        np.save(f.file, np.asarray(z, dtype=np.float32))
    return str(path)


def _scored(
    scorer: Scorer, spec: ScorerSpec | None, entries: Iterator[Entry], workers: int, channel: int | None, embeddings: bool, pack_frames: int | None
) -> Iterator[Item]:
    """Each entry's item: the scorer's result (here or in workers), and for a path that gives no
    file a FileError, handed out before the next result (the reader, which finds them, may run in
    the prefetch thread: a deque is safe to append to there and pop from here)."""
    from .scorer import FileError

    problems: deque[FileError] = deque()

    def files() -> Iterator[str]:
        for entry in entries:
            if entry.problem is not None:
                problems.append(FileError(str(entry.path), f"{entry.path}: {entry.problem}"))
            else:
                yield str(entry.path)

    if workers > 1:
        if spec is None:
            raise ValueError("workers > 1 need a ScorerSpec (the model file and options to open in each worker)")
        results = score_in_workers(spec, files(), workers, channel=channel, embeddings=embeddings)
    else:
        results = score_with(scorer, files(), channel=channel, embeddings=embeddings, pack_frames=pack_frames)
    for item in results:
        while problems:
            yield problems.popleft()
        yield item
    while problems:
        yield problems.popleft()


def score_to_jsonl(
    scorer: Scorer,
    paths: Iterable[str | Path],
    jsonl: str | Path,
    *,
    files_from: str | Path | None = None,
    glob: str | None = None,
    shard: Shard | None = None,
    resume: bool = False,
    workers: int = 1,
    spec: ScorerSpec | None = None,
    channel: int | None = None,
    frames: bool = False,
    embeddings_dir: str | Path | None = None,
    pack_frames: int | None = None,
    progress: bool = True,
    on_item: Callable[[Item], None] | None = None,
    stdin: BinaryIO | None = None,
) -> StreamReport:
    """Score every file the inputs name into `jsonl` (`-`: standard output), one line per file as
    it is done; see the module's doc and `sesqa score --help`.

    `shard` None takes it from the environment (`Shard.from_env`). `workers` > 1 scores in that
    many processes opened from `spec` (`ScorerSpec.of(scorer)` when None). `frames` adds each
    file's per-frame scores to its line. Raises FileExistsError when `jsonl` holds results and
    `resume` is False, OSError when it cannot be written or another run holds it.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    shard = Shard.from_env() if shard is None else shard
    if workers > 1 and spec is None:
        spec = ScorerSpec.of(scorer, pack_frames=pack_frames)
    emb_dir = Path(embeddings_dir) if embeddings_dir is not None else None
    if emb_dir is not None:
        try:
            emb_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OSError(f"{emb_dir}: cannot create the embeddings folder ({e.strerror or e})") from e
    tally = Tally()
    with JsonlOutput(jsonl, resume=resume) as out:
        already = out.lines
        if not shard.whole:
            log.info("shard %s (from %s)", shard, shard.source)
        entries = select(iter_entries(paths, files_from=files_from, glob=glob, stdin=stdin), shard, out.done, tally)
        items = _scored(scorer, spec, entries, workers, channel, emb_dir is not None, pack_frames)
        for item in _with_progress(items, tally, progress):
            emb_path = None
            if emb_dir is not None and not is_error(item) and item.embeddings is not None:
                emb_path = _write_embeddings(emb_dir, item.source, item.embeddings)
            out.write(jsonl_row(item, frames=frames, embeddings=emb_path))
            if is_error(item):
                tally.failed += 1
                log.warning("%s", item.error)  # in the JSONL too; here so that a failure is seen as it happens
            else:
                tally.scored += 1
            if on_item is not None:
                on_item(item)
    return StreamReport(str(jsonl), shard, tally, already)


def _with_progress(items: Iterable[Item], tally: Tally, enabled: bool) -> Iterator[Item]:
    """`items` under a progress bar that counts files written (the list is read as it is scored,
    so there is no total), with the files skipped as already done beside it."""
    from ..runtime.progress import progress_bar

    with progress_bar(None, enabled=enabled, unit="file", desc="score") as bar:
        for item in items:
            yield item
            if tally.skipped:
                bar.set_postfix_str(f"{tally.skipped} already done", refresh=False)
            bar.update(1)


__all__ = ["StreamReport", "score_to_jsonl"]
