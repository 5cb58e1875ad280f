"""The manifest of a clean-speech corpus: one row per audio file, read and written alike everywhere.

A manifest is a tab-separated table with a header row naming `MANIFEST_COLUMNS`; a name ending
in `.gz` is gzip-compressed (written with no time stamp, so the same rows give the same bytes).
`file` is the file's path relative to the corpus root, in posix form; `sha256` is of the file's
bytes, so a check needs no decoder. The committed manifest of the sesqa running-speech corpus is
`manifests/speech.tsv.gz` beside this module (`COMMITTED_MANIFEST`); that of the full-band check
set is `manifests/fullband.tsv` (`FULLBAND_MANIFEST`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

from ..runtime.files import atomic_write_bytes

MANIFEST_COLUMNS = ("file", "source", "speaker", "language", "sample_rate", "band_edge_hz", "duration_s", "sha256", "split")
SPLITS = ("train", "valid", "test")
CORPUS_MANIFEST_NAME = "manifest.tsv"
"""The manifest's name at the top of a built corpus; a clean root holding one is read from it."""
COMMITTED_MANIFEST = Path(__file__).resolve().parent / "manifests" / "speech.tsv.gz"
"""The manifest every build of the sesqa running-speech corpus is compared with."""
FULLBAND_MANIFEST = COMMITTED_MANIFEST.with_name("fullband.tsv")
"""The manifest of the held-out full-band check set (`corpora.FULLBAND_RECIPES`)."""

BAND_EDGE_TOLERANCE_HZ = 50.0
"""Two measurements of a file's band edge that differ by less are the same (numpy, FFT builds)."""
DURATION_TOLERANCE_S = 0.001

_SHA256 = re.compile(r"[0-9a-f]{64}")
_LANGUAGE = re.compile(r"[a-z]{2}")


@dataclass(frozen=True)
class CorpusEntry:
    """One audio file of a corpus and what is known about it."""

    file: str
    """Path relative to the corpus root, posix form (`<source>/<path in the source>`)."""
    source: str
    speaker: str
    """Globally unique: `<source>:<id>`."""
    language: str
    """ISO 639-1 code."""
    sample_rate: int
    """The file's own rate (Hz)."""
    band_edge_hz: float
    """Measured upper edge of the band the recording fills (sesqa.audio.band.upper_band_edge_hz)."""
    duration_s: float
    sha256: str
    """Of the file's bytes."""
    split: str

    def __post_init__(self) -> None:
        path = PurePosixPath(self.file)
        if not self.file or path.is_absolute() or ".." in path.parts or "\\" in self.file or str(path) != self.file:
            raise ValueError(f"file must be a relative posix path inside the corpus, got {self.file!r}")
        if not self.source or path.parts[0] != self.source:
            raise ValueError(f"file must lie under its source folder {self.source!r}, got {self.file!r}")
        if not self.speaker.startswith(f"{self.source}:") or self.speaker == f"{self.source}:":
            raise ValueError(f"speaker must be '<source>:<id>' with source {self.source!r}, got {self.speaker!r}")
        if not _LANGUAGE.fullmatch(self.language):
            raise ValueError(f"language must be an ISO 639-1 code (two lower-case letters), got {self.language!r}")
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0 Hz, got {self.sample_rate}")
        if not (math.isfinite(self.band_edge_hz) and 0.0 < self.band_edge_hz <= self.sample_rate / 2 + 1e-6):
            raise ValueError(f"band_edge_hz must be in (0, sample_rate/2 = {self.sample_rate / 2:g}], got {self.band_edge_hz}")
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise ValueError(f"duration_s must be > 0, got {self.duration_s}")
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"sha256 must be 64 lower-case hex digits, got {self.sha256!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")

    def row(self) -> str:
        """The entry as one manifest line (without the newline)."""
        return "\t".join((
            self.file, self.source, self.speaker, self.language, str(self.sample_rate),
            f"{self.band_edge_hz:.1f}", f"{self.duration_s:.3f}", self.sha256, self.split,
        ))


assert tuple(f.name for f in fields(CorpusEntry)) == MANIFEST_COLUMNS


def _parse_row(cells: list[str]) -> CorpusEntry:
    file, source, speaker, language, sample_rate, band_edge_hz, duration_s, sha256, split = cells
    return CorpusEntry(file, source, speaker, language, int(sample_rate), float(band_edge_hz), float(duration_s), sha256, split)


