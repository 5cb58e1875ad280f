"""Clean-speech and noise corpora: a cached index, splits, and non-silent frame sampling.

A corpus is one or more root directories ("data sets"), searched recursively. The index of
each root (file, size, mtime, duration and, for clean speech, the upper band edge) is cached, so
a corpus of 100k files is not re-read on every run: only new or changed files are opened again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE, AudioError, info, load
from ..audio.band import file_band_edge_hz
from ..data import portable_path, resolve_path
from ..corpora.manifest import CORPUS_MANIFEST_NAME, is_corpus_manifest, read_corpus_manifest
from ..runtime.files import atomic_write_text
from ..runtime.progress import track

log = logging.getLogger(__name__)

SOURCE_FRAME_S = 1.1
"""Length of the frame cut from a clean file (paper B.3): 1 s plus the largest delay."""
END_SLACK_S = 0.002
"""A decoder may end a file a few samples before its measured duration (resampling, a codec's
last-packet rounding); a frame that ends by no more than this past the decoded audio is padded with
zeros instead of losing the file."""

NOT_AUDIO_SUFFIXES = frozenset(
    {".txt", ".md", ".json", ".csv", ".tsv", ".lst", ".yaml", ".yml", ".pdf", ".html", ".xml", ".py", ".sh", ".lab", ".TextGrid"}
)
"""Files ignored by name (transcripts, licences, metadata): not counted as bad input."""

INDEX_VERSION = 1
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class SourceFile:
    """One usable audio file of a corpus."""

    path: str
    """Portable name (see sesqa.data.portable_path)."""
    duration_s: float
    dataset: str
    group: str
    """Unit of the split: the speaker when a speaker pattern gives one, else the file."""
    band_edge_hz: float | None = None
    """Measured upper band edge (`sesqa.audio.band`); None where not measured (noise)."""


@dataclass
class ScanReport:
    """What scanning found besides usable files; shown in the generate summary."""

    usable: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) for every unreadable, empty, non-audio or too-short file."""

    def merge(self, other: "ScanReport") -> None:
        self.usable += other.usable
        self.skipped.extend(other.skipped)


