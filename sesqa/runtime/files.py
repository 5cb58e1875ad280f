"""Atomic file writes: a file appears under its final name only when it is complete.

Everything sesqa writes (shards, manifests, stats, checkpoints, score tables, embeddings, sweep
WAVs, caches) is first written to a hidden temporary sibling, `.<name>.partial-<pid>-<random>.tmp`
in the target's folder, then renamed over the target with `os.replace` (atomic on one file
system). On an exception the temporary file is removed and the target is left as it was, so a
killed or failing run never leaves a half-written file under a final name. The `<pid>` lets a
later run find the leftovers of a killed one (`PARTIAL_MARK`); the random part keeps two writers
of one process (threads) apart.

Three forms, for three kinds of caller:
- `atomic_write_text` / `atomic_write_bytes`: the whole content is at hand;
- `atomic_path`: a library writes the file by name (`torch.save`, `soundfile.write`);
- `AtomicFile`: a file written piece by piece over a long run, committed at the end.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Self

PARTIAL_MARK = ".partial-"
"""Marks temporary files: `.<name>.partial-*` are the leftovers of writes to `<name>`."""

FILE_MODE = 0o644
"""Mode of written files: mkstemp creates 0600, and what sesqa writes is meant to be shared."""

StrPath = str | os.PathLike[str]


def _target(path: StrPath) -> Path:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory, expected a file name")
    return path


def _new_temp(path: Path) -> tuple[int, Path]:
    """An open descriptor on a new, empty, hidden sibling of `path` (OSError naming `path`)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{PARTIAL_MARK}{os.getpid()}-", suffix=".tmp")
    except OSError as e:
        raise OSError(f"{path}: cannot write here ({e.strerror or e})") from e
    return fd, Path(tmp)


def _publish(tmp: Path, path: Path, fsync: bool) -> None:
    """Make `tmp` durable (when `fsync`), shareable, and the content of `path`."""
    if fsync:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: StrPath, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling path to write; it replaces `path` when the block ends normally.

    The temporary file exists (empty) when the block starts; writers that open it by name
    (`torch.save`, `soundfile.write` with an explicit format) overwrite it. On an exception it
    is removed and `path` keeps its old content (or stays absent).
    """
    target = _target(path)
    fd, tmp = _new_temp(target)
    os.close(fd)
    try:
        yield tmp
        _publish(tmp, target, fsync)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: StrPath, data: bytes, *, fsync: bool = True) -> Path:
    """Write `data` to `path` atomically; returns `path` as a Path."""
    with AtomicFile(path, "wb", fsync=fsync) as f:
        f.file.write(data)
    return f.path


def atomic_write_text(path: StrPath, text: str, *, newline: str | None = None, fsync: bool = True) -> Path:
    """Write `text` (UTF-8) to `path` atomically; `newline` as for `open` ("" writes "\\n" as is)."""
    with AtomicFile(path, "w", newline=newline, fsync=fsync) as f:
        f.file.write(text)
    return f.path


class AtomicFile:
    """A file written under a temporary name beside the target and renamed over it on `commit`.

    Opening fails at once (OSError naming the target) when the folder is missing or not
    writable, before any work is done. `discard`, or leaving a `with` block on an exception,
    removes the temporary file; the target is left as it was.
    """

    def __init__(
        self,
        path: StrPath,
        mode: Literal["w", "wb"] = "w",
        *,
        newline: str | None = None,
        fsync: bool = True,
    ) -> None:
        if mode not in ("w", "wb"):
            raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
        self.path = _target(path)
        self.fsync = fsync
        fd, self.tmp = _new_temp(self.path)
        try:
            if mode == "wb":
                self.file: IO[Any] = os.fdopen(fd, "wb")
            else:
                self.file = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise

    def commit(self) -> None:
        """Flush and close the file, then atomically replace the target with it."""
        try:
            self.file.flush()
            if self.fsync:
                os.fsync(self.file.fileno())
            self.file.close()
            os.chmod(self.tmp, FILE_MODE)
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Drop what was written; the target is left as it was."""
        if not self.file.closed:
            self.file.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


__all__ = ["FILE_MODE", "PARTIAL_MARK", "AtomicFile", "atomic_path", "atomic_write_bytes", "atomic_write_text"]
