#!/usr/bin/env python3
"""Build the full-band speech check set: 13 VCTK clips at 48 kHz, checked against the manifest.

    python scripts/prepare_fullband_speech.py SOURCE OUT

Why: a model should score full-band speech above the same speech low-passed to 8 kHz, and that
above 4 kHz (`sesqa sweep OUT --types low_pass`); that needs clean speech that really carries
sound up to 16 kHz and more, which none of the training sources does. The clips are CSTR VCTK
Corpus recordings (CC BY 4.0) of speakers outside the training data (p239 is the only VCTK
speaker in it), as redistributed in the sample folders of two GitHub repositories:
yoyololicon/diffwave-sr (8 clips, 16-bit PCM) and maum-ai/nuwave2 (5 clips, 32-bit float).

SOURCE is the folder that holds the `fetch` tool's snapshots (`owner+name/repo`, bare git
directories, read at the pinned commits below) or plain clones named `owner+name/`. Each clip is
copied byte for byte to OUT; OUT/manifest.tsv lists file, speaker, language, sample_rate,
band_edge_hz (`sesqa.audio.band.file_band_edge_hz`), duration_s, sha256, licence and source;
every file is checked against the committed sha256 (scripts/fullband_speech.tsv) and against the
set's requirements (>= 44.1 kHz, band edge >= 16 kHz, >= 2 s). OUT may not lie inside this
repository: the audio is rebuilt, never committed. Docs: docs/sweep.md, "Full-band speech".

`--write-manifest` (maintainers) rewrites the committed manifest from this build instead of
checking against it.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import subprocess
import sys
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import soundfile as sf

from sesqa.audio.band import file_band_edge_hz
from sesqa.runtime.files import atomic_write_bytes, atomic_write_text

REPO = Path(__file__).resolve().parents[1]
MANIFEST = Path(__file__).resolve().with_name("fullband_speech.tsv")
MIN_SAMPLE_RATE = 44_100
MIN_BAND_EDGE_HZ = 16_000.0
MIN_DURATION_S = 2.0
LICENCE = "CC-BY-4.0"
ATTRIBUTION = (
    "These clips are recordings of the CSTR VCTK Corpus (version 0.92): Junichi Yamagishi,\n"
    "Christophe Veaux, Kirsten MacDonald, The Centre for Speech Technology Research, University of\n"
    "Edinburgh, https://doi.org/10.7488/ds/2645, licensed under the Creative Commons Attribution 4.0\n"
    "International licence (https://creativecommons.org/licenses/by/4.0/). Copied unchanged from the\n"
    "sample folders of github.com/yoyololicon/diffwave-sr and github.com/maum-ai/nuwave2.\n"
)


@dataclass(frozen=True)
class Snapshot:
    """A GitHub repository at a pinned commit."""

    repo: str
    commit: str

    @property
    def folder(self) -> str:
        """The folder name the `fetch` tool gives it: owner+name."""
        return self.repo.replace("/", "+")


@dataclass(frozen=True)
class Clip:
    """One clip of the set: where it comes from and what it is."""

    file: str
    snapshot: Snapshot
    path: str
    speaker: str
    language: str = "en"
    licence: str = LICENCE

    @property
    def source(self) -> str:
        return f"{self.snapshot.repo}@{self.snapshot.commit[:12]}:{self.path}"


DIFFWAVE_SR = Snapshot("yoyololicon/diffwave-sr", "8e60d4538e305e972ff59ea5223ca3b23612b4fe")
NUWAVE2 = Snapshot("maum-ai/nuwave2", "60ff294fb4c0a623e51c506018e2de210c81b2e8")
NUWAVE2_SPEAKER = "vctk-unseen"
"""nuwave2's page says only that its samples come from the 8 VCTK speakers its model never saw."""


def _diffwave(utterance: str) -> Clip:
    return Clip(f"vctk_{utterance}_mic1.wav", DIFFWAVE_SR, f"docs/samples/origin/{utterance}_mic1.wav", utterance.split("_")[0])


def _nuwave2(rate: str, sample: int) -> Clip:
    path = f"docs/samples/{rate}/original_48k/sample_{sample}.wav"
    return Clip(f"vctk_nuwave2_{rate}_sample_{sample}.wav", NUWAVE2, path, NUWAVE2_SPEAKER)


CLIPS: tuple[Clip, ...] = (
    *(_diffwave(u) for u in ("p360_001", "p361_002", "p362_003", "p363_004", "p364_005", "p374_006", "p376_007", "s5_008")),
    *(_nuwave2(rate, n) for rate, n in (("8k", 0), ("8k", 2), ("12k", 2), ("24k", 0), ("24k", 1))),
)


@dataclass(frozen=True)
class Row:
    """One line of manifest.tsv."""

    file: str
    speaker: str
    language: str
    sample_rate: int
    band_edge_hz: float
    duration_s: float
    sha256: str
    licence: str
    source: str


COLUMNS = tuple(f.name for f in fields(Row))


def read_source(source: Path, clip: Clip) -> bytes:
    """The bytes of `clip` from SOURCE: a bare git snapshot at the pinned commit, else a clone's file.

    Raises ValueError naming the clip and what to fetch when neither holds it.
    """
    root = source / clip.snapshot.folder
    git_dir = root / "repo"
    if (git_dir / "HEAD").is_file():
        spec = f"{clip.snapshot.commit}:{clip.path}"
        done = subprocess.run(["git", f"--git-dir={git_dir}", "show", spec], capture_output=True, check=False)
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip()
            raise ValueError(f"{clip.file}: git snapshot {git_dir} has no {spec} ({reason})")
        return done.stdout
    tree_file = root / clip.path
    if tree_file.is_file():
        return tree_file.read_bytes()
    raise ValueError(
        f"{clip.file}: neither a git snapshot {git_dir} nor a file {tree_file}; fetch {clip.snapshot.repo} into {source}"
    )


