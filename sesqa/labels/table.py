"""Reading one list: text -> rows -> the declared format it is in -> checked values per row.

Fields are separated by a comma, or by a tab or a semicolon when the first data line has no comma
(`separator`); quoting follows the csv module. Blank lines and lines starting with ``#`` are
skipped; a UTF-8 byte-order mark is ignored. The format is found from the first row (`detect`):
a header format when that row names every required column (case-insensitive, first listed name
found wins), else a header-less one when the row has as many fields as the format allows, its
number columns parse as numbers and its path columns do not. Every error is a ValueError naming
the file and, for a row, its line (``list.csv:12: ...``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SEPARATORS: tuple[str, ...] = (",", "\t", ";")
"""Field separators, in order of preference: the first found in the first data line is used."""

Row = tuple[int, list[str]]
"""(line number, stripped fields) of one data row."""

Values = dict[str, "str | float | None"]
"""One row's values by column role: paths and text as str, numbers as float, absent as None."""


@dataclass(frozen=True)
class Column:
    """One column of a list format: its role, the header names it may have and what it holds."""

    role: str
    """The key of its value in a row's `Values` (``path``, ``mos``, ``system``...)."""
    names: tuple[str, ...] = ()
    """Header names, in order of preference (case-insensitive); empty in a header-less format."""
    kind: Literal["path", "number", "text"] = "text"
    """A path (never empty), a finite number, or text (empty -> None)."""
    required: bool = True
    bounds: tuple[float, float] | None = None
    """Inclusive range a number must lie in."""
    whole: bool = False
    """A number must be a whole number (labels 0/1)."""
    blank: bool = False
    """An empty field is None, not an error: a row whose number is missing on purpose (a file
    `sesqa score` could not score or gave no number has an empty score cell)."""
    what: str = ""
    """Its name in messages; the role when empty."""

    @property
    def label(self) -> str:
        return self.what or self.role


@dataclass(frozen=True)
class ListFormat:
    """One accepted layout of a list, as data: its name, columns and whether it has a header."""

    name: str
    columns: tuple[Column, ...]
    header: bool = True
    """False: every row is data, field k is ``columns[k]`` (optional columns may be left off)."""
    subfolder: tuple[str, str] | None = None
    """(role, template): a row's relative paths lie in folder ``template.format(value)`` of the
    list's folder when the row has a value for that role (PerceptualAudio's ``<noise>_list/``)."""


@dataclass(frozen=True)
class ListRows:
    """A list read: its file, the format it is in, and ``(where, values)`` of each data row."""

    source: Path
    format: ListFormat
    rows: tuple[tuple[str, Values], ...]


def separator(first_line: str) -> str:
    """The separator of a list whose first data line is ``first_line`` (see `SEPARATORS`)."""
    return next((s for s in SEPARATORS if s in first_line), ",")


def read_rows(source: str | Path) -> list[Row]:
    """(line number, stripped fields) of each non-blank, non-comment row; ValueError if none."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read the list ({error})") from error
    lines = text.splitlines()
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    reader = csv.reader(lines, delimiter=separator(first))
    rows: list[Row] = []
    try:
        for fields in reader:
            if not any(f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
                continue
            rows.append((reader.line_num, [f.strip() for f in fields]))
    except csv.Error as error:
        raise ValueError(f"{path}:{reader.line_num}: malformed CSV ({error})") from error
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def _is_number(text: str) -> bool:
    """Whether ``text`` parses as a float (used to tell a header-less row from a header)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def find_column(header: Sequence[str], names: Sequence[str]) -> int | None:
    """Index in ``header`` of the first of ``names`` it holds (case-insensitive), or None."""
    lowered = [h.lower() for h in header]
    for name in names:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def _match(fmt: ListFormat, fields: list[str]) -> dict[str, int | None] | None:
    """Column index of each role if the first row ``fields`` fits ``fmt``, else None."""
    if fmt.header:
        index = {c.role: find_column(fields, c.names) for c in fmt.columns}
        return index if all(index[c.role] is not None for c in fmt.columns if c.required) else None
    if not sum(c.required for c in fmt.columns) <= len(fields) <= len(fmt.columns):
        return None
    for text, column in zip(fields, fmt.columns):
        if column.kind == "number" and not _is_number(text):
            return None
        if column.kind == "path" and _is_number(text):
            return None
    return {c.role: k for k, c in enumerate(fmt.columns)}