def parse_corpus_manifest(text: str, name: str = "<manifest>") -> list[CorpusEntry]:
    """Entries of a manifest's text; ValueError naming `name`, the line and the problem."""
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != MANIFEST_COLUMNS:
        found = lines[0].split("\t") if lines else "nothing"
        raise ValueError(f"{name}: line 1: the header must name the columns {', '.join(MANIFEST_COLUMNS)} (tab-separated), found {found}")
    entries: list[CorpusEntry] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(MANIFEST_COLUMNS):
            raise ValueError(f"{name}: line {number}: {len(cells)} columns, expected {len(MANIFEST_COLUMNS)}")
        try:
            entry = _parse_row(cells)
        except ValueError as e:
            raise ValueError(f"{name}: line {number} ({cells[0]}): {e}") from None
        if entry.file in seen:
            raise ValueError(f"{name}: line {number}: {entry.file} is listed twice (first on line {seen[entry.file]})")
        seen[entry.file] = number
        entries.append(entry)
    return entries


def read_corpus_manifest(path: str | Path) -> list[CorpusEntry]:
    """Entries of a manifest file (`.gz`: compressed); ValueError naming the file, line and problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read the manifest ({e})") from e
    return parse_corpus_manifest(text, str(path))


def manifest_text(entries: Iterable[CorpusEntry]) -> str:
    """The manifest of `entries`, sorted by file."""
    rows = sorted(entries, key=lambda e: e.file)
    return "\n".join(["\t".join(MANIFEST_COLUMNS), *(e.row() for e in rows)]) + "\n"


def write_corpus_manifest(path: str | Path, entries: Iterable[CorpusEntry]) -> Path:
    """Write `entries` (sorted by file) to `path` atomically; `.gz` compresses, reproducibly."""
    path = Path(path)
    data = manifest_text(entries).encode("utf-8")
    if path.suffix == ".gz":
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
            f.write(data)
        data = buffer.getvalue()
    return atomic_write_bytes(path, data)


def sha256_file(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(frozen=True)
class Problem:
    """A file that does not match its manifest, and how."""

    file: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


def compare_entries(built: Sequence[CorpusEntry], expected: Sequence[CorpusEntry]) -> list[Problem]:
    """How the rows of a build differ from the expected ones (missing, extra, changed), by file."""
    have = {e.file: e for e in built}
    want = {e.file: e for e in expected}
    problems = [Problem(f, "in the manifest but not built") for f in sorted(want.keys() - have.keys())]
    problems += [Problem(f, "built but not in the manifest") for f in sorted(have.keys() - want.keys())]
    for f in sorted(have.keys() & want.keys()):
        a, b = have[f], want[f]
        if a.sha256 != b.sha256:
            problems.append(Problem(f, f"sha256 {a.sha256} differs from the manifest's {b.sha256}"))
            continue
        for name in ("source", "speaker", "language", "sample_rate", "split"):
            if getattr(a, name) != getattr(b, name):
                problems.append(Problem(f, f"{name} {getattr(a, name)!r} differs from the manifest's {getattr(b, name)!r}"))
        if abs(a.band_edge_hz - b.band_edge_hz) > BAND_EDGE_TOLERANCE_HZ:
            problems.append(Problem(f, f"band edge {a.band_edge_hz:.1f} Hz differs from the manifest's {b.band_edge_hz:.1f} Hz"))
        if abs(a.duration_s - b.duration_s) > DURATION_TOLERANCE_S:
            problems.append(Problem(f, f"duration {a.duration_s:.3f} s differs from the manifest's {b.duration_s:.3f} s"))
    return problems


def verify_corpus(root: str | Path, entries: Sequence[CorpusEntry], *, on_file=None) -> list[Problem]:
    """Files under `root` that are missing or whose bytes differ from `entries` (sha256), and
    audio files in the sources' folders that no entry lists. `on_file()` is called per file checked."""
    root = Path(root)
    problems: list[Problem] = []
    for entry in entries:
        path = root / entry.file
        if not path.is_file():
            problems.append(Problem(entry.file, "missing"))
        else:
            digest = sha256_file(path)
            if digest != entry.sha256:
                problems.append(Problem(entry.file, f"sha256 {digest} differs from the manifest's {entry.sha256}"))
        if on_file is not None:
            on_file()
    listed = {e.file for e in entries}
    for source in sorted({e.source for e in entries}):
        folder = root / source
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
                rel = path.relative_to(root).as_posix()
                if rel not in listed:
                    problems.append(Problem(rel, "not in the manifest"))
    return problems


def is_corpus_manifest(path: str | Path) -> bool:
    """Whether `path` is a plain-text file whose first line is this manifest's header (a file of
    the same name from another tool is not)."""
    try:
        with open(path, encoding="utf-8") as f:
            return tuple(f.readline().rstrip("\n").split("\t")) == MANIFEST_COLUMNS
    except (OSError, UnicodeDecodeError):
        return False
