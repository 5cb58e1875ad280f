"""Build a clean-speech corpus from its recipes: copy each selected file byte for byte, measure it,
split the speakers, write the manifest and each source's licence.

A file is kept when the one decoder (`sesqa.audio`) reads it, it lasts at least `MIN_DURATION_S`
(a generator frame), it is not silent, it is not clipped (no run of full-scale samples that the
level meter counts, as `sesqa score` warns of) and no earlier file has the same bytes; every other
file is skipped with its reason, and the build goes on. A clipped recording taught as clean would
teach the model that clipping is clean. A source whose origin cannot be read is
reported and the others are built. Layout: `<root>/<source>/<path>`, `<root>/manifest.tsv`,
`<root>/licences/<source>.txt`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio import AudioError, open_stream
from ..audio.band import upper_band_edge_hz
from ..audio.level import CLIP_RUN_SAMPLES, measure_level
from ..runtime.files import atomic_write_bytes, atomic_write_text
from ..runtime.progress import progress_bar
from .manifest import CorpusEntry, sha256_file, write_corpus_manifest
from .origins import OriginError
from .recipe import Places, Recipe
from .splits import DEFAULT_RATIOS, assign_speaker_splits

log = logging.getLogger(__name__)

MIN_DURATION_S = 1.1
"""Shorter files are skipped: the generator cuts 1.1 s frames (generator.sources.SOURCE_FRAME_S)."""
SILENT_PEAK = 10 ** (-60 / 20)
"""Files whose peak stays below -60 dBFS are skipped as silent."""
MANIFEST_NAME = "manifest.tsv"
LICENCE_FOLDER = "licences"
FULL_BAND_HZ = 16000.0
"""Band edge from which a file counts as full band in the totals."""


@dataclass(frozen=True)
class Skipped:
    """A source file left out of the corpus, and why."""

    file: str
    reason: str
    kind: str
    """The reason in a word or two, to count by: duplicate, too short, silent, clipped, unreadable."""


@dataclass
class BuildResult:
    """What a build made and what it left out."""

    entries: list[CorpusEntry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed_sources: list[tuple[str, str]] = field(default_factory=list)
    """(source, problem) for each source whose origin could not be read."""
    removed: list[str] = field(default_factory=list)
    """Files of an earlier build under a source's folder that this build did not make (deleted)."""


@dataclass(frozen=True)
class _Measured:
    file: str
    speaker: str
    language: str
    sample_rate: int
    band_edge_hz: float
    duration_s: float
    sha256: str


def _decode(path: Path) -> tuple[np.ndarray, int]:
    with open_stream(path, sr=None) as stream:
        blocks = list(stream)
        rate = int(stream.native_sr)
    return (np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)), rate


def _take(root: Path, recipe: Recipe, origin_path: str, data: bytes, seen: dict[str, str], min_duration_s: float) -> _Measured | Skipped:
    """Copy one file into the corpus and measure it, or say why it is left out (and remove it)."""
    file = recipe.corpus_path(origin_path)
    digest = hashlib.sha256(data).hexdigest()
    if digest in seen:
        return Skipped(file, f"byte-identical to {seen[digest]}", "duplicate")
    voice = recipe.voice_of(origin_path)
    assert voice is not None  # the recipe selected it
    dest = root / file
    if not (dest.is_file() and sha256_file(dest) == digest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dest, data, fsync=False)
    reason = kind = ""
    try:
        x, rate = _decode(dest)
        duration_s = len(x) / rate
        if duration_s < min_duration_s:
            reason, kind = f"too short ({duration_s:.2f} s < {min_duration_s} s)", "too short"
        elif float(np.max(np.abs(x))) < SILENT_PEAK:
            reason, kind = "silent (peak below -60 dBFS)", "silent"
        elif runs := measure_level(x, rate).clipped_runs:
            reason, kind = f"clipped ({runs} runs of >= {CLIP_RUN_SAMPLES} full-scale samples)", "clipped"
        else:
            edge = upper_band_edge_hz(x, rate)
            if edge <= 0:
                reason, kind = "no band carries sound", "silent"
    except (AudioError, ValueError) as e:
        reason, kind = f"unreadable: {e}", "unreadable"
    if reason:
        dest.unlink(missing_ok=True)
        return Skipped(file, reason, kind)
    seen[digest] = file
    return _Measured(file, f"{recipe.name}:{voice.speaker}", voice.language, rate, edge, duration_s, digest)


