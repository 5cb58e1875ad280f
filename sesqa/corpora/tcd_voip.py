"""TCD-VoIP as a MOS list with talker folds, rebuilt from the distribution and checked: `prepare`.

TCD-VoIP (N. Harte, E. Gillen, A. Hines, "TCD-VoIP, a research database of degraded speech for
assessing quality in VoIP applications", QoMEX 2015): 384 rated 48 kHz WAVs, each one talker
(``FA``, ``FG``, ``MK``, ``ML``) under one condition of one degradation family (chop, clip,
competing speaker, echo, noise), rated by 24 listeners. Its licence is listed as CC BY-NC-SA 4.0,
so neither its audio nor weights trained on it go into this GPL package: `prepare` writes into a
folder of the user's choosing and only the checksums (`MANIFEST`) are committed.

`prepare(source, out)` reads the distribution, either an unpacked download folder or a bare git
directory of its GitHub mirror (nschimme/TCD-VOIP): the workbook's "Subjective Test Scores"
sheet (file, condition id, MOS, the 24 listeners' ratings) and its "Test Conditions" sheet (the
MNRU anchors, the source sentences' talker). It writes

- ``out/audio/<family>/<file>.wav``: the rated files, byte for byte as distributed;
- ``out/tcd-voip.csv``: `LABELS_HEADER`, read by `sesqa.labels.read_mos` (``condition`` is
  the system, ``degradation`` the type, ``fold`` the talker fold);
- ``out/folds/fold-<k>-train.csv`` and ``fold-<k>-test.csv``: the same rows split by fold, for
  `sesqa train --mos` and `sesqa evaluate --labels`;

and compares the checksums of all of them with the committed `MANIFEST` (ValueError naming the
files that differ), so a rebuild is verified.

Rows: ``condition`` is ``<family>-<ConditionID>`` (``chop-07``); ``degradation`` is the family,
or ``mnru`` for the MNRU anchors (ConditionID 21-24 of every family, the workbook's "MNRU Q");
``mos_std`` is the sample standard deviation (n - 1) of the ratings. The 16 echo files of
ConditionID 21-24 have no ratings in the workbook and are left out.

Folds: leave one talker out. The talker is the file name's last field (``C_07_CHOP_MK.wav``:
``MK``; the workbook's source sentences agree, which is checked) and the talkers, sorted by name,
are folds 1-4 (FA, FG, MK, ML): no talker is in both a fold's training and test files. The
competing-speaker files mix in a second voice 10-40 dB down; the workbook does not name it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import math
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..runtime.files import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

DATASET = "tcd-voip"
SCORES_SHEET = "Subjective Test Scores"
CONDITIONS_SHEET = "Test Conditions"
LABELS_NAME = "tcd-voip.csv"
LABELS_HEADER: tuple[str, ...] = ("path", "mos", "mos_std", "ratings", "condition", "degradation", "talker", "fold", "dataset")
MNRU = "mnru"
FAMILIES: dict[str, str] = {"CHOP": "chop", "CLIP": "clip", "COMPSPKR": "compspkr", "ECHO": "echo", "NOISE": "noise"}
"""The degradation families of the file names, and their names in the labels."""
MANIFEST = Path(__file__).resolve().parent / "manifests" / "tcd-voip.tsv"
"""The committed checksums every `prepare` is compared with."""
MANIFEST_HEADER: tuple[str, ...] = ("role", "path", "bytes", "sha256")
MOS_TOLERANCE = 1e-9
"""The workbook's "sample MOS" must equal the mean of its ratings within this."""

_FILE_NAME = re.compile(r"^C_(\d{2})_([A-Z]+)_([FM][A-Z])\.wav$")


