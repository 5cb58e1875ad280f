"""Which files `sesqa score` reads: the command line's paths expanded into audio files.

A directory gives its audio files (by extension, or by `--glob`), a `.txt`/`.lst`/`.list` file
is a list of paths, and `--files-from FILE` (`-`: standard input) is one more list. Expansion is
lazy (`iter_entries`): a list of a million paths or a folder of a million files is read as it
is scored, never held whole; `find_audio` collects it for the batches that want a list.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        "wav", "wave", "flac", "ogg", "oga", "opus", "spx", "mp3", "mp2", "m4a", "m4b", "aac", "wma",
        "aif", "aiff", "aifc", "au", "snd", "caf", "w64", "rf64", "webm", "mka", "mp4", "3gp", "amr",
    }
)  # fmt: skip
"""Extensions (lower case, no dot) picked up when a directory is expanded."""

LIST_EXTENSIONS: frozenset[str] = frozenset({"txt", "lst", "list"})
"""A file with one of these extensions is read as a list of paths, one per line."""

STDIN = "-"
"""`--files-from -`: the list comes on standard input."""


@dataclass(frozen=True)
class Entry:
    """One thing the inputs named: an audio file to score, or a path that gives none and why."""

    path: Path
    problem: str | None = None
    """Why no file comes of it (missing, broken symlink, empty folder...), naming where it was listed."""


def _ext(path: Path | str) -> str:
    return os.path.splitext(path)[1][1:].lower()


def _unreadable_link(p: Path) -> str | None:
    """Why the symlink `p` leads to no file ("symlink loop", "broken symlink"), or None if it does."""
    try:
        p.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop (too many levels of symbolic links), skipped"
        return f"broken symlink (its target {os.readlink(p)!r} does not exist), skipped"
    return None


def _audio(rel: str, name: str) -> bool:
    return _ext(name) in AUDIO_EXTENSIONS


def glob_matcher(pattern: str | None) -> Callable[[str, str], bool]:
    """Whether a file found in a folder is taken: `(path relative to the folder, name) -> bool`.

    None: an audio extension (`AUDIO_EXTENSIONS`). A pattern without "/" is matched against the
    file name, one with "/" against the path relative to the folder given (fnmatch rules, `*`
    crossing folders); case-insensitively either way, like the extension rule.
    """
    if pattern is None:
        return _audio
    if not pattern.strip():
        raise ValueError("glob must be a non-empty pattern such as '*.wav', got ''")
    folded = pattern.lower()
    if "/" in pattern:
        return lambda rel, name: fnmatch.fnmatchcase(rel.lower(), folded)
    return lambda rel, name: fnmatch.fnmatchcase(name.lower(), folded)


def _walk(root: Path, take: Callable[[str, str], bool]) -> Iterator[Entry]:
    """Files under `root` that `take` accepts, folder by folder in sorted order, and an Entry with
    a problem for each symlink so named that loops or points nowhere.

    Symlinked directories are followed, except one that leads back to a directory on its own path
    (a loop), which is logged, naming it, and skipped.
    """
    chains: dict[str, frozenset[str]] = {}  # directory walked -> real paths of it and its parents
    for dirpath, dirnames, filenames in os.walk(root, onerror=None, followlinks=True):
        chain = chains.get(os.path.dirname(dirpath), frozenset()) | {os.path.realpath(dirpath)}
        chains[dirpath] = chain
        dirnames.sort()
        for name in list(dirnames):
            link = os.path.join(dirpath, name)
            if os.path.islink(link) and os.path.realpath(link) in chain:
                log.warning("%s: symlink loop (leads back to %s), not followed", link, os.path.realpath(link))
                dirnames.remove(name)
        if not dirnames:
            chains.pop(dirpath, None)  # a leaf: no child will ask for its chain
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            if name.startswith("._"):  # macOS AppleDouble metadata files, not audio
                continue
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if not take(rel, name):
                continue
            p = Path(dirpath) / name
            if p.is_file():
                yield Entry(p)
            elif p.is_symlink() and (reason := _unreadable_link(p)):
                yield Entry(p, reason)


def _lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """(line number, path) per entry of a list: blank lines and `#` comments skipped, each line
    stripped; bytes decoded as the OS decodes file names, so any name a file can have survives."""
    for lineno, raw in enumerate(stream, 1):
        entry = os.fsdecode(raw.rstrip(b"\r\n")).strip()
        if entry and not entry.startswith("#"):
            yield lineno, entry


class _Expander:
    """Command-line paths -> Entries, lazily; lists may nest, a list that includes itself is reported."""

    def __init__(self, take: Callable[[str, str], bool]) -> None:
        self.take = take
        self.lists_open: set[Path] = set()

    def expand(self, p: Path, origin: str | None) -> Iterator[Entry]:
        where = f" (listed in {origin})" if origin else ""
        if p.is_dir():
            any_entry = False
            for entry in self._walk(p, where):
                any_entry = True
                yield entry
            if not any_entry:
                yield Entry(p, f"directory holds no {'audio files' if self.take is _audio else 'file matching the glob'}{where}")
        elif p.is_file():
            if _ext(p) in LIST_EXTENSIONS:
                yield from self.read_list(p)
            else:
                yield Entry(p)
        elif p.is_symlink() and (reason := _unreadable_link(p)):
            yield Entry(p, f"{reason}{where}")
        elif p.exists() or p.is_symlink():
            yield Entry(p, f"not a regular file or directory{where}")
        else:
            yield Entry(p, f"no such file or directory{where}")

    def _walk(self, root: Path, where: str) -> Iterator[Entry]:
        for entry in _walk(root, self.take):
            yield entry if entry.problem is None else Entry(entry.path, f"{entry.problem}{where}")

    def read_list(self, lst: Path) -> Iterator[Entry]:
        key = lst.resolve()
        if key in self.lists_open:
            yield Entry(lst, "list file includes itself")
            return
        try:
            stream = open(lst, "rb")
        except OSError as e:
            yield Entry(lst, f"cannot read list file ({e})")
            return
        self.lists_open.add(key)
        try:
            with stream:
                yield from self.listed(stream, str(lst), lst.parent)
        finally:
            self.lists_open.discard(key)

    def listed(self, stream: BinaryIO, name: str, folder: Path | None) -> Iterator[Entry]:
        """The entries of a list read from `stream`; relative paths are taken relative to `folder`
        (None: the working directory)."""
        for lineno, entry in _lines(stream):
            q = Path(entry).expanduser()
            if folder is not None and not q.is_absolute():
                q = folder / q
            yield from self.expand(Path(os.path.normpath(q)), f"{name}:{lineno}")


def iter_entries(
    paths: Iterable[str | Path] = (),
    *,
    files_from: str | Path | None = None,
    glob: str | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[Entry]:
    """Expand command-line paths, then the list `files_from` (`-`: standard input, or `stdin`),
    into Entries, lazily and in order, duplicates included (see `find_audio` for the rules).

    `glob` replaces the audio-extension rule for folders (`glob_matcher`); a file named in an
    argument or a list is taken whatever its name. Entries of `files_from` are relative to its
    folder, those of standard input to the working directory.
    """
    expander = _Expander(glob_matcher(glob))
    for arg in paths:
        yield from expander.expand(Path(arg), None)
    if files_from is None:
        return
    if str(files_from) == STDIN:
        yield from expander.listed(stdin if stdin is not None else sys.stdin.buffer, "stdin", None)
        return
    lst = Path(files_from)
    try:
        stream = open(lst, "rb")
    except OSError as e:
        raise OSError(f"{lst}: cannot read the --files-from list ({e.strerror or e})") from e
    with stream:
        yield from expander.listed(stream, str(lst), lst.parent)


def find_audio(paths: Iterable[str | Path], *, glob: str | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand command-line paths into (audio files, problems as (path, reason)).

    A directory gives its audio files recursively (by extension, case-insensitive, sorted, a
    folder's files before its subfolders'); a `.txt`/`.lst`/`.list` file is a list of paths, one
    per line, relative to the list's folder, blank lines and lines starting with `#` skipped,
    entries expanded like arguments (lists may nest); any other existing file is taken as audio
    whatever its extension, since the user named it (decoding will tell). Order follows the
    arguments; duplicates (the same file by its resolved path) are dropped. Missing paths,
    unreadable lists, directories without audio and symlinks named like audio that loop or point
    nowhere are reported, not raised, so a batch goes on; a symlinked directory that loops back
    is logged and not followed.
    """
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for entry in iter_entries(paths, glob=glob):
        if entry.problem is not None:
            problems.append((str(entry.path), entry.problem))
            continue
        key = entry.path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(entry.path)
    return files, problems


__all__ = ["AUDIO_EXTENSIONS", "LIST_EXTENSIONS", "STDIN", "Entry", "find_audio", "glob_matcher", "iter_entries"]
