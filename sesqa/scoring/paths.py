"""Which files `sesqa score` reads: the command line's paths expanded into audio files.

A directory gives its audio files by extension, a `.txt`/`.lst`/`.list` file is a list of paths;
see `find_audio`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

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


def _walk_audio(root: Path) -> list[Path]:
    """Audio files under `root`, sorted; symlinked directories are not followed (no cycles)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=None, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            # "._x.wav" are macOS AppleDouble metadata files, not audio
            if _ext(p) in AUDIO_EXTENSIONS and not name.startswith("._") and p.is_file():
                found.append(p)
    return found


def find_audio(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand command-line paths into (audio files, problems as (path, reason)).

    A directory gives its audio files recursively (by extension, case-insensitive, sorted); a
    `.txt`/`.lst`/`.list` file is a list of paths, one per line, relative to the list's folder,
    blank lines and lines starting with `#` skipped, entries expanded like arguments (lists may
    nest); any other existing file is taken as audio whatever its extension, since the user named
    it (decoding will tell). Order follows the arguments; duplicates are dropped. Missing paths,
    unreadable lists and directories without audio are reported, not raised, so a batch goes on.
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
            found = _walk_audio(p)
            if not found:
                problems.append((str(p), f"directory holds no audio files{where}"))
            for f in found:
                add(f)
        elif p.is_file():
            if _ext(p) in LIST_EXTENSIONS:
                read_list(p)
            else:
                add(p)
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
