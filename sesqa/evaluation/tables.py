"""CSV plumbing for ``sesqa evaluate``: read predictions, MOS labels and ordered pairs, join by path.

Predictions (`read_predictions`): a header with a path column and a score column. Path columns,
first found wins: ``path``, ``filepath_deg``, ``filepath``, ``file_path``, ``filename``, ``deg``,
``file``, ``wav``, ``utt``, ``utterance``, ``utt_id``. Score columns: ``score`` (``sesqa score``),
``mos_pred`` (NISQA), ``prediction``, ``predicted_mos``, ``pred``, ``OVRL`` then ``P808_MOS``
(DNSMOS' ``dnsmos_local.py``: ``filename`` plus ``OVRL``, ``SIG``, ``BAK``, ``P808_MOS``, and an
unnamed pandas index column, which is ignored); ``column=`` picks any other. Header names match
case-insensitively. A file without a header whose second field is a number is read as
``path,score`` (VoiceMOS answer files: ``sys64e2f-utt491a78a,3.25``).

Labels (`read_labels`): path column as above, MOS column ``mos`` (also ``true_mos``,
``mos_true``, ``label``), optional system column ``system`` (also ``system_id``, ``sys``,
``sys_id``, ``condition``, ``con``: NISQA corpus files). Without a header: ``path,mos`` (BVCC
``sets/*_mos_list.txt``). Without a system column, a BVCC-style name ``sys<id>-utt<id>`` gives
the system ``sys<id>``.

Pairs (`read_pairs`): header ``better,worse``, two paths, the first should score higher.

Joining (`join_labels`, `join_pairs`) matches a label's path to a prediction's by normalised
path; failing that by file name, when that name is unique among the predictions and among the
paths being looked up; failing that by file name without extension, under the same rule. What
matches nothing is returned, never silently dropped.

Fields are separated by commas, or by tabs or semicolons when the first line has no comma.
Blank lines and lines starting with ``#`` are skipped. Malformed rows raise ValueError naming
the file, the line and the problem.
"""

from __future__ import annotations

import csv
import math
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

PATH_COLUMNS: tuple[str, ...] = (
    "path",
    "filepath_deg",
    "filepath",
    "file_path",
    "filename",
    "deg",
    "file",
    "wav",
    "utt",
    "utterance",
    "utt_id",
)
SCORE_COLUMNS: tuple[str, ...] = (
    "score",
    "mos_pred",
    "prediction",
    "predicted_mos",
    "pred",
    "ovrl",
    "p808_mos",
)
MOS_COLUMNS: tuple[str, ...] = ("mos", "true_mos", "mos_true", "label")
SYSTEM_COLUMNS: tuple[str, ...] = ("system", "system_id", "sys", "sys_id", "condition", "con")

_BVCC_NAME = re.compile(r"^(sys[0-9A-Za-z]+)-utt")


class LabelRow(NamedTuple):
    """One MOS label: the audio path as written, its MOS, its system id (None if unknown)."""

    path: str
    mos: float
    system: str | None


class PairRow(NamedTuple):
    """One ordered pair: ``better`` should score higher than ``worse``."""

    better: str
    worse: str


@dataclass(frozen=True)
class LabelJoin:
    """Labels matched to predictions, in label order, and what matched nothing.

    ``matched_by`` counts matches per rule: "path", "basename", "stem".
    """

    paths: tuple[str, ...]
    pred: np.ndarray
    mos: np.ndarray
    systems: tuple[str | None, ...]
    unmatched_labels: tuple[str, ...]
    unmatched_predictions: tuple[str, ...]
    matched_by: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PairJoin:
    """Scores of the pairs whose two paths both have a prediction, and the pairs left out."""

    s_better: np.ndarray
    s_worse: np.ndarray
    unmatched_pairs: tuple[PairRow, ...]
    matched_by: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------- reading


def _delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    if "\t" in first_line:
        return "\t"
    if ";" in first_line:
        return ";"
    return ","


