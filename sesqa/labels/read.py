"""MOS lists, JND pairs and ordered pairs read into items, their audio looked up one way.

One behaviour for every list and every command (`sesqa train`, `sesqa evaluate`):

- formats and separators: `formats` and `table`;
- audio: `find_audio` (absolute paths as written; relative ones looked up in one list of folders);
- systems: the list's system column, else the BVCC name rule (`system_from_name`);
- ranges: MOS in [1, 5], JND labels 0 or 1; a value outside is a ValueError naming file and line;
- a MOS list naming one file twice is an error (average its ratings first): the file would
  count twice in training and could not be joined to one prediction in evaluation;
- missing audio: kept (evaluate may need only the names), or with ``skip_missing`` logged and
  skipped, a ValueError when none is left (training).
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .formats import JND_FORMATS, MOS_FORMATS, PAIR_FORMATS
from .table import ListRows, read_list

log = logging.getLogger(__name__)

SHOW_MISSING = 5
"""How many missing audio files a warning names."""

_BVCC_NAME = re.compile(r"^(sys[0-9A-Za-z]+)-utt")


@dataclass(frozen=True)
class MosItem:
    """One rated recording: its audio file, mean opinion score, system and data set if known."""

    path: Path
    mos: float
    system: str | None = None
    dataset: str | None = None
    name: str = field(default="", compare=False)
    """The path as the list writes it (`sesqa evaluate` joins predictions on it); not compared."""
    degradation: str | None = None
    """What damaged it (a ``degradation`` or ``type`` column), if the list says."""
    fold: str | None = None
    """Its fixed cross-validation fold (a ``fold`` column), if the list gives one."""


@dataclass(frozen=True)
class JndItem:
    """Two recordings and whether listeners heard a difference (1) or not (0)."""

    path_a: Path
    path_b: Path
    label: int


@dataclass(frozen=True)
class OrderedPair:
    """Two recordings, ``better`` should score higher than ``worse``."""

    better: Path
    worse: Path
    names: tuple[str, str] = field(default=("", ""), compare=False)
    """The two paths as the list writes them; not compared."""


def normalise_path(path: str) -> str:
    """Forward slashes, no ``.``/``..``/doubled separators, no leading ``./``: a path's key."""
    text = path.strip().replace("\\", "/")
    return posixpath.normpath(text) if text else text


def audio_candidates(name: str, folder: Path) -> tuple[Path, ...]:
    """Where a list's relative path ``name`` may point, in order; an absolute path as is.

    The list's folder (generic lists, PerceptualAudio, NISQA's corpus file at the corpus root);
    the working directory (lists written relative to where commands run); the folder above
    (NISQA lists kept in a subfolder of the corpus); ``wav/`` in the list's folder and beside it
    (BVCC: ``sets/train_mos_list.txt`` names files in ``wav/``).
    """
    p = Path(name).expanduser()
    if p.is_absolute():
        return (p,)
    return (folder / p, p, folder.parent / p, folder / "wav" / p, folder.parent / "wav" / p)


def find_audio(name: str, folder: Path) -> Path:
    """The first existing of `audio_candidates`, else the first (reported missing by its user)."""
    candidates = audio_candidates(name, folder)
    return next((c for c in candidates if c.is_file()), candidates[0])


def system_from_name(path: str) -> str | None:
    """The system id of a BVCC-style file name ``sys<id>-utt<id>[.wav]``, else None.

    The one rule for names, used when a list has no system for a row. Only the BVCC pattern
    counts: splitting any name at its first "-" (what `train` once did) invents systems for
    names like ``my-recording.wav`` ("my"), and a false system silently merges unrelated files
    in system-level metrics and k-fold splits, while a missed one only falls back to files.
    """
    match = _BVCC_NAME.match(posixpath.basename(normalise_path(path)))
    return match.group(1) if match else None


T = TypeVar("T")


def _absent(path: Path) -> str:
    """`path` as a missing file is reported: saying why when it exists but is no file."""
    if path.is_symlink():
        return f"{path} (a symlink that leads to no file: a loop or a broken link)"
    return f"{path} (a directory)" if path.is_dir() else str(path)