def _no_format(source: Path, line: int, fields: list[str], formats: Sequence[ListFormat], kind: str) -> ValueError:
    """The error for a first row that fits none of ``formats``: what the closest header lacks."""
    problem = "no header and no header-less row"
    missing_by_format = [(f, [c for c in f.columns if c.required and find_column(fields, c.names) is None]) for f in formats if f.header]
    if missing_by_format:
        closest, missing = min(reversed(missing_by_format), key=lambda fm: len(fm[1]))
        required = [c for c in closest.columns if c.required]
        if all(len(c.names) == 1 for c in required):
            problem = f"expected a header with columns {','.join(c.names[0] for c in required)}"
        else:
            problem = "; ".join(f"no column {c.names[0]!r}" if len(c.names) == 1 else f"no {c.label} column (expected one of {', '.join(c.names)})" for c in missing)
    accepted = ", ".join(f.name for f in formats)
    return ValueError(f"{source}:{line}: {problem}; not a {kind} (accepted: {accepted}; see docs/train.md); got {', '.join(fields) or 'an empty row'!r}")


def detect(source: str | Path, first: Row, formats: Sequence[ListFormat], kind: str) -> tuple[ListFormat, dict[str, int | None]]:
    """The first of ``formats`` that the first row fits, and its column indices (module docstring)."""
    for fmt in formats:
        index = _match(fmt, first[1])
        if index is not None:
            return fmt, index
    raise _no_format(Path(source), first[0], first[1], formats, kind)


def _number(text: str, column: Column, where: str) -> float:
    """``text`` as a finite float within the column's bounds, or ValueError saying where and why."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {column.label} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {column.label} {text!r} is not a finite number")
    if column.bounds is not None and not column.bounds[0] <= value <= column.bounds[1]:
        raise ValueError(f"{where}: {column.label} {text!r} is outside [{column.bounds[0]:g}, {column.bounds[1]:g}]")
    if column.whole and not value.is_integer():
        raise ValueError(f"{where}: {column.label} {text!r} is not a whole number")
    return value


def _value(column: Column, fields: list[str], index: int | None, where: str) -> str | float | None:
    """One field checked as ``column`` says; None for an optional column the row lacks."""
    if index is None:
        return None
    if index >= len(fields) or (not column.required and not fields[index]):
        if column.required:
            raise ValueError(f"{where}: row has {len(fields)} fields, no {column.label} (column {index + 1})")
        return None
    text = fields[index]
    if column.kind == "path":
        if not text:
            raise ValueError(f"{where}: empty {column.label}")
        return text
    if column.kind == "number":
        return None if column.blank and not text else _number(text, column, where)
    return text or None


def read_list(source: str | Path, formats: Sequence[ListFormat], kind: str) -> ListRows:
    """Every data row of ``source``, checked against the first of ``formats`` its first row fits.

    ``kind`` names the list in errors ("MOS list"). ValueError for an unreadable or empty file,
    a first row that fits no format, a header with no rows, and any bad field (file and line).
    """
    path = Path(source)
    rows = read_rows(path)
    fmt, index = detect(path, rows[0], formats, kind)
    data = rows[1:] if fmt.header else rows
    if not data:
        raise ValueError(f"{path}: the {kind} has a header but no rows")
    out: list[tuple[str, Values]] = []
    for line, fields in data:
        where = f"{path}:{line}"
        if not fmt.header and len(fields) > len(fmt.columns):
            raise ValueError(f"{where}: {len(fields)} fields, expected at most {len(fmt.columns)} ({', '.join(c.role for c in fmt.columns)})")
        out.append((where, {c.role: _value(c, fields, index[c.role], where) for c in fmt.columns}))
    return ListRows(path, fmt, tuple(out))


__all__ = [
    "SEPARATORS",
    "Column",
    "ListFormat",
    "ListRows",
    "Row",
    "Values",
    "detect",
    "find_column",
    "read_list",
    "read_rows",
    "separator",
]
