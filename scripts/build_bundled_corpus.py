#!/usr/bin/env python3
"""Build the bundled default corpus (sesqa/data/) from pinned Debian packages.

This is the maintainer's one-off preparation step, never run by sesqa itself. It

1. fetches the pinned ``.deb`` files with ``apt-get download`` into a cache folder
   (or takes them from ``--debs``), checking each one's SHA-256;
2. streams each package's file system with ``dpkg-deb --fsys-tarfile`` and keeps in
   memory only the members it needs: nothing is unpacked to disk, and the word
   recordings of languages outside the allow-list below are never read;
3. speech (``ktuberling-data``): per language, takes the words recorded at the
   language's predominant sample rate (one recording session, one speaker), drops
   byte-identical duplicates, finds each word's speech with an energy detector,
   shuffles the words with a fixed per-language seed and joins them into utterances of
   ~4-7 s separated by 80-250 ms of the recording's own room tone, peak-normalises each
   utterance to -1 dBFS and writes it as 16-bit FLAC at the source sample rate;
4. noise: cuts curated real ambience/effect recordings into mono clips of at most
   12 s, trims silent ends, peak-normalises to -1 dBFS and writes Ogg Vorbis at the
   source sample rate (Ogg serial numbers are fixed so reruns give identical bytes);
5. copies the packages' Debian copyright files and the GPL-2 text into
   ``sesqa/data/licenses/`` and writes ``sesqa/data/manifest.tsv`` (every output file
   with the package members it was made from).

Rerunning it rebuilds ``speech/``, ``noise/``, ``licenses/`` and ``manifest.tsv`` from
scratch and gives the same bytes (same soundfile/libsndfile build). ``README.md`` in
sesqa/data is written by hand and left alone.

Usage::

    python scripts/build_bundled_corpus.py [--debs DIR] [--out sesqa/data] [--no-download]
    python scripts/build_bundled_corpus.py --training-corpus DIR [--debs DIR]

``--training-corpus DIR`` writes, instead, every usable word of the nine full-band languages
(``sesqa.data.FULL_BAND_LANGUAGES``) as utterances into ``DIR/speech/<lang>/``, with no cap
on their length: the larger clean corpus the default model is trained on, kept outside the
package.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import soundfile as sf

log = logging.getLogger("build_bundled_corpus")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "sesqa" / "data"
DEFAULT_DEBS = Path(tempfile.gettempdir()) / "sesqa-bundled-corpus-debs"

AUDIO_SUFFIXES = (".wav", ".ogg", ".opus", ".flac")


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Deb:
    package: str
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        # apt-get download writes the epoch's colon URL-encoded
        return f"{self.package}_{self.version.replace(':', '%3a')}_all.deb"


KTUBERLING = Deb(
    "ktuberling-data", "4:22.12.3-1",
    "fba44c875bfa31ea488dadd9263e87a4dcaea0bd47d28817f6c0dc6d2af970ed",
)
MEGAGLEST = Deb(
    "megaglest-data", "3.13.0-3",
    "ed4783d9fc78e201a548b266f7c30325eb16cfd58a20bf4597dd6e622f84a07e",
)
LINCITY = Deb(
    "lincity-ng-data", "2.9~git20150314-5",
    "8f5e85bd42879abdc7099b035d7a3d7468eceb6b93b52a12270c28f3f3c792f9",
)
FLIGHTGEAR = Deb(
    "flightgear-data-base", "1:2020.3.16+dfsg-1",
    "f37bdab5ebc52c0dc622f9feead4301410a97bf6ec47bd595d3253c7681f0332",
)
DEBS = (KTUBERLING, MEGAGLEST, LINCITY, FLIGHTGEAR)

# Packages that must never be a source of bundled audio (reserved for evaluation).
RESERVED_PACKAGE_PREFIXES = ("alsa-utils", "codec2-examples", "asterisk-core-sounds-", "openttd-opensfx")

# ktuberling word recordings: the only languages that may be read. The Serbian variants
# (sr@latin, sr@ijekavian, sr@ijekavianlatin) hold byte-identical copies of "sr" and are
# not read, so one speaker does not appear under four names.
SPEECH_LANGS = (
    "fr", "ca", "uk", "nn", "lt", "da", "ru",
    "sv", "nds", "ro", "pt", "nl", "it", "ga", "es", "fi", "sr",
)
# Language codes reserved for independent evaluation: never read, never written.
RESERVED_LANGS = frozenset({"en", "de", "el", "sl", "gl", "wa"})
KTUBERLING_SOUNDS = "usr/share/ktuberling/sounds"

# Speech assembly
SPEECH_CAP_S = 26.0  # at most this much utterance audio per language
UTTERANCE_TARGET_S = 5.5  # utterances are cut to about this length
PAUSE_RANGE_S = (0.08, 0.25)  # room-tone pause between the speech of two words
EDGE_S = 0.06  # room tone kept before the first and after the last word
PEAK = 10 ** (-1 / 20)  # -1 dBFS

# Noise clips
NOISE_CLIP_S = 12.0
NOISE_MIN_S = 3.0


@dataclass(frozen=True)
class NoiseItem:
    member: str  # path inside the package, without leading "./"
    name: str  # output file stem
    clips: int = 1  # number of clips cut from the file, spread evenly over it


@dataclass(frozen=True)
class NoiseSource:
    key: str  # folder under noise/
    deb: Deb
    items: tuple[NoiseItem, ...] = field(default_factory=tuple)


_MG = "usr/share/games/megaglest/tilesets"
_LC = "usr/share/games/lincity-ng/sounds"
_FG = "usr/share/games/flightgear"

NOISE_SOURCES = (
    NoiseSource("megaglest", MEGAGLEST, (
        # nature and weather ambiences (regular files only; the tilesets' symlinks are skipped)
        NoiseItem(f"{_MG}/birch_forest/sounds/day.ogg", "birch_forest_day"),
        NoiseItem(f"{_MG}/birch_forest/sounds/night.ogg", "birch_forest_night"),
        NoiseItem(f"{_MG}/birch_forest/sounds/rain.ogg", "birch_forest_rain"),
        NoiseItem(f"{_MG}/mediterran/sounds/desertday.ogg", "mediterran_desert_day"),
        NoiseItem(f"{_MG}/mediterran/sounds/night.ogg", "mediterran_night"),
        NoiseItem(f"{_MG}/desert2/sounds/night.ogg", "desert_night"),
        NoiseItem(f"{_MG}/winter_forest/sounds/wind.ogg", "winter_forest_wind"),
        NoiseItem(f"{_MG}/autumn/sounds/sunny_day.ogg", "autumn_sunny_day"),
        NoiseItem(f"{_MG}/autumn/sounds/rain.ogg", "autumn_rain"),
        NoiseItem(f"{_MG}/hell/sounds/hell.ogg", "hell_ambience"),
        NoiseItem(f"{_MG}/fernland/sounds/day.ogg", "jungle_day"),
        NoiseItem(f"{_MG}/fernland/sounds/night.ogg", "jungle_night"),
        NoiseItem(f"{_MG}/dark_forest/sounds/day.ogg", "dark_forest_day"),
        NoiseItem(f"{_MG}/dark_forest/sounds/night.ogg", "dark_forest_night"),
        NoiseItem(f"{_MG}/spring/sounds/day.ogg", "spring_day"),
    )),
    NoiseSource("lincity-ng", LINCITY, tuple(
        # city, traffic, crowds, machines and industry: 3-5 s loops
        NoiseItem(f"{_LC}/{stem}.wav", stem.lower())
        for stem in (
            "TraficHigh1", "TraficHigh2", "TraficHigh3", "TraficLow1", "TraficLow2", "TraficLow3",
            "RailTrain2", "RailTrain3", "ParklandPlane3", "Harbor3",
            "SportsCroud1", "SportsCroud2", "SportsCroud3", "MarketFull1", "MarketMed1",
            "School1", "School3", "University2", "ResidentialHigh1", "ResidentialMed1", "Shanty1",
            "IndustryHigh1", "IndustryHigh3", "IndustryLight2", "CoalMine3", "OreMine1",
            "MonumentConstruction1", "MonumentConstruction3", "Blacksmith1", "Recycle2",
            "WindMill3", "Farm1", "Fire1", "Water2",
        )
    )),
    NoiseSource("flightgear", FLIGHTGEAR, (
        # vehicles, engines, motors, workshop and water
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/engine-idle.wav", "c172p_engine_idle"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/engine.wav", "c172p_engine"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/flaps-motor.wav", "c172p_flaps_motor"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/tires-rolling-asphalt.wav", "c172p_tires_rolling_asphalt"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/tires-rolling-gravel.wav", "c172p_tires_rolling_gravel"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/tires-screech-asphalt.wav", "c172p_tires_screech"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/water-still.wav", "c172p_water_still"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/water-fast.wav", "c172p_water_fast"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/repair.wav", "c172p_repair"),
        NoiseItem(f"{_FG}/Aircraft/c172p/Sounds/scratch.wav", "c172p_scratch"),
        NoiseItem(f"{_FG}/Sounds/starter_start.wav", "starter_motor"),
        NoiseItem(f"{_FG}/Sounds/R-1535Slow.wav", "radial_engine_slow"),
        NoiseItem(f"{_FG}/Sounds/turbojet_fan.wav", "turbojet_fan"),
        NoiseItem(f"{_FG}/Sounds/rattleroll.wav", "rattle_roll"),
    )),
)

COPYRIGHT_MEMBER = "usr/share/doc/{package}/copyright"
GPL2_PATH = Path("/usr/share/common-licenses/GPL-2")
GPL2_SHA256 = "8177f97513213526df2cf6184d8ff986c675afb514d4e68a404010521b880643"

assert not RESERVED_LANGS & set(SPEECH_LANGS), "a reserved language is in the allow-list"
assert not any(d.package.startswith(RESERVED_PACKAGE_PREFIXES) for d in DEBS), "a reserved package is a source"


# ------------------------------------------------------------------------ .deb access


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def ensure_deb(deb: Deb, debs_dir: Path, download: bool) -> Path:
    """The pinned .deb in debs_dir, fetched with apt-get download if absent; SHA-256 checked."""
    path = debs_dir / deb.filename
    if not path.exists():
        if not download:
            raise SystemExit(f"{path} is missing and --no-download was given")
        debs_dir.mkdir(parents=True, exist_ok=True)
        log.info("apt-get download %s=%s", deb.package, deb.version)
        result = subprocess.run(
            ["apt-get", "download", f"{deb.package}={deb.version}"],
            cwd=debs_dir, capture_output=True, text=True,
        )
        if result.returncode != 0 or not path.exists():
            raise SystemExit(
                f"could not download {deb.package}={deb.version} (run 'apt-get update' first; "
                f"if the version left the archive, put {deb.filename} into {debs_dir} by hand):\n"
                f"{result.stderr.strip()}"
            )
    digest = sha256_file(path)
    if digest != deb.sha256:
        raise SystemExit(f"{path}: SHA-256 {digest} differs from the pinned {deb.sha256}")
    return path


def read_members(deb_path: Path, wanted) -> dict[str, bytes]:
    """Contents of the regular files of a .deb for which wanted(name) is true.

    Streams ``dpkg-deb --fsys-tarfile``; names are returned without the leading "./".
    """
    found: dict[str, bytes] = {}
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb_path)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name[2:] if member.name.startswith("./") else member.name
                if not wanted(name):
                    continue
                if not member.isfile():
                    log.debug("skipping non-regular member %s", name)
                    continue
                fobj = tar.extractfile(member)
                assert fobj is not None
                found[name] = fobj.read()
        while proc.stdout.read(1 << 20):  # drain the tar padding so dpkg-deb exits cleanly
            pass
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    proc.stdout.close()
    if proc.wait() != 0:
        raise SystemExit(f"dpkg-deb --fsys-tarfile {deb_path} failed")
    return found


# --------------------------------------------------------------------------- audio


def decode(data: bytes, what: str) -> tuple[np.ndarray, int]:
    """Mono float64 signal and its sample rate."""
    try:
        x, sr = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise SystemExit(f"{what}: cannot decode: {e}") from e
    return x.mean(axis=1), int(sr)


def frame_db(x: np.ndarray, hop: int) -> np.ndarray:
    n = len(x) // hop
    if n == 0:
        return np.full(1, -120.0)
    e = np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)
    return 10 * np.log10(e + 1e-12)


def speech_region(x: np.ndarray, sr: int) -> tuple[int, int] | None:
    """(start, end) samples of the spoken word in x, or None if nothing stands out.

    Energy in 10 ms frames, smoothed over 50 ms; the threshold sits 35 dB below the
    loud frames but at least 8 dB over the noise floor (15 dB below the loud frames
    at most). Runs of active frames shorter than 80 ms count only when they lie within
    250 ms of a longer run, so isolated clicks before or after the word are dropped.
    """
    hop = sr // 100
    db = frame_db(x, hop)
    if len(db) < 5:
        return None
    db = 10 * np.log10(np.convolve(10 ** (db / 10), np.ones(5) / 5, mode="same") + 1e-12)
    ref, floor = np.percentile(db, 95), np.percentile(db, 10)
    thr = max(ref - 35.0, min(floor + 8.0, ref - 15.0))
    active = db > thr
    runs: list[list[int]] = []
    for i, a in enumerate(active):
        if a and (not runs or runs[-1][1] != i):
            runs.append([i, i + 1])
        elif a:
            runs[-1][1] = i + 1
    long_runs = [r for r in runs if r[1] - r[0] >= 8]
    if not long_runs:
        return None
    start, end = long_runs[0][0], long_runs[-1][1]
    changed = True
    while changed:
        changed = False
        for r in runs:
            if r[1] <= start and start - r[1] <= 25 and r[0] < start:
                start, changed = r[0], True
            if r[0] >= end and r[0] - end <= 25 and r[1] > end:
                end, changed = r[1], True
    return start * hop, min(len(x), end * hop)


def fade(x: np.ndarray, n_in: int, n_out: int) -> np.ndarray:
    y = x.copy()
    if n_in > 0:
        n_in = min(n_in, len(y))
        y[:n_in] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(n_in) / n_in)
    if n_out > 0:
        n_out = min(n_out, len(y))
        y[len(y) - n_out:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(n_out) / n_out)
    return y


def peak_normalise(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(x)))
    if peak <= 0:
        raise ValueError("all-zero signal")
    return x * (PEAK / peak)


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def write_flac(path: Path, x: np.ndarray, sr: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), to_pcm16(x), sr, format="FLAC", subtype="PCM_16", compression_level=1.0)


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_OGG_CRC = _crc_table()


def ogg_crc(page: bytes | bytearray) -> int:
    crc = 0
    for b in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC[((crc >> 24) ^ b) & 0xFF]
    return crc


def set_ogg_serial(data: bytes, serial: int) -> bytes:
    """The Ogg stream with every page's serial number set to serial (CRCs recomputed).

    libsndfile picks a random serial number per file; fixing it makes reruns byte-identical.
    """
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if out[pos:pos + 4] != b"OggS":
            raise ValueError(f"not an Ogg page at byte {pos}")
        nseg = out[pos + 26]
        size = 27 + nseg + sum(out[pos + 27:pos + 27 + nseg])
        stored = int.from_bytes(out[pos + 22:pos + 26], "little")
        out[pos + 22:pos + 26] = b"\0\0\0\0"
        if ogg_crc(out[pos:pos + size]) != stored:
            raise ValueError(f"Ogg CRC mismatch at byte {pos}")
        out[pos + 14:pos + 18] = serial.to_bytes(4, "little")
        out[pos + 22:pos + 26] = ogg_crc(out[pos:pos + size]).to_bytes(4, "little")
        pos += size
    return bytes(out)


def write_vorbis(path: Path, x: np.ndarray, sr: int, key: str) -> None:
    buf = io.BytesIO()
    # quality 0.5 (about oggenc -q 5). Written in blocks: one large write makes the
    # libsndfile 1.2.2 Vorbis encoder crash.
    with sf.SoundFile(buf, "w", sr, 1, format="OGG", subtype="VORBIS", compression_level=0.5) as f:
        for i in range(0, len(x), 8192):
            f.write(x[i:i + 8192].astype(np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(set_ogg_serial(buf.getvalue(), zlib.crc32(key.encode())))


def silent_fraction(x: np.ndarray, sr: int, floor_dbfs: float = -50.0) -> float:
    db = frame_db(x, sr // 10)
    return float(np.mean(db < floor_dbfs))


# -------------------------------------------------------------------------- speech


@dataclass
class Word:
    member: str
    x: np.ndarray
    sr: int
    start: int
    end: int

    @property
    def speech_s(self) -> float:
        return (self.end - self.start) / self.sr


def lang_seed(lang: str) -> int:
    return zlib.crc32(f"sesqa-bundled-speech-{lang}".encode())


def load_words(members: dict[str, bytes], lang: str) -> list[Word]:
    prefix = f"{KTUBERLING_SOUNDS}/{lang}/"
    seen: set[str] = set()
    words: list[Word] = []
    for name in sorted(n for n in members if n.startswith(prefix)):
        digest = hashlib.sha256(members[name]).hexdigest()
        if digest in seen:
            log.debug("%s: duplicate of an earlier word, skipped", name)
            continue
        seen.add(digest)
        x, sr = decode(members[name], name)
        region = speech_region(x, sr)
        if region is None or np.max(np.abs(x[region[0]:region[1]])) < 0.02:
            log.warning("%s: no clear speech found, skipped", name)
            continue
        words.append(Word(name, x, sr, *region))
    # one recording session per language: keep the words at the predominant rate
    by_rate: dict[int, float] = {}
    for w in words:
        by_rate[w.sr] = by_rate.get(w.sr, 0.0) + w.speech_s
    main_rate = max(by_rate, key=lambda r: (by_rate[r], r))
    dropped = [w for w in words if w.sr != main_rate]
    if dropped:
        log.info("%s: %d words at other rates than %d Hz left out (%s)", lang, len(dropped), main_rate,
                 ", ".join(sorted({str(w.sr) for w in dropped})))
    return [w for w in words if w.sr == main_rate]


def take(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """x[a:b] with zeros where the range runs past either end."""
    left, right = max(0, -a), max(0, b - len(x))
    seg = x[max(0, a):min(len(x), b)]
    if left or right:
        seg = np.concatenate([np.zeros(left), seg, np.zeros(right)])
    return seg


def assemble(words: list[Word], pauses: list[float]) -> np.ndarray:
    """Words joined with pauses[i] seconds of room tone between word i and i+1."""
    sr = words[0].sr
    fade_n = int(0.004 * sr)
    parts = []
    for i, w in enumerate(words):
        before = EDGE_S if i == 0 else pauses[i - 1] / 2
        after = EDGE_S if i == len(words) - 1 else pauses[i] / 2
        seg = take(w.x, w.start - round(before * sr), w.end + round(after * sr))
        parts.append(fade(seg, fade_n, fade_n))
    return np.concatenate(parts)


def build_speech(
    members: dict[str, bytes], out: Path, langs: tuple[str, ...] = SPEECH_LANGS, cap_s: float = SPEECH_CAP_S
) -> list[tuple[str, str, float]]:
    rows = []
    for lang in langs:
        words = load_words(members, lang)
        if not words:
            raise SystemExit(f"{lang}: no usable words")
        rng = np.random.default_rng(lang_seed(lang))
        order = rng.permutation(len(words))
        mean_pause = sum(PAUSE_RANGE_S) / 2
        chosen: list[Word] = []
        total = 2 * EDGE_S
        for k in order:
            w = words[int(k)]
            if chosen and total + w.speech_s + mean_pause > cap_s:
                break
            chosen.append(w)
            total += w.speech_s + (mean_pause if len(chosen) > 1 else 0.0)
        n_utt = max(1, int(round(total / UTTERANCE_TARGET_S)))
        # contiguous chunks with about equal speech time
        cum = np.cumsum([w.speech_s + mean_pause for w in chosen])
        bounds = [0]
        for j in range(1, n_utt):
            bounds.append(int(np.argmin(np.abs(cum - total * j / n_utt))) + 1)
        bounds.append(len(chosen))
        bounds = sorted(set(bounds))
        for u, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]), start=1):
            group = chosen[a:b]
            pauses = [float(rng.uniform(*PAUSE_RANGE_S)) for _ in range(len(group) - 1)]
            y = peak_normalise(assemble(group, pauses))
            rel = f"speech/{lang}/{lang}_{u:02d}.flac"
            write_flac(out / rel, y, group[0].sr)
            dur = len(y) / group[0].sr
            rows.append((rel, f"{KTUBERLING.package} " + " ".join(
                PurePosixPath(w.member).name for w in group), dur))
            log.info("%s: %.2f s from %d words", rel, dur, len(group))
    return rows


# --------------------------------------------------------------------------- noise


def trim_silent_ends(x: np.ndarray, sr: int, below_peak_db: float = 40.0) -> np.ndarray:
    hop = sr // 50
    db = frame_db(x, hop)
    idx = np.nonzero(db > db.max() - below_peak_db)[0]
    return x[idx[0] * hop:min(len(x), (idx[-1] + 1) * hop)]


def build_noise(source: NoiseSource, members: dict[str, bytes], out: Path) -> list[tuple[str, str, float]]:
    rows = []
    for item in source.items:
        if item.member not in members:
            raise SystemExit(f"{source.deb.package}: {item.member} not found (or not a regular file)")
        x, sr = decode(members[item.member], item.member)
        x = trim_silent_ends(x, sr)
        clip_n = int(NOISE_CLIP_S * sr)
        if len(x) <= clip_n:
            starts = [0]
            clip_n = len(x)
        else:
            # one clip in each of item.clips equal parts of the recording: the window
            # (on a 0.5 s grid) with the fewest quiet 100 ms frames, the earliest on ties
            part = len(x) // item.clips
            clip_n = min(clip_n, part)
            hop = sr // 10
            db = frame_db(x, hop)
            quiet = np.concatenate([[0], np.cumsum(db < np.percentile(db, 99) - 40.0)])
            win = clip_n // hop
            starts = []
            for k in range(item.clips):
                grid = range(k * part, (k + 1) * part - clip_n + 1, sr // 2)
                starts.append(min(grid, key=lambda s: (quiet[s // hop + win] - quiet[s // hop], s)))
        for k, s in enumerate(starts, start=1):
            y = x[s:s + clip_n]
            y = peak_normalise(fade(y, int(0.01 * sr), int(0.01 * sr)))
            dur = len(y) / sr
            if dur < NOISE_MIN_S:
                raise SystemExit(f"{item.member}: clip of {dur:.2f} s is too short")
            frac = silent_fraction(y, sr)
            if frac > 0.2:
                raise SystemExit(f"{item.member}: clip is {frac:.0%} silent")
            suffix = f"_{k}" if len(starts) > 1 else ""
            rel = f"noise/{source.key}/{item.name}{suffix}.ogg"
            write_vorbis(out / rel, y, sr, rel)
            rows.append((rel, f"{source.deb.package} {item.member}@{s / sr:.2f}s", dur))
            log.info("%s: %.2f s at %d Hz", rel, dur, sr)
    return rows


# -------------------------------------------------------------------------- checks


def check_file(path: Path) -> tuple[float, int]:
    """Duration and rate of a written file; raises if it breaks the corpus rules."""
    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    dur = len(x) / sr
    if dur < 1.5:
        raise SystemExit(f"{path}: {dur:.2f} s is shorter than 1.5 s")
    if np.max(np.abs(x)) <= 0.05:
        raise SystemExit(f"{path}: peak too low")
    if silent_fraction(x, sr) > 0.3:
        raise SystemExit(f"{path}: mostly silent")
    return dur, sr


# ---------------------------------------------------------------------------- main


def build_training_corpus(out: Path, deb_path: Path) -> int:
    """Every usable word of the full-band languages, as utterances under out/speech/<lang>/."""
    from sesqa.data import FULL_BAND_LANGUAGES

    langs = tuple(lang for lang in FULL_BAND_LANGUAGES if lang in SPEECH_LANGS and lang not in RESERVED_LANGS)
    allowed = tuple(f"{KTUBERLING_SOUNDS}/{lang}/" for lang in langs)
    kt_copyright = COPYRIGHT_MEMBER.format(package=KTUBERLING.package)
    members = read_members(
        deb_path,
        lambda n: n == kt_copyright or (n.startswith(allowed) and n.lower().endswith(AUDIO_SUFFIXES) and n.count("/") == 5),
    )
    (out / "licenses").mkdir(parents=True, exist_ok=True)
    (out / "licenses" / f"{KTUBERLING.package}.copyright").write_bytes(members.pop(kt_copyright))
    rows = build_speech(members, out, langs, cap_s=float("inf"))
    with (out / "manifest.tsv").open("w", encoding="utf-8") as f:
        f.write("path\tseconds\tsource\n")
        for rel, source, dur in rows:
            f.write(f"{rel}\t{dur:.3f}\t{source}\n")
    log.info("%d utterances, %.1f min of speech, in %s", len(rows), sum(r[2] for r in rows) / 60, out)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--debs", type=Path, default=DEFAULT_DEBS, help="folder holding/receiving the .deb files")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the sesqa/data folder to (re)build")
    ap.add_argument("--no-download", action="store_true", help="fail instead of running apt-get download")
    ap.add_argument("--training-corpus", type=Path, default=None,
                    help="write all usable words of the full-band languages here instead (no noise, no cap)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(message)s")
    if args.training_corpus is not None:
        return build_training_corpus(args.training_corpus, ensure_deb(KTUBERLING, args.debs, not args.no_download))

    paths = {d.package: ensure_deb(d, args.debs, not args.no_download) for d in DEBS}

    with tempfile.TemporaryDirectory(prefix="sesqa-corpus-") as tmp:
        stage = Path(tmp)
        rows: list[tuple[str, str, float]] = []
        copyrights: dict[str, bytes] = {}

        # speech: only members under an allowed language folder are ever read
        allowed = tuple(f"{KTUBERLING_SOUNDS}/{lang}/" for lang in SPEECH_LANGS)
        kt_copyright = COPYRIGHT_MEMBER.format(package=KTUBERLING.package)
        members = read_members(
            paths[KTUBERLING.package],
            lambda n: n == kt_copyright
            or (n.startswith(allowed) and n.lower().endswith(AUDIO_SUFFIXES) and n.count("/") == 5),
        )
        copyrights[KTUBERLING.package] = members.pop(kt_copyright)
        rows += build_speech(members, stage)
        del members

        for source in NOISE_SOURCES:
            cr = COPYRIGHT_MEMBER.format(package=source.deb.package)
            want = {item.member for item in source.items} | {cr}
            members = read_members(paths[source.deb.package], want.__contains__)
            copyrights[source.deb.package] = members.pop(cr)
            rows += build_noise(source, members, stage)
            del members

        lic = stage / "licenses"
        lic.mkdir()
        for package, text in copyrights.items():
            (lic / f"{package}.copyright").write_bytes(text)
        if sha256_file(GPL2_PATH) != GPL2_SHA256:
            log.warning("%s differs from the expected GPL-2 text", GPL2_PATH)
        shutil.copyfile(GPL2_PATH, lic / "GPL-2")

        summary: dict[str, list[float]] = {}
        for rel, _, _ in rows:
            dur, _ = check_file(stage / rel)
            parts = rel.split("/")
            if parts[0] == "speech" and parts[1] in RESERVED_LANGS:
                raise SystemExit(f"{rel}: reserved language")
            key = f"{parts[0]}/{parts[1]}"
            summary.setdefault(key, [0, 0.0, 0])
            summary[key][0] += 1
            summary[key][1] += dur
            summary[key][2] += (stage / rel).stat().st_size
        with (stage / "manifest.tsv").open("w", encoding="utf-8") as f:
            f.write("path\tseconds\tsource\n")
            for rel, src, dur in sorted(rows):
                f.write(f"{rel}\t{dur:.3f}\t{src}\n")

        out = args.out
        out.mkdir(parents=True, exist_ok=True)
        for name in ("speech", "noise", "licenses"):
            if (out / name).exists():
                shutil.rmtree(out / name)
            shutil.copytree(stage / name, out / name)
        shutil.copyfile(stage / "manifest.tsv", out / "manifest.tsv")

    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    lines = [f"{'folder':<22}{'files':>6}{'seconds':>10}{'MB':>8}"]
    for key in sorted(summary, key=lambda k: (k.split("/")[0] != "speech", k)):
        n, secs, size = summary[key]
        lines.append(f"{key:<22}{n:>6}{secs:>10.1f}{size / 1e6:>8.2f}")
    for kind in ("speech", "noise"):
        n = sum(v[0] for k, v in summary.items() if k.startswith(kind))
        secs = sum(v[1] for k, v in summary.items() if k.startswith(kind))
        size = sum(v[2] for k, v in summary.items() if k.startswith(kind))
        lines.append(f"{kind + ' total':<22}{n:>6}{secs:>10.1f}{size / 1e6:>8.2f}")
    lines.append(f"{str(out)} in all: {total / 1e6:.2f} MB")
    print("\n".join(lines))
    if total > 15e6:
        log.error("%s is %.2f MB, over the 15 MB budget", out, total / 1e6)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
