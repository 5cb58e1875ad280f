"""Which files `sesqa score` reads: the command line's paths expanded into audio files.

A directory gives its audio files by extension, a `.txt`/`.lst`/`.list` file is a list of paths;
see `find_audio`.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterable
from pathlib import Path

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


def _ext(path: Path) -> str:
    return path.suffix[1:].lower()


def _unreadable_link(p: Path) -> str | None:
    """Why the symlink `p` leads to no file ("symlink loop", "broken symlink"), or None if it does."""
    try:
        p.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop (too many levels of symbolic links), skipped"
        return f"broken symlink (its target {os.readlink(p)!r} does not exist), skipped"
    return None


def _walk_audio(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Audio files under `root`, sorted, and (path, reason) for audio names that lead to no file.

    Symlinked directories are followed, except one that leads back to a directory on its own path
    (a loop), which is logged, naming it, and skipped; a symlink named like audio that loops or
    points nowhere is reported, not silently passed over.
    """
    found: list[Path] = []
    problems: list[tuple[str, str]] = []
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
        for name in sorted(filenames):
            p = Path(dirpath) / name
            # "._x.wav" are macOS AppleDouble metadata files, not audio
            if _ext(p) not in AUDIO_EXTENSIONS or name.startswith("._"):
                continue
            if p.is_file():
                found.append(p)
            elif p.is_symlink() and (reason := _unreadable_link(p)):
                problems.append((str(p), reason))
    return found, problems


def find_audio(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand command-line paths into (audio files, problems as (path, reason)).

    A directory gives its audio files recursively (by extension, case-insensitive, sorted); a
    `.txt`/`.lst`/`.list` file is a list of paths, one per line, relative to the list's folder,
    blank lines and lines starting with `#` skipped, entries expanded like arguments (lists may
    nest); any other existing file is taken as audio whatever its extension, since the user named
    it (decoding will tell). Order follows the arguments; duplicates are dropped. Missing paths,
    unreadable lists, directories without audio and symlinks named like audio that loop or point
    nowhere are reported, not raised, so a batch goes on; a symlinked directory that loops back
    is logged and not followed.
    """
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    seen: set[Path] = set()
    lists_open: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            files.append(p)

    def expand(p: Path, origin: str | None) -> None:
        where = f" (listed in {origin})" if origin else ""
        if p.is_dir():
            found, unreadable = _walk_audio(p)
            problems.extend((path, f"{reason}{where}") for path, reason in unreadable)
            if not found and not unreadable:
                problems.append((str(p), f"directory holds no audio files{where}"))
            for f in found:
                add(f)
        elif p.is_file():
            if _ext(p) in LIST_EXTENSIONS:
                read_list(p)
            else:
                add(p)
        elif p.is_symlink() and (reason := _unreadable_link(p)):
            problems.append((str(p), f"{reason}{where}"))
        elif p.exists() or p.is_symlink():
            problems.append((str(p), f"not a regular file or directory{where}"))
        else:
            problems.append((str(p), f"no such file or directory{where}"))

    def read_list(lst: Path) -> None:
        key = lst.resolve()
        if key in lists_open:
            problems.append((str(lst), "list file includes itself"))
            return
        try:
            lines = lst.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            problems.append((str(lst), f"cannot read list file ({e})"))
            return
        lists_open.add(key)
        try:
            for lineno, line in enumerate(lines, 1):
                entry = line.strip()
                if not entry or entry.startswith("#"):
                    continue
                q = Path(entry).expanduser()
                q = Path(os.path.normpath(q if q.is_absolute() else lst.parent / q))
                expand(q, f"{lst}:{lineno}")
        finally:
            lists_open.discard(key)

    for arg in paths:
        expand(Path(arg), None)
    return files, problems