@dataclass(frozen=True)
class RatedFile:
    """One rated file of TCD-VoIP, as the workbook describes it."""

    name: str
    condition_id: int
    mos: float
    ratings: tuple[float, ...]
    mnru_q: float | None
    """The MNRU anchor's Q (dB), None for a file of the family's own degradation."""

    @property
    def family(self) -> str:
        return FAMILIES[_parse_name(self.name)[1]]

    @property
    def talker(self) -> str:
        return _parse_name(self.name)[2]

    @property
    def degradation(self) -> str:
        return MNRU if self.mnru_q is not None else self.family

    @property
    def condition(self) -> str:
        return f"{self.family}-{self.condition_id:02d}"

    @property
    def path(self) -> str:
        """Where it lies below the output folder."""
        return f"audio/{self.family}/{self.name}"

    @property
    def mos_std(self) -> float:
        n = len(self.ratings)
        return math.sqrt(sum((r - self.mos) ** 2 for r in self.ratings) / (n - 1)) if n > 1 else math.nan


@dataclass(frozen=True)
class Prepared:
    """What `prepare` wrote: the MOS list, the per-fold lists, and the manifest rows of everything."""

    labels: Path
    fold_lists: tuple[Path, ...]
    files: tuple[RatedFile, ...]
    folds: dict[str, int]
    """Talker -> fold (1..4)."""
    manifest: tuple[tuple[str, str, int, str], ...]
    """(role, path, bytes, sha256) of the workbook, each audio file and each list written."""


def _parse_name(name: str) -> tuple[int, str, str]:
    """(number, FAMILY, talker) of ``C_07_CHOP_MK.wav``; ValueError for any other name."""
    match = _FILE_NAME.match(name)
    if match is None or match.group(2) not in FAMILIES:
        raise ValueError(f"{name!r} is not a TCD-VoIP condition file name (C_<nn>_<{'|'.join(FAMILIES)}>_<talker>.wav)")
    return int(match.group(1)), match.group(2), match.group(3)


# ----------------------------------------------------------------------------- the distribution