def _rows(source: str | Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped fields) of each non-blank, non-comment row of a CSV file."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error})") from error
    lines = text.splitlines()
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    reader = csv.reader(lines, delimiter=_delimiter(first))
    try:
        for fields in reader:
            if not fields or all(not f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
                continue
            yield reader.line_num, [f.strip() for f in fields]
    except csv.Error as error:
        raise ValueError(f"{path}:{reader.line_num}: malformed CSV ({error})") from error


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _find_column(header: list[str], candidates: Iterable[str]) -> int | None:
    """Index of the first candidate present in ``header`` (case-insensitive), or None."""
    lowered = [h.lower() for h in header]
    for name in candidates:
        if name in lowered:
            return lowered.index(name)
    return None


def _number(text: str, what: str, where: str) -> float:
    """``text`` as a finite float, or ValueError saying where and what is wrong."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {what} {text!r} is not a finite number")
    return value


def _field(fields: list[str], index: int, what: str, where: str) -> str:
    """Field ``index`` of a row, or ValueError if the row is too short."""
    if index >= len(fields):
        raise ValueError(f"{where}: row has {len(fields)} fields, no {what} (column {index + 1})")
    return fields[index]


@dataclass(frozen=True)
class _Layout:
    """Where the columns of a table are, and whether its first row is data."""

    path: int
    value: int
    system: int | None
    headerless: bool


def _layout(
    source: Path,
    line: int,
    first: list[str],
    value_columns: Sequence[str],
    what: str,
    column: str | None = None,
) -> _Layout:
    """Locate the path/value(/system) columns from the first row, or ValueError naming the file."""
    path_index = _find_column(first, PATH_COLUMNS)
    if path_index is None and len(first) >= 2 and _is_number(first[1]) and not _is_number(first[0]):
        return _Layout(0, 1, None, True)
    if path_index is None:
        raise ValueError(
            f"{source}:{line}: no path column; expected a header with one of {', '.join(PATH_COLUMNS)} "
            f"(got {', '.join(first) or 'an empty row'}), or headerless 'path,{what}' rows"
        )
    if column is not None:
        value_index = _find_column(first, [column.lower()])
        if value_index is None:
            raise ValueError(f"{source}:{line}: no column {column!r} (header: {', '.join(first)})")
    else:
        value_index = _find_column(first, value_columns)
        if value_index is None:
            raise ValueError(
                f"{source}:{line}: no {what} column; expected one of {', '.join(value_columns)} "
                f"(header: {', '.join(first)})"
            )
    return _Layout(path_index, value_index, _find_column(first, SYSTEM_COLUMNS), False)


def _table(
    source: str | Path, value_columns: Sequence[str], what: str, column: str | None = None
) -> Iterator[tuple[str, str, float, str | None]]:
    """(where, path, value, system field) of each data row of a path/value table."""
    path = Path(source)
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{path}: no rows")
    layout = _layout(path, first[0], first[1], value_columns, what, column)
    data = rows if not layout.headerless else _chain(first, rows)
    for line, fields in data:
        where = f"{path}:{line}"
        name = _field(fields, layout.path, "path", where)
        if not name:
            raise ValueError(f"{where}: empty path")
        value = _number(_field(fields, layout.value, what, where), what, where)
        system = fields[layout.system] if layout.system is not None and layout.system < len(fields) else None
        yield where, name, value, system or None


def _chain(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


def read_predictions(source: str | Path, column: str | None = None) -> dict[str, float]:
    """Path -> predicted score from a CSV of ``sesqa score``, NISQA, DNSMOS or a VoiceMOS answer file.

    ``column`` names the score column when it is none of `SCORE_COLUMNS` (or to pick DNSMOS'
    ``P808_MOS`` over ``OVRL``). A path listed twice is an error.
    """
    scores: dict[str, float] = {}
    seen: dict[str, str] = {}
    for where, name, value, _ in _table(source, SCORE_COLUMNS, "score", column):
        key = normalise_path(name)
        if key in seen:
            raise ValueError(f"{where}: path {name!r} already listed at {seen[key]}")
        seen[key] = where
        scores[name] = value
    return scores


def system_from_name(path: str) -> str | None:
    """The system id of a BVCC-style file name ``sys<id>-utt<id>[.wav]``, else None."""
    match = _BVCC_NAME.match(posixpath.basename(normalise_path(path)))
    return match.group(1) if match else None


def read_labels(source: str | Path) -> list[LabelRow]:
    """MOS labels ``(path, mos, system)`` from a labels CSV, a NISQA corpus CSV or a BVCC list.

    A path listed twice is an error (average the ratings before evaluating).
    """
    labels: list[LabelRow] = []
    seen: dict[str, str] = {}
    for where, name, value, system in _table(source, MOS_COLUMNS, "mos"):
        key = normalise_path(name)
        if key in seen:
            raise ValueError(f"{where}: path {name!r} already listed at {seen[key]}")
        seen[key] = where
        labels.append(LabelRow(name, value, system if system is not None else system_from_name(name)))
    return labels


def read_pairs(source: str | Path) -> list[PairRow]:
    """Ordered pairs ``(better, worse)`` from a CSV with columns ``better,worse``."""
    path = Path(source)
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{path}: no rows")
    better = _find_column(first[1], ["better"])
    worse = _find_column(first[1], ["worse"])
    if better is None or worse is None:
        raise ValueError(
            f"{path}:{first[0]}: expected a header with columns better,worse (got {', '.join(first[1])})"
        )
    pairs = []
    for line, fields in rows:
        where = f"{path}:{line}"
        b = _field(fields, better, "better path", where)
        w = _field(fields, worse, "worse path", where)
        if not b or not w:
            raise ValueError(f"{where}: empty path")
        if normalise_path(b) == normalise_path(w):
            raise ValueError(f"{where}: a pair of a file with itself ({b!r})")
        pairs.append(PairRow(b, w))
    return pairs


# ----------------------------------------------------------------------------- joining


def normalise_path(path: str) -> str:
    """Forward slashes, no ``.``/``..``/doubled separators, no leading ``./``: the join key."""
    text = path.strip().replace("\\", "/")
    return posixpath.normpath(text) if text else text


def _stem(key: str) -> str:
    base = posixpath.basename(key)
    stem, dot, _ = base.rpartition(".")
    return stem if dot and stem else base


class _Matcher:
    """Finds a prediction for a path: by normalised path, else unique file name, else unique stem."""

    def __init__(self, predictions: dict[str, float], queries: Iterable[str]) -> None:
        self.by_path = {normalise_path(p): p for p in predictions}
        query_keys = {normalise_path(q) for q in queries}
        self.by_name = self._unique(self.by_path, query_keys, posixpath.basename)
        self.by_stem = self._unique(self.by_path, query_keys, _stem)

    @staticmethod
    def _unique(by_path: dict[str, str], query_keys: set[str], part: Callable[[str], str]) -> dict[str, str]:
        """part(key) -> prediction for parts occurring once among predictions and once among queries."""
        found: dict[str, list[str]] = {}
        for key, original in by_path.items():
            found.setdefault(part(key), []).append(original)
        asked: dict[str, int] = {}
        for key in query_keys:
            asked[part(key)] = asked.get(part(key), 0) + 1
        return {name: hits[0] for name, hits in found.items() if len(hits) == 1 and asked.get(name, 0) <= 1}

    def find(self, path: str) -> tuple[str, str] | None:
        """(prediction path, rule) for ``path``, or None."""
        key = normalise_path(path)
        if key in self.by_path:
            return self.by_path[key], "path"
        if posixpath.basename(key) in self.by_name:
            return self.by_name[posixpath.basename(key)], "basename"
        if _stem(key) in self.by_stem:
            return self.by_stem[_stem(key)], "stem"
        return None


def join_labels(predictions: dict[str, float], labels: Sequence[LabelRow]) -> LabelJoin:
    """Predictions matched to labels; labels and predictions left unmatched are returned too."""
    matcher = _Matcher(predictions, (row.path for row in labels))
    paths, pred, mos, systems, unmatched = [], [], [], [], []
    used: dict[str, str] = {}
    matched_by = {"path": 0, "basename": 0, "stem": 0}
    for row in labels:
        hit = matcher.find(row.path)
        if hit is None or hit[0] in used:
            unmatched.append(row.path)
            continue
        used[hit[0]] = row.path
        matched_by[hit[1]] += 1
        paths.append(row.path)
        pred.append(predictions[hit[0]])
        mos.append(row.mos)
        systems.append(row.system)
    left = tuple(p for p in predictions if p not in used)
    return LabelJoin(
        tuple(paths),
        np.asarray(pred, dtype=np.float64),
        np.asarray(mos, dtype=np.float64),
        tuple(systems),
        tuple(unmatched),
        left,
        matched_by,
    )


def join_pairs(predictions: dict[str, float], pairs: Sequence[PairRow]) -> PairJoin:
    """Scores of ordered pairs; pairs with a path that has no prediction are returned apart."""
    matcher = _Matcher(predictions, {p for pair in pairs for p in pair})
    better, worse, unmatched = [], [], []
    matched_by = {"path": 0, "basename": 0, "stem": 0}
    for pair in pairs:
        hits = (matcher.find(pair.better), matcher.find(pair.worse))
        if hits[0] is None or hits[1] is None:
            unmatched.append(pair)
            continue
        for _, rule in hits:
            matched_by[rule] += 1
        better.append(predictions[hits[0][0]])
        worse.append(predictions[hits[1][0]])
    return PairJoin(
        np.asarray(better, dtype=np.float64),
        np.asarray(worse, dtype=np.float64),
        tuple(unmatched),
        matched_by,
    )
