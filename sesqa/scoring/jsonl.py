"""The JSONL output of `sesqa score --jsonl`: one object per file, on disk as soon as it is done.

Each line is one file: the CSV's columns as typed JSON values (`score` null when there is
nothing to score, `warnings` a list, `error` null or the reason the file failed), then `key`,
the file's resolved absolute path, which `--resume` and merging go by; `frames` (per-frame
scores) and `embeddings` (the .npy written) when asked. A failed file is a line like any other,
with its error, so the output names every file of the list exactly once.

A line is written with unbuffered `write` calls on a file opened for appending and ends with
its newline, so when a process is killed (even with SIGKILL) the file holds whole lines and, at
worst, one line cut short at the end. `--resume` drops that cut line (its file is scored again),
reads the keys of the others and skips those files. The file is locked (flock) while a run
writes it: a second run on the same file stops at once instead of interleaving lines. Lines go
to the OS as they are written (a killed process loses none); they are fsynced every 30 s and at
the end (a crashed machine loses at most the last 30 s).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Self

from .output import CSV_COLUMNS, is_error
from .selection import file_key, key_digest
from .speech import SCORE_DECIMALS, finite_or_none

if TYPE_CHECKING:
    from .output import Item

log = logging.getLogger(__name__)

STDOUT = "-"
"""`--jsonl -`: lines go to standard output (no resume, no lock)."""
SYNC_EVERY_S = 30.0
_BLOCK = 1 << 16


def _number(value: float | None, decimals: int) -> float | None:
    return None if value is None else finite_or_none(value, decimals)


def jsonl_row(item: Item, *, frames: bool = False, embeddings: str | None = None) -> dict[str, Any]:
    """One line's object: the CSV's columns (typed), `key`, and `frames` / `embeddings` when asked."""
    if is_error(item):
        row: dict[str, Any] = {**dict.fromkeys(CSV_COLUMNS), "path": item.source, "error": item.error, "warnings": []}
    else:
        top, level = item.top_degradation, item.level
        row = {
            "path": item.source,
            "score": _number(item.score, SCORE_DECIMALS),
            "duration_s": round(item.duration_s, 3),
            "clean_probability": _number(item.clean_probability, 4),
            "top_degradation": top.name if top else None,
            "top_probability": _number(top.probability, 4) if top else None,
            "loudness_lufs": _number(level.loudness_lufs if level else None, 2),
            "peak_dbfs": _number(level.peak_dbfs if level else None, 2),
            "error": None,
            "warnings": list(item.warnings),
        }
    row["key"] = file_key(item.source)
    if frames and not is_error(item):
        row["frames"] = item.to_json(frames=True)["frames"]
    if embeddings is not None:
        row["embeddings"] = embeddings
    return row


def encode_line(row: dict[str, Any]) -> bytes:
    """A row as one UTF-8 line ending in a newline; a path no UTF-8 can hold (undecodable bytes in
    a file name) is written with \\u escapes instead."""
    text = json.dumps(row, ensure_ascii=False, allow_nan=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(row, allow_nan=False) + "\n").encode("ascii")


def drop_torn_tail(fd: int) -> int:
    """Truncate the file after its last newline (a line cut short by a killed writer); returns the
    bytes dropped."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return 0
    end, cut = size, 0
    while end > 0:
        start = max(0, end - _BLOCK)
        i = os.pread(fd, end - start, start).rfind(b"\n")
        if i >= 0:
            cut = start + i + 1
            break
        end = start
    os.ftruncate(fd, cut)
    return size - cut


def _lock(fd: int, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one writer per file is then up to the user
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise OSError(f"{path}: another `sesqa score` is writing this file (it is locked); give each run its own output") from None


class JsonlOutput:
    """The JSONL file of a run, opened for appending; `done` holds the key digests already in it."""

    def __init__(self, path: str | Path, *, resume: bool = False, stdout: BinaryIO | None = None) -> None:
        self.path = str(path)
        self.done: set[bytes] = set()
        self.lines = self.errors = self.bad_lines = self.torn_bytes = 0
        self._last_sync = time.monotonic()
        if self.path == STDOUT:
            if resume:
                raise ValueError("--resume needs an output file to resume from, not standard output (--jsonl -)")
            self._stream: BinaryIO | None = stdout or sys.stdout.buffer
            self._fd = -1
            return
        self._stream = None
        target = Path(path)
        if target.is_dir():
            raise IsADirectoryError(f"{target}: is a directory, expected a .jsonl file name")
        if not resume and target.exists() and target.stat().st_size > 0:
            raise FileExistsError(
                f"{target} already holds results: pass --resume to go on with it (files in it are skipped), or remove it"
            )
        try:
            self._fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as e:
            raise OSError(f"{target}: cannot write here ({e.strerror or e})") from e
        try:
            _lock(self._fd, target)
            if resume:
                self._read_done(target)
        except BaseException:
            os.close(self._fd)
            raise

    def _read_done(self, target: Path) -> None:
        self.torn_bytes = drop_torn_tail(self._fd)
        if self.torn_bytes:
            log.warning("%s: dropped a line cut short by an interrupted run (%d bytes); its file is scored again", target, self.torn_bytes)
        with open(target, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                try:
                    row = json.loads(raw)
                    key = row.get("key") or file_key(row["path"])
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    self.bad_lines += 1
                    log.warning("%s:%d: not a result line (%s); left as it is, not counted as done", target, lineno, str(e)[:80])
                    continue
                self.done.add(key_digest(key))
                self.lines += 1
                self.errors += row.get("error") is not None

    def write(self, row: dict[str, Any]) -> None:
        """Append one row as a line, handed to the OS before returning."""
        data = encode_line(row)
        if self._stream is not None:
            self._stream.write(data)
            self._stream.flush()
            return
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if time.monotonic() - self._last_sync > SYNC_EVERY_S:
            os.fsync(self._fd)
            self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync and close the file (releasing its lock)."""
        if self._fd >= 0:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every whole result line of a JSONL output (a line cut short at the end is left out)."""
    rows = []
    with open(path, "rb") as f:
        for raw in f:
            if raw.endswith(b"\n"):
                rows.append(json.loads(raw))
    return rows


__all__ = ["STDOUT", "JsonlOutput", "drop_torn_tail", "encode_line", "jsonl_row", "read_jsonl"]