def _remove_stale(root: Path, recipe: Recipe, made: set[str]) -> list[str]:
    folder = root / recipe.name
    stale = sorted(p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    stale = [f for f in stale if f not in made]
    for f in stale:
        (root / f).unlink()
    return stale


def source_checkout() -> Path | None:
    """The git checkout sesqa runs from (an editable install), or None for an installed package."""
    top = Path(__file__).resolve().parents[2]
    return top if (top / ".git").exists() else None


def check_outside_checkout(root: str | Path) -> None:
    """Raise ValueError when `root` lies inside sesqa's own git checkout: corpus audio is rebuilt
    from its sources and checked against the shipped manifest, never committed."""
    checkout = source_checkout()
    if checkout is not None and Path(root).resolve().is_relative_to(checkout):
        raise ValueError(
            f"corpus folder {root} is inside the sesqa checkout {checkout}; its audio must not be committed "
            "(licences, size): build it outside, e.g. /data/sesqa-speech"
        )


def build_corpus(
    root: str | Path,
    recipes: Sequence[Recipe],
    places: Places,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    min_duration_s: float = MIN_DURATION_S,
) -> BuildResult:
    """Build the corpus of `recipes` into `root`; returns its entries and what was left out.

    Rerunning into the same folder rewrites only files whose bytes changed, and deletes files of
    a source's folder that the build no longer makes. Refuses (ValueError) a `root` inside sesqa's
    own git checkout.
    """
    check_outside_checkout(root)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    result = BuildResult()
    measured: list[_Measured] = []
    seen: dict[str, str] = {}
    for recipe in recipes:
        licence_members: dict[str, bytes] = {}
        made: set[str] = set()
        try:
            with progress_bar(None, desc=recipe.name, unit="file", leave=False) as bar:
                for origin_path, data in recipe.read(places):
                    if origin_path in recipe.licence_members:
                        licence_members[origin_path] = data
                    if not recipe.selects(origin_path):
                        continue
                    outcome = _take(root, recipe, origin_path, data, seen, min_duration_s)
                    if isinstance(outcome, Skipped):
                        log.info("skipped %s: %s", outcome.file, outcome.reason)
                        result.skipped.append(outcome)
                    else:
                        measured.append(outcome)
                        made.add(outcome.file)
                    bar.update()
        except OriginError as e:
            log.error("source %s not built: %s", recipe.name, e)
            result.failed_sources.append((recipe.name, str(e)))
            continue
        (root / LICENCE_FOLDER).mkdir(exist_ok=True)
        atomic_write_text(root / LICENCE_FOLDER / f"{recipe.name}.txt", recipe.licence_text(licence_members), fsync=False)
        result.removed += _remove_stale(root, recipe, made)
        kept = [m for m in measured if m.file in made]
        log.info("%s: %d files kept, %.2f h; %d skipped", recipe.name, len(kept), sum(m.duration_s for m in kept) / 3600,
                 sum(1 for s in result.skipped if s.file.startswith(f"{recipe.name}/")))
    splits = assign_speaker_splits({m.speaker: m.language for m in measured}, ratios)
    result.entries = [
        CorpusEntry(m.file, m.file.split("/", 1)[0], m.speaker, m.language, m.sample_rate, m.band_edge_hz, m.duration_s, m.sha256, splits[m.speaker])
        for m in measured
    ]
    write_corpus_manifest(root / MANIFEST_NAME, result.entries)
    return result


@dataclass(frozen=True)
class SourceTotals:
    """One row of the corpus's totals table."""

    source: str
    files: int
    speakers: int
    hours: float
    languages: tuple[str, ...]
    sample_rates: tuple[int, ...]
    full_band_hours: float
    """Hours of files whose measured band edge reaches 16 kHz or more."""
    splits: dict[str, int]
    """Speakers per split."""


def totals(entries: Sequence[CorpusEntry]) -> list[SourceTotals]:
    """Per source (sorted by name) then 'all': files, speakers, hours, languages, rates, splits."""
    groups: dict[str, list[CorpusEntry]] = {}
    for e in entries:
        groups.setdefault(e.source, []).append(e)
    rows = []
    for name, group in [*sorted(groups.items()), ("all", list(entries))]:
        speakers = {e.speaker: e.split for e in group}
        rows.append(SourceTotals(
            name, len(group), len(speakers), sum(e.duration_s for e in group) / 3600,
            tuple(sorted({e.language for e in group})), tuple(sorted({e.sample_rate for e in group})),
            sum(e.duration_s for e in group if e.band_edge_hz >= FULL_BAND_HZ) / 3600,
            {s: sum(1 for v in speakers.values() if v == s) for s in ("train", "valid", "test")},
        ))
    return rows