def default_cache_dir() -> Path:
    """Where corpus indexes are cached: $SESQA_CACHE_DIR, else $XDG_CACHE_HOME/sesqa."""
    if env := os.environ.get("SESQA_CACHE_DIR"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sesqa"


def _candidate_files(root: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if not name.startswith(".") and p.suffix not in NOT_AUDIO_SUFFIXES:
                files.append(p)
    return files


def scan_root(
    root: Path, min_duration_s: float, cache_dir: Path | None = None, measure_band: bool = False
) -> tuple[list[tuple[str, float, float | None]], ScanReport]:
    """(portable path, duration, band edge) of every usable audio file under root, and what was
    skipped. The band edge is measured only when `measure_band` (else None).

    Results are cached per root in `cache_dir`, keyed by each file's size and mtime.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"corpus directory {root} does not exist or is not a directory")
    cache_dir = cache_dir or default_cache_dir()
    cache_file = cache_dir / f"index-{hashlib.sha1(str(root).encode()).hexdigest()[:16]}.json"
    cached: dict[str, list] = {}
    if cache_file.exists():
        try:
            data = json.loads(cache_file.read_text())
            if data.get("version") == INDEX_VERSION and data.get("root") == str(root):
                cached = data["files"]
        except (OSError, ValueError, KeyError) as e:
            log.warning("ignoring unreadable index cache %s (%s)", cache_file, e)

    entries: dict[str, list] = {}
    report = ScanReport()
    usable: list[tuple[str, float, float | None]] = []
    candidates = _candidate_files(root)
    for path in track(candidates, desc=f"index {root.name}", unit="file", leave=False, enabled=len(candidates) >= 2000):
        rel = path.relative_to(root).as_posix()
        st = path.stat()
        entry = cached.get(rel)
        if entry is None or entry[0] != st.st_size or entry[1] != st.st_mtime_ns:
            try:
                duration_s: float | str = info(path).duration_s
            except AudioError as e:
                duration_s = str(e)
            entry = [st.st_size, st.st_mtime_ns, duration_s]
        duration_s = entry[2]
        if isinstance(duration_s, str):
            report.skipped.append((str(path), duration_s))
        elif duration_s < min_duration_s:
            report.skipped.append((str(path), f"too short ({duration_s:.2f} s < {min_duration_s} s)"))
        else:
            edge_hz = None
            if measure_band:
                if len(entry) < 4:
                    entry = [*entry[:3], _band_edge_or_none(path)]
                edge_hz = entry[3]
            usable.append((portable_path(path), float(duration_s), edge_hz))
        entries[rel] = entry
    report.usable = len(usable)
    if entries != cached:
        _write_json_atomic(cache_file, {"version": INDEX_VERSION, "root": str(root), "files": entries})
    return usable, report


def _band_edge_or_none(path: Path) -> float | None:
    try:
        return file_band_edge_hz(path)
    except AudioError as e:  # read fine for its duration: say so, and treat it as full band
        log.warning("could not measure the band edge of %s (%s); taken as full band", path, e)
        return None


def _write_json_atomic(path: Path, data: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data), fsync=False)  # a cache: losing it in a crash costs a rescan
    except OSError as e:  # a read-only cache only costs a rescan next time
        log.warning("could not write index cache %s (%s)", path, e)


def assign_splits(groups: Iterable[str], ratios: dict[str, float]) -> dict[str, str]:
    """Map each group (speaker or file) to a split, disjointly and reproducibly.

    Groups are ordered by a hash of their name and dealt out in proportion to `ratios`; every
    split with a positive ratio gets at least one group when there are enough groups.
    """
    unique = sorted(set(groups), key=lambda g: hashlib.sha1(g.encode()).hexdigest())
    names = [s for s in SPLITS if ratios.get(s, 0.0) > 0]
    total = sum(ratios[s] for s in names)
    counts = {s: int(np.floor(len(unique) * ratios[s] / total)) for s in names}
    if len(unique) >= len(names):
        for s in names:
            counts[s] = max(counts[s], 1)
    while sum(counts.values()) > len(unique):
        counts[max(counts, key=counts.get)] -= 1
    # Leftovers go to the splits furthest below their share.
    while sum(counts.values()) < len(unique):
        counts[min(names, key=lambda s: counts[s] / ratios[s])] += 1
    out: dict[str, str] = {}
    i = 0
    for s in names:
        for g in unique[i : i + counts[s]]:
            out[g] = s
        i += counts[s]
    return out


def group_of(path: str, speaker_pattern: re.Pattern[str] | None) -> str:
    """The split unit of a file: its speaker when the pattern matches the path, else the file."""
    if speaker_pattern is not None and (m := speaker_pattern.search(path)):
        return m.group(1) if m.groups() else m.group(0)
    return path


@dataclass(frozen=True)
class Corpus:
    """Usable files per split, grouped by data set (a data set is one root directory)."""

    datasets: dict[str, tuple[tuple[SourceFile, ...], ...]]
    """split -> data sets that have files in that split -> files."""

    def files(self, split: str) -> tuple[tuple[SourceFile, ...], ...]:
        return self.datasets.get(split, ())

    def count(self, split: str) -> int:
        return sum(len(d) for d in self.files(split))


def scan_corpus(
    roots: Sequence[Path],
    ratios: dict[str, float],
    min_duration_s: float,
    speaker_pattern: str | None = None,
    cache_dir: Path | None = None,
    measure_band: bool = False,
) -> tuple[Corpus, ScanReport]:
    """Scan every root (one data set each) and split the files disjointly by group; with
    `measure_band`, each file's upper band edge is measured (clean speech).

    A root with a corpus manifest at its top (`sesqa corpus build`) is read from it instead
    (`listed_root`): its files keep the manifest's speakers, splits and band edges.
    """
    pattern = re.compile(speaker_pattern) if speaker_pattern else None
    report = ScanReport()
    per_root: list[tuple[str, list[SourceFile]]] = []
    listed_splits: dict[str, str] = {}
    for root in roots:
        if is_corpus_manifest(Path(root) / CORPUS_MANIFEST_NAME):
            datasets, splits, r = listed_root(Path(root), min_duration_s)
            per_root.extend(datasets)
            listed_splits.update(splits)
        else:
            usable, r = scan_root(Path(root), min_duration_s, cache_dir, measure_band)
            label = portable_path(root)
            per_root.append((label, [SourceFile(p, d, label, group_of(p, pattern), edge) for p, d, edge in usable]))
        report.merge(r)
    scanned = (f.group for _, files in per_root for f in files if f.group not in listed_splits)
    assignment = {**assign_splits(scanned, ratios), **listed_splits}
    datasets: dict[str, tuple[tuple[SourceFile, ...], ...]] = {}
    for split in SPLITS:
        chosen = tuple(
            tuple(f for f in files if assignment[f.group] == split) for _, files in per_root
        )
        datasets[split] = tuple(d for d in chosen if d)
    return Corpus(datasets), report


def listed_root(root: Path, min_duration_s: float) -> tuple[list[tuple[str, list[SourceFile]]], dict[str, str], ScanReport]:
    """The data sets of a root that carries a corpus manifest: one per source (drawn uniformly,
    like separate `--clean` folders), grouped by the manifest's speakers; each speaker's split;
    and the listed files skipped (absent, or too short for a frame), with the reason.

    Raises ValueError naming the manifest, line and problem when it does not parse.
    """
    manifest = Path(root).resolve() / CORPUS_MANIFEST_NAME
    report = ScanReport()
    by_source: dict[str, list[SourceFile]] = {}
    splits: dict[str, str] = {}
    for entry in read_corpus_manifest(manifest):
        path = manifest.parent / entry.file
        if not path.is_file():
            report.skipped.append((str(path), f"listed in {manifest} but missing (check the corpus: sesqa corpus check)"))
        elif entry.duration_s < min_duration_s:
            report.skipped.append((str(path), f"too short ({entry.duration_s:.2f} s < {min_duration_s} s)"))
        else:
            label = f"{portable_path(manifest.parent)}/{entry.source}"
            by_source.setdefault(label, []).append(SourceFile(portable_path(path), entry.duration_s, label, entry.speaker, entry.band_edge_hz))
            splits[entry.speaker] = entry.split
    report.usable = sum(len(files) for files in by_source.values())
    return sorted(by_source.items()), splits, report


def _block_db(x: np.ndarray, sr: int, block_s: float = 0.02) -> np.ndarray:
    n = int(block_s * sr)
    blocks = x[: len(x) // n * n].reshape(-1, n).astype(np.float64)
    return 10.0 * np.log10(np.mean(blocks**2, axis=1) + 1e-20)


ACTIVE_RELATIVE_DB = 35.0
ACTIVE_ABSOLUTE_DBFS = -55.0
MIN_ACTIVE_FRACTION = 0.5
SILENT_PEAK = 10 ** (-60 / 20)


def is_active(frame: np.ndarray, sr: int = SAMPLE_RATE) -> bool:
    """True when at least half of the frame's 20 ms blocks carry sound.

    A block carries sound when its RMS level is within 35 dB of the loudest block and above
    -55 dBFS: pauses between words and a quiet room tone fall below, speech does not.
    """
    levels = _block_db(frame, sr)
    if levels.size == 0:
        return False
    threshold = max(levels.max() - ACTIVE_RELATIVE_DB, ACTIVE_ABSOLUTE_DBFS)
    return float(np.mean(levels > threshold)) >= MIN_ACTIVE_FRACTION


def peak_normalise(x: np.ndarray) -> np.ndarray:
    """Scale to max |x| = 1 (paper B.3); silence is returned unchanged."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return (x / peak).astype(np.float32) if peak > 0 else x.astype(np.float32)


def without_dc(x: np.ndarray) -> np.ndarray:
    """`x` less its mean: the clean frame's DC offset, which no listener hears, taken out before a
    degradation can drop it and the reference metrics count that as damage."""
    return (x - np.mean(x, dtype=np.float64)).astype(np.float32)


def read_frame(
    path: str, offset_s: float, frame_s: float = SOURCE_FRAME_S, sr: int = SAMPLE_RATE, normalise: bool = True, remove_dc: bool = False
) -> np.ndarray:
    """Exactly round(frame_s * sr) samples of a source file from offset_s (without its DC offset
    when asked, then peak-normalised).

    Raises AudioError when the file cannot be read or ends more than END_SLACK_S before the frame does.
    """
    n = int(round(frame_s * sr))
    frame = load(resolve_path(path), sr, offset_s, frame_s)
    if len(frame) < n - int(round(END_SLACK_S * sr)):
        raise AudioError(f"{path}: only {len(frame)} samples from {offset_s:.3f} s, need {n}")
    if len(frame) < n:
        frame = np.pad(frame, (0, n - len(frame)))
    frame = without_dc(frame[:n]) if remove_dc else frame[:n]
    return peak_normalise(frame) if normalise else frame


@dataclass(frozen=True)
class Frame:
    """A clean frame cut from a source file, without its DC offset, peak-normalised to 1."""

    source: SourceFile
    offset_s: float
    audio: np.ndarray


class FrameSampler:
    """Draws non-silent clean frames: a data set uniformly, a file uniformly, an offset uniformly.

    Every draw consumes the generator identically whatever was learnt before about bad files,
    so the frames depend only on the seed and the corpus, not on what this process saw earlier.
    """

    MAX_ATTEMPTS = 200

    def __init__(self, datasets: tuple[tuple[SourceFile, ...], ...], frame_s: float = SOURCE_FRAME_S, sr: int = SAMPLE_RATE):
        if not datasets:
            raise ValueError("no usable clean speech files for this split")
        self.datasets = datasets
        self.frame_s = frame_s
        self.sr = sr
        self.bad_files: dict[str, str] = {}
        """Files found unreadable or silent while sampling, with the reason (reported, then skipped)."""

    def sample(self, rng: np.random.Generator) -> Frame:
        frame = self._draw(rng, None)
        if frame is None:
            raise RuntimeError(
                f"no non-silent {self.frame_s} s frame found in {self.MAX_ATTEMPTS} draws; "
                "is the clean corpus mostly silence?"
            )
        return frame

    def sample_other_talker(self, rng: np.random.Generator, group: str) -> Frame | None:
        """A non-silent frame of a speaker (split group) other than `group`; None when none was
        found in MAX_ATTEMPTS draws (a corpus of one speaker)."""
        return self._draw(rng, group)

    def _draw(self, rng: np.random.Generator, exclude_group: str | None) -> Frame | None:
        for _ in range(self.MAX_ATTEMPTS):
            files = self.datasets[int(rng.integers(len(self.datasets)))]
            source = files[int(rng.integers(len(files)))]
            offset_s = float(rng.uniform(0.0, max(0.0, source.duration_s - self.frame_s)))
            if source.path in self.bad_files or source.group == exclude_group:
                continue
            try:
                frame = read_frame(source.path, offset_s, self.frame_s, self.sr, normalise=False, remove_dc=True)
            except AudioError as e:
                self._mark_bad(source.path, str(e))
                continue
            if not is_active(frame, self.sr):
                if np.max(np.abs(frame)) < SILENT_PEAK:
                    self._check_silent_file(source.path)
                continue
            return Frame(source, offset_s, peak_normalise(frame))
        return None

    def _check_silent_file(self, path: str) -> None:
        try:
            whole = load(resolve_path(path), self.sr)
        except AudioError as e:
            self._mark_bad(path, str(e))
            return
        if np.max(np.abs(whole)) < SILENT_PEAK:
            self._mark_bad(path, "all silent (peak below -60 dBFS)")

    def _mark_bad(self, path: str, reason: str) -> None:
        if path not in self.bad_files:
            log.warning("skipping clean file %s: %s", path, reason)
            self.bad_files[path] = reason


class NoiseBank:
    """Picks real noise for additive_noise: a data set uniformly, a file uniformly, an offset."""

    def __init__(self, datasets: tuple[tuple[SourceFile, ...], ...]):
        if not datasets:
            raise ValueError("no usable noise files")
        self.datasets = datasets

    def sample(self, rng: np.random.Generator, duration_s: float) -> tuple[str, float]:
        files = self.datasets[int(rng.integers(len(self.datasets)))]
        source = files[int(rng.integers(len(files)))]
        return source.path, float(rng.uniform(0.0, max(0.0, source.duration_s - duration_s)))