def describe(path: Path, clip: Clip, data: bytes) -> Row:
    """The manifest row of a written clip: its rate, band edge, length and checksum."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        raise ValueError(f"{clip.file}: not readable audio ({e})") from e
    return Row(
        file=clip.file,
        speaker=clip.speaker,
        language=clip.language,
        sample_rate=int(info.samplerate),
        band_edge_hz=round(file_band_edge_hz(path), 1),
        duration_s=round(info.frames / info.samplerate, 3),
        sha256=hashlib.sha256(data).hexdigest(),
        licence=clip.licence,
        source=clip.source,
    )


def requirement_problems(row: Row) -> list[str]:
    """Why `row` does not belong in a full-band set (empty when it does)."""
    problems = []
    if row.sample_rate < MIN_SAMPLE_RATE:
        problems.append(f"{row.file}: sample rate {row.sample_rate} Hz, the set needs >= {MIN_SAMPLE_RATE} Hz")
    if row.band_edge_hz < MIN_BAND_EDGE_HZ:
        problems.append(f"{row.file}: band edge {row.band_edge_hz:.0f} Hz, the set needs >= {MIN_BAND_EDGE_HZ:.0f} Hz")
    if row.duration_s < MIN_DURATION_S:
        problems.append(f"{row.file}: {row.duration_s:.2f} s long, the set needs >= {MIN_DURATION_S:.0f} s")
    return problems


def format_manifest(rows: list[Row]) -> str:
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(str(v) for v in astuple(r)) for r in rows]
    return "\n".join(lines) + "\n"


def read_manifest(path: Path) -> dict[str, Row]:
    """The rows of a manifest.tsv by file name; ValueError naming the file and line when malformed."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        raise ValueError(f"{path}: the header must be {' '.join(COLUMNS)!r}")
    rows: dict[str, Row] = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(COLUMNS):
            raise ValueError(f"{path}:{number}: {len(cells)} cells, expected {len(COLUMNS)}")
        try:
            row = Row(cells[0], cells[1], cells[2], int(cells[3]), float(cells[4]), float(cells[5]), *cells[6:])
        except ValueError as e:
            raise ValueError(f"{path}:{number}: {e}") from e
        if row.file in rows:
            raise ValueError(f"{path}:{number}: {row.file} listed twice")
        rows[row.file] = row
    return rows


def check_folder(out: Path, manifest: Path) -> list[str]:
    """Problems of the files in `out` against `manifest` (sha256 per file); empty when they match.

    Each problem names the file: missing, or its sha256 and the expected one.
    """
    problems = []
    for name, expected in read_manifest(manifest).items():
        path = Path(out) / name
        if not path.is_file():
            problems.append(f"{name}: missing from {out}")
            continue
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != expected.sha256:
            problems.append(f"{name}: sha256 {got}, {manifest.name} expects {expected.sha256}")
    return problems


def prepare(source: Path, out: Path, manifest: Path | None = MANIFEST, clips: tuple[Clip, ...] = CLIPS) -> list[Row]:
    """Copy `clips` from `source` into `out`, write out/manifest.tsv, check them; returns the rows.

    Every clip is tried before failing; ValueError lists each problem with its file: a clip that
    cannot be read, that misses a requirement of the set, or (with `manifest`) whose sha256 differs
    from it or that it does not list.
    """
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise ValueError(f"SOURCE {source} is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    rows, problems = [], []
    for clip in clips:
        try:
            data = read_source(source, clip)
            path = atomic_write_bytes(out / clip.file, data)
            row = describe(path, clip, data)
        except ValueError as e:
            problems.append(str(e))
            continue
        rows.append(row)
        problems += requirement_problems(row)
    atomic_write_text(out / "manifest.tsv", format_manifest(rows))
    atomic_write_text(out / "ATTRIBUTION.txt", ATTRIBUTION)
    if manifest is not None:
        listed = read_manifest(manifest)
        problems += [f"{r.file}: not in {manifest.name}" for r in rows if r.file not in listed]
        problems += check_folder(out, manifest)
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in {out}:\n  " + "\n  ".join(dict.fromkeys(problems)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder holding the snapshots (owner+name/repo) or clones (owner+name/)")
    parser.add_argument("out", type=Path, help="output folder (outside this repository)")
    parser.add_argument("--write-manifest", action="store_true", help=f"rewrite {MANIFEST.relative_to(REPO)} from this build")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = args.out.expanduser().resolve()
    if out == REPO or REPO in out.parents:
        parser.error(f"OUT {out} lies inside the repository {REPO}; the audio is rebuilt, never committed")
    try:
        rows = prepare(args.source.expanduser(), out, manifest=None if args.write_manifest else MANIFEST)
    except (ValueError, OSError) as e:
        logging.error("%s", e)
        return 1
    if args.write_manifest:
        atomic_write_text(MANIFEST, format_manifest(rows))
        logging.info("wrote %s", MANIFEST)
    speakers = {r.speaker for r in rows}
    seconds = sum(r.duration_s for r in rows)
    edges = sorted({r.band_edge_hz for r in rows})
    checked = "its manifest rewritten" if args.write_manifest else f"checked against {MANIFEST.name}"
    logging.info(
        "%s: %d clips, %.1f s, %d speaker labels, band edges %s Hz, %s",
        out, len(rows), seconds, len(speakers), "/".join(f"{e:.0f}" for e in edges), checked,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