class FolderSource:
    """An unpacked TCD-VoIP download: files found anywhere below ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()


class GitSource:
    """A bare git directory of the GitHub mirror (nschimme/TCD-VOIP): the files of its HEAD."""

    def __init__(self, git_dir: Path) -> None:
        self.root = git_dir
        listing = self._git("ls-tree", "-r", "-z", "HEAD").decode("utf-8")
        self._blobs = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            if meta.split()[1] == "blob":
                self._blobs[path] = meta.split()[2]
        self.paths = sorted(self._blobs)

    def _git(self, *args: str) -> bytes:
        done = subprocess.run(["git", f"--git-dir={self.root}", *args], capture_output=True, check=False)
        if done.returncode != 0:
            raise ValueError(f"{self.root}: git {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def read(self, path: str) -> bytes:
        return self._git("cat-file", "blob", self._blobs[path])


def open_source(path: str | Path) -> FolderSource | GitSource:
    """The distribution at ``path``: a bare git directory (HEAD and objects/) or a folder."""
    root = Path(path).expanduser()
    if (root / "HEAD").is_file() and (root / "objects").is_dir():
        return GitSource(root)
    if root.is_dir():
        return FolderSource(root)
    raise ValueError(f"{root}: no TCD-VoIP here (neither a folder nor a bare git directory)")


SCORES_COLUMNS: tuple[str, ...] = ("Filename", "ConditionID", "sample MOS")
CONDITIONS_COLUMNS: tuple[str, ...] = ("Filename", "Source1", "Source2", "MNRU Q", "ConditionID")


def _sheet_rows(workbook: Any, sheet: str, columns: Sequence[str], where: str) -> list[dict[str, Any]]:
    """The rows of ``sheet`` as dicts keyed by the header's names (listener columns by number);
    ValueError when the sheet or one of ``columns`` is missing."""
    if sheet not in workbook.sheetnames:
        raise ValueError(f"{where}: no sheet {sheet!r} (found {', '.join(workbook.sheetnames)})")
    rows = workbook[sheet].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"{where}, sheet {sheet!r}: no column {', '.join(repr(c) for c in missing)} (found {', '.join(h for h in header if h)})")
    return [dict(zip(header, row)) for row in rows if row and row[0]]


def read_workbook(data: bytes, where: str = "workbook") -> list[RatedFile]:
    """The rated files of the TCD-VoIP workbook's bytes; ValueError naming ``where`` and the row.

    Checks: every rated file name parses; its "sample MOS" is the mean of its ratings; the
    "Test Conditions" sheet lists it with the same ConditionID and its source sentences are
    the file name's talker's (so the talker folds rest on two agreeing sources).
    """
    try:
        import openpyxl
    except ImportError as e:
        raise ImportError(f"reading the TCD-VoIP workbook needs openpyxl ({e}): pip install 'sesqa[corpora]'") from e
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    conditions = {str(r["Filename"]).strip(): r for r in _sheet_rows(book, CONDITIONS_SHEET, CONDITIONS_COLUMNS, where)}
    files = []
    for row in _sheet_rows(book, SCORES_SHEET, SCORES_COLUMNS, where):
        name = str(row["Filename"]).strip()
        here = f"{where}, sheet {SCORES_SHEET!r}, {name}"
        try:
            talker = _parse_name(name)[2]
        except ValueError as e:
            raise ValueError(f"{here}: {e}") from None
        ratings = tuple(float(v) for k, v in row.items() if k.isdigit() and isinstance(v, int | float))
        mos = float(row["sample MOS"])
        if not ratings or abs(sum(ratings) / len(ratings) - mos) > MOS_TOLERANCE:
            raise ValueError(f"{here}: sample MOS {mos} is not the mean of its {len(ratings)} ratings")
        about = conditions.get(name)
        if about is None:
            raise ValueError(f"{where}: {name} is rated but not in sheet {CONDITIONS_SHEET!r}")
        if int(about["ConditionID"]) != int(row["ConditionID"]):
            raise ValueError(f"{here}: ConditionID {row['ConditionID']} differs from {CONDITIONS_SHEET!r}'s {about['ConditionID']}")
        sources = [str(about[k]).replace("\\", "/") for k in ("Source1", "Source2")]
        if any(not s.startswith(f"{talker}/") for s in sources):
            raise ValueError(f"{here}: source sentences {sources} are not talker {talker}'s")
        q = about.get("MNRU Q")
        files.append(RatedFile(name, int(row["ConditionID"]), mos, ratings, float(q) if isinstance(q, int | float) else None))
    if not files:
        raise ValueError(f"{where}: sheet {SCORES_SHEET!r} rates no file")
    return files


def talker_folds(files: Sequence[RatedFile]) -> dict[str, int]:
    """Talker -> fold: the talkers sorted by name are folds 1, 2, ... (leave one talker out)."""
    return {talker: k for k, talker in enumerate(sorted({f.talker for f in files}), start=1)}


# ----------------------------------------------------------------------------- writing


def labels_text(files: Sequence[RatedFile], folds: Mapping[str, int], prefix: str = "") -> str:
    """The MOS list of ``files`` (`LABELS_HEADER`), paths prefixed by ``prefix``, sorted by path."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LABELS_HEADER)
    for f in sorted(files, key=lambda f: f.path):
        writer.writerow((prefix + f.path, repr(f.mos), f"{f.mos_std:.4f}", len(f.ratings), f.condition, f.degradation, f.talker, folds[f.talker], DATASET))
    return out.getvalue()


def _entry(role: str, path: str, data: bytes) -> tuple[str, str, int, str]:
    return role, path, len(data), hashlib.sha256(data).hexdigest()


def _write(out: Path, path: str, data: bytes, role: str) -> tuple[str, str, int, str]:
    target = out / path
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, data, fsync=False)
    return _entry(role, path, data)


def manifest_text(rows: Sequence[tuple[str, str, int, str]]) -> str:
    lines = ["\t".join(MANIFEST_HEADER), *("\t".join(str(c) for c in row) for row in rows)]
    return "\n".join(lines) + "\n"