def drop_missing(items: Sequence[T], paths_of: Callable[[T], tuple[Path, ...]], source: Path, what: str) -> list[T]:
    """Items whose audio files all exist; logs the missing ones; ValueError when none is left."""
    kept, missing = [], []
    for item in items:
        absent = [p for p in paths_of(item) if not p.is_file()]
        if absent:
            missing.extend(absent)
        else:
            kept.append(item)
    if missing:
        shown = ", ".join(_absent(p) for p in missing[:SHOW_MISSING])
        more = f" and {len(missing) - SHOW_MISSING} more" if len(missing) > SHOW_MISSING else ""
        log.warning("%s: %d audio files are missing; their %d %s are skipped: %s%s", source, len(missing), len(items) - len(kept), what, shown, more)
    if not kept:
        raise ValueError(f"{source}: none of the {len(items)} {what} has its audio file(s) (first missing: {missing[0]})")
    return kept


def _folder(listed: ListRows, values: dict) -> Path:
    """The folder a row's relative paths start from: the list's, or its format's subfolder."""
    folder = listed.source.parent
    if listed.format.subfolder is not None:
        role, template = listed.format.subfolder
        if values.get(role):
            folder = folder / template.format(values[role])
    return folder


def read_mos(source: str | Path, *, skip_missing: bool = False) -> list[MosItem]:
    """The rated recordings of a MOS list (NISQA corpus CSV, labels CSV or BVCC list).

    ValueError for a list in none of the formats, a MOS outside [1, 5] or not a number, or a
    file listed twice (naming the file, line and value); see the module docstring for the rest.
    """
    listed = read_list(source, MOS_FORMATS, "MOS list")
    items: list[MosItem] = []
    seen: dict[str, str] = {}
    for where, values in listed.rows:
        name = str(values["path"])
        key = normalise_path(name)
        if key in seen:
            raise ValueError(f"{where}: path {name!r} already listed at {seen[key]}")
        seen[key] = where
        system = values.get("system") or system_from_name(name)
        path = find_audio(name, _folder(listed, values))
        items.append(MosItem(path, float(values["mos"]), system, values.get("dataset"), name, values.get("degradation"), values.get("fold")))  # type: ignore[arg-type]
    return drop_missing(items, lambda i: (i.path,), listed.source, "items") if skip_missing else items


def read_jnd(source: str | Path, *, skip_missing: bool = False) -> list[JndItem]:
    """The pairs of a JND list (``path_a,path_b,label`` CSV or a PerceptualAudio list).

    ValueError for an unrecognised list or a label other than 0/1 (naming the file, line and
    value); identical files are allowed (labelled 0 by PerceptualAudio).
    """
    listed = read_list(source, JND_FORMATS, "JND list")
    items = []
    for _, values in listed.rows:
        folder = _folder(listed, values)
        items.append(JndItem(find_audio(str(values["path_a"]), folder), find_audio(str(values["path_b"]), folder), int(values["label"])))  # type: ignore[arg-type]
    return drop_missing(items, lambda i: (i.path_a, i.path_b), listed.source, "pairs") if skip_missing else items


def read_pairs(source: str | Path) -> list[OrderedPair]:
    """Ordered pairs from a ``better,worse`` CSV; ValueError for a pair of a file with itself."""
    listed = read_list(source, PAIR_FORMATS, "pair list")
    pairs = []
    for where, values in listed.rows:
        better, worse = str(values["better"]), str(values["worse"])
        if normalise_path(better) == normalise_path(worse):
            raise ValueError(f"{where}: a pair of a file with itself ({better!r})")
        folder = _folder(listed, values)
        pairs.append(OrderedPair(find_audio(better, folder), find_audio(worse, folder), (better, worse)))
    return pairs


__all__ = [
    "SHOW_MISSING",
    "JndItem",
    "MosItem",
    "OrderedPair",
    "audio_candidates",
    "drop_missing",
    "find_audio",
    "normalise_path",
    "read_jnd",
    "read_mos",
    "read_pairs",
    "system_from_name",
]