def read_manifest(path: str | Path) -> list[tuple[str, str, int, str]]:
    """The rows of a manifest written by `manifest_text`; ValueError naming file and line."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != MANIFEST_HEADER:
        raise ValueError(f"{path}:1: expected the header {' '.join(MANIFEST_HEADER)} (tab-separated)")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(MANIFEST_HEADER) or not cells[2].isdigit():
            raise ValueError(f"{path}:{number}: expected role, path, bytes, sha256; got {line!r}")
        rows.append((cells[0], cells[1], int(cells[2]), cells[3]))
    return rows


def manifest_differences(built: Sequence[tuple[str, str, int, str]], expected: Sequence[tuple[str, str, int, str]]) -> list[str]:
    """How a build differs from the expected manifest: missing, extra and changed paths."""
    have = {row[1]: row for row in built}
    want = {row[1]: row for row in expected}
    problems = [f"{p}: in the manifest, not built" for p in sorted(want.keys() - have.keys())]
    problems += [f"{p}: built, not in the manifest" for p in sorted(have.keys() - want.keys())]
    problems += [f"{p}: {have[p][2]} bytes sha256 {have[p][3]}, the manifest has {want[p][2]} bytes sha256 {want[p][3]}" for p in sorted(have.keys() & want.keys()) if have[p] != want[p]]
    return problems


def prepare(source: str | Path, out: str | Path, *, manifest: Path | None = MANIFEST) -> Prepared:
    """Extract TCD-VoIP's rated audio and write its MOS lists into ``out`` (module docstring).

    ``manifest``: the checksums to verify the result against (None: no check; `MANIFEST` by
    default). ValueError for a source without the workbook or a rated file, a workbook that
    fails `read_workbook`'s checks, or a result that differs from the manifest.
    """
    tree = open_source(source)
    out = Path(out)
    books = [p for p in tree.paths if p.lower().endswith(".xlsx") and not PurePosixPath(p).name.startswith("~$")]
    if len(books) != 1:
        raise ValueError(f"{tree.root}: expected one .xlsx workbook (the test conditions and MOS), found {len(books) or 'none'}{': ' + ', '.join(books) if books else ''}")
    book = tree.read(books[0])
    files = read_workbook(book, f"{tree.root}/{books[0]}")
    audio: dict[str, str] = {}
    for p in tree.paths:
        name = PurePosixPath(p).name
        if _FILE_NAME.match(name) and name in audio:
            raise ValueError(f"{tree.root}: {name} is there twice ({audio[name]}, {p})")
        if _FILE_NAME.match(name):
            audio[name] = p
    missing = [f.name for f in files if f.name not in audio]
    if missing:
        raise ValueError(f"{tree.root}: {len(missing)} rated files are missing (first: {missing[0]})")
    folds = talker_folds(files)
    rows = [_entry("source", PurePosixPath(books[0]).name, book)]
    rows += [_write(out, f.path, tree.read(audio[f.name]), "audio") for f in sorted(files, key=lambda f: f.path)]
    rows.append(_write(out, LABELS_NAME, labels_text(files, folds).encode("utf-8"), "labels"))
    lists = []
    for talker, k in folds.items():
        for part, chosen in (("train", [f for f in files if f.talker != talker]), ("test", [f for f in files if f.talker == talker])):
            path = f"folds/fold-{k}-{part}.csv"
            rows.append(_write(out, path, labels_text(chosen, folds, "../").encode("utf-8"), "labels"))
            lists.append(out / path)
    if manifest is not None:
        problems = manifest_differences(rows, read_manifest(manifest))
        if problems:
            shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            raise ValueError(f"{out}: the build differs from {manifest} in {len(problems)} files: {shown}")
    log.info("TCD-VoIP: %d rated files, %d talker folds, in %s", len(files), len(folds), out)
    return Prepared(out / LABELS_NAME, tuple(lists), tuple(files), folds, tuple(rows))


def write_manifest(path: str | Path, prepared: Prepared) -> Path:
    """Write the checksums of ``prepared`` as the manifest later builds are checked against."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(target, manifest_text(prepared.manifest), newline="")


__all__ = [
    "DATASET",
    "LABELS_HEADER",
    "MANIFEST",
    "FolderSource",
    "GitSource",
    "Prepared",
    "RatedFile",
    "labels_text",
    "manifest_differences",
    "open_source",
    "prepare",
    "read_manifest",
    "read_workbook",
    "talker_folds",
    "write_manifest",
]
