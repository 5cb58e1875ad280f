"""Streaming input for `sesqa score`: any audio file -> fixed-length mono frames, in constant memory.

`open_stream` decodes a file block by block (libsndfile when it reads the format, else PyAV packet
by packet), mixes it down to mono (or picks one channel) and resamples it with a stateful soxr
stream, so block boundaries leave no trace and a file of hours never sits in memory.
`iter_frames` cuts the stream into overlapping frames with a rolling buffer; `batched` groups
frames for the model; `find_audio` expands the command line's paths into audio files.

Framing policy (`iter_frames`, defaults frame 1 s, hop 1 s, minimum 0.5 s):

- frames start at 0, hop, 2*hop, ... while they fit entirely in the file;
- if the last of those ends before the end of the file, one more frame is taken that ends exactly
  at the end of the file (its start is not on the hop grid), so no audio goes unscored;
- a file at least `min_s` long but shorter than one frame gives a single frame zero-padded at the
  end (`Frame.pad` counts the padding). Zeros, not a repeat of the clip: silence after an utterance
  is a natural condition the model has seen, while looping the clip would splice in a
  discontinuity (a click) that a quality model would score as a degradation;
- a file shorter than `min_s` (by more than 5 ms of rounding slack) raises AudioError
  ("x.wav: 0.10 s is shorter than the 0.5 s minimum"); empty files, non-audio and NaN/inf
  samples raise AudioError naming the file. Errors found while decoding (NaN in the middle of a
  file) surface mid-iteration: discard that file's frames;
- a file that is entirely digital silence is not an error: `FrameIterator.stats.all_zero` says so
  once iteration is done, for the scorer to warn.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

import numpy as np
import soundfile as sf
import soxr

from sesqa.audio import SAMPLE_RATE, AudioError

log = logging.getLogger(__name__)

Backend = Literal["auto", "soundfile", "pyav"]

DEFAULT_HOP_S = 1.0
"""Seconds between frame starts: non-overlapping 1 s frames. A hop of 0.5 s doubles the time
resolution of the frame scores at twice the cost; a file's score moves by 0.03 (median; at most
0.1) on the bundled clips."""

DEFAULT_BLOCK_S = 10.0
"""Decode block length; memory is a few blocks, and larger blocks amortise per-call overhead."""

MIN_DURATION_S = 0.5
"""Shortest file `iter_frames` accepts by default (issue 5)."""

MIN_SLACK_S = 0.005
"""A file is too short only when it falls short of the minimum by more than this."""

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        "wav", "wave", "flac", "ogg", "oga", "opus", "spx", "mp3", "mp2", "m4a", "m4b", "aac", "wma",
        "aif", "aiff", "aifc", "au", "snd", "caf", "w64", "rf64", "webm", "mka", "mp4", "3gp", "amr",
    }
)  # fmt: skip
"""Extensions (lower case, no dot) picked up when a directory is expanded."""

LIST_EXTENSIONS: frozenset[str] = frozenset({"txt", "lst", "list"})
"""A file with one of these extensions is read as a list of paths, one per line."""


class ChannelError(AudioError, ValueError):
    """`channel` is out of range for a file: a ValueError (bad option) that a batch, catching
    AudioError per file, also survives (a `--channel 1` over a mix of mono and stereo files)."""


@dataclass(frozen=True)
class Frame:
    """One analysis window: where it starts in the file and its mono float32 samples."""

    start_s: float
    samples: np.ndarray
    pad: int = 0
    """Zero samples appended at the end (only for a file shorter than one frame)."""


@dataclass(frozen=True)
class FrameStats:
    """What iteration over a file found so far; final once the iterator is exhausted."""

    path: str
    n_frames: int
    duration_s: float
    """Decoded length at the output rate, seconds."""
    peak: float
    """Largest absolute sample of the (mixed-down or selected) signal before resampling."""
    native_sr: int
    channels: int
    complete: bool
    """True once the whole file has been decoded."""

    @property
    def all_zero(self) -> bool:
        """The file held samples and every one was exactly zero (digital silence)."""
        return self.duration_s > 0 and self.peak == 0.0


class AudioStream:
    """A file decoded incrementally: iterate it for mono float32 blocks at `sr`.

    Single pass: the file is read once, then closed. Attributes `native_sr`, `channels` and
    `duration_s` (from the header, None when the format does not say) are known on opening;
    `peak`, `native_samples` and `out_samples` count what has been decoded so far.
    """

    def __init__(
        self,
        path: str | Path,
        sr: int = SAMPLE_RATE,
        channel: int | None = None,
        block_s: float = DEFAULT_BLOCK_S,
        backend: Backend = "auto",
    ) -> None:
        self.path = Path(path)
        self.sr = int(sr)
        self.channel = channel
        if self.sr <= 0:
            raise ValueError(f"{self.path}: output rate must be positive, got {sr!r}")
        if not block_s > 0:
            raise ValueError(f"{self.path}: block_s must be positive, got {block_s!r}")
        if backend not in ("auto", "soundfile", "pyav"):
            raise ValueError(f"{self.path}: backend must be auto, soundfile or pyav, got {backend!r}")
        self.block_s = float(block_s)
        self.peak = 0.0
        self.native_samples = 0
        self.out_samples = 0
        self.exhausted = False
        self._consumed = False
        self._sf: sf.SoundFile | None = None
        self._container = None
        self._astream = None
        _check_file(self.path)
        if backend in ("auto", "soundfile"):
            try:
                self._sf = sf.SoundFile(str(self.path))
            except RuntimeError as e:  # LibsndfileError: format libsndfile does not read
                if backend == "soundfile":
                    raise AudioError(f"{self.path}: not readable by libsndfile ({e})") from e
        if self._sf is not None:
            self.backend: str = "soundfile"
            self.native_sr = int(self._sf.samplerate)
            self.channels = int(self._sf.channels)
            frames = int(self._sf.frames)
            self.duration_s: float | None = (
                frames / self.native_sr if 0 < frames < 2**62 and self.native_sr > 0 else None
            )
        else:
            self.backend = "pyav"
            self._open_pyav()
        try:
            self._validate()
        except (AudioError, ValueError):
            self.close()
            raise
        log.debug(
            "%s: %s, %d Hz, %d ch, %s s", self.path, self.backend, self.native_sr, self.channels,
            "?" if self.duration_s is None else f"{self.duration_s:.2f}",
        )  # fmt: skip

    def _open_pyav(self) -> None:
        import av

        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise AudioError(f"{self.path}: not readable as audio ({e})") from e
        if not self._container.streams.audio:
            self.close()
            raise AudioError(f"{self.path}: no audio stream")
        st = self._container.streams.audio[0]
        self._astream = st
        self.native_sr = int(st.codec_context.sample_rate or st.rate or 0)
        self.channels = int(st.codec_context.channels or 0)
        if st.duration is not None and st.time_base is not None:
            self.duration_s = float(st.duration * st.time_base)
        elif self._container.duration is not None:
            self.duration_s = self._container.duration / av.time_base
        else:
            self.duration_s = None

    def _validate(self) -> None:
        if self.native_sr <= 0:
            raise AudioError(f"{self.path}: no valid sample rate ({self.native_sr})")
        if self.channels <= 0:
            raise AudioError(f"{self.path}: no audio channels")
        if self.channel is not None and not 0 <= self.channel < self.channels:
            raise ChannelError(
                f"{self.path}: channel {self.channel} out of range, the file has {self.channels} "
                f"channel{'s' if self.channels != 1 else ''} (0..{self.channels - 1})"
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder; safe to call twice."""
        if self._sf is not None:
            self._sf.close()
            self._sf = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._consumed:
            raise ValueError(f"{self.path}: an AudioStream can be iterated only once; open it again")
        self._consumed = True
        return self._blocks()

    def _blocks(self) -> Iterator[np.ndarray]:
        """Mono float32 blocks at `sr`; the resampler keeps its state across blocks."""
        native = self._native_blocks_sf() if self.backend == "soundfile" else self._native_blocks_pyav()
        rs = None
        if self.native_sr != self.sr:
            rs = soxr.ResampleStream(self.native_sr, self.sr, 1, dtype="float32", quality="VHQ")
        try:
            for x in native:
                x = self._check_block(x)
                y = x if rs is None else rs.resample_chunk(x)
                if y.size:
                    self.out_samples += y.size
                    yield y
            if rs is not None:
                y = rs.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
                if y.size:
                    self.out_samples += y.size
                    yield y
            self.exhausted = True
        finally:
            self.close()

    def _check_block(self, x: np.ndarray) -> np.ndarray:
        """Reject NaN/inf, track the peak, count samples; `x` is mono at the native rate."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        finite = np.isfinite(x)
        if not finite.all():
            i = int(np.argmin(finite))
            t = (self.native_samples + i) / self.native_sr
            raise AudioError(f"{self.path}: NaN or infinite sample at {t:.3f} s")
        if x.size:
            self.peak = max(self.peak, float(np.max(np.abs(x))))
        self.native_samples += x.size
        return x

    def _mono(self, x: np.ndarray, channel_axis: int) -> np.ndarray:
        if self.channel is not None:
            if self.channel >= x.shape[channel_axis]:
                raise AudioError(
                    f"{self.path}: channel {self.channel} missing from a block with {x.shape[channel_axis]} channels"
                )
            return np.take(x, self.channel, axis=channel_axis)
        if x.shape[channel_axis] == 1:
            return np.take(x, 0, axis=channel_axis)
        return x.mean(axis=channel_axis, dtype=np.float32)

    def _native_blocks_sf(self) -> Iterator[np.ndarray]:
        assert self._sf is not None
        n = max(1, round(self.block_s * self.native_sr))
        while True:
            try:
                x = self._sf.read(n, dtype="float32", always_2d=True)
            except RuntimeError as e:
                raise AudioError(
                    f"{self.path}: decoding failed at {self.native_samples / self.native_sr:.3f} s ({e})"
                ) from e
            if not len(x):
                return
            yield self._mono(x, channel_axis=1)

    def _native_blocks_pyav(self) -> Iterator[np.ndarray]:
        """Demux and decode packet by packet, gathering about `block_s` of audio per block.

        The last decoded frame is held back and cut to its packet's duration: that is how MP4
        marks the encoder's padding after the end (an AAC file of 2.5 s otherwise decodes to
        2.56 s, whole 1024-sample frames), and the ffmpeg command line trims it the same way.
        """
        import av

        assert self._container is not None and self._astream is not None
        n = max(1, round(self.block_s * self.native_sr))
        # format conversion only (to planar float); rate pinned so a mid-stream change is resampled
        converter = av.AudioResampler(format="fltp", rate=self.native_sr)
        pending: list[np.ndarray] = []
        count = 0
        held: tuple[np.ndarray, int | None] | None = None  # last frame, samples its packet allows
        bad_packets = 0
        try:
            for packet in self._container.demux(self._astream):
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError as e:
                    bad_packets += 1
                    if bad_packets == 1:
                        log.warning("%s: skipping undecodable packet(s) (%s)", self.path, e)
                    continue
                for frame in decoded:
                    outs = [self._mono(o.to_ndarray(), channel_axis=0) for o in converter.resample(frame)]
                    if held is not None:
                        pending.append(held[0])
                        count += held[0].size
                    x = np.concatenate(outs) if len(outs) != 1 else outs[0]
                    held = (x, self._packet_samples(packet, frame))
                if count >= n:
                    yield np.concatenate(pending)
                    pending, count = [], 0
            if held is not None:
                x, allowed = held
                if allowed is not None and 0 < allowed < x.size:
                    x = x[:allowed]
                pending.append(x)
            for out in converter.resample(None):
                pending.append(self._mono(out.to_ndarray(), channel_axis=0))
        except (av.error.FFmpegError, OSError) as e:
            raise AudioError(
                f"{self.path}: decoding failed after {self.native_samples / self.native_sr:.3f} s ({e})"
            ) from e
        if bad_packets:
            log.warning("%s: %d undecodable packet(s) skipped", self.path, bad_packets)
        if pending:
            yield np.concatenate(pending)

    def _packet_samples(self, packet: object, frame: object) -> int | None:
        """Samples `frame` may keep by its packet's duration, when the two line up sample-exactly."""
        p_pts, f_pts = getattr(packet, "pts", None), getattr(frame, "pts", None)
        duration, tb = getattr(packet, "duration", None), getattr(packet, "time_base", None)
        if p_pts is None or f_pts is None or not duration or tb is None or p_pts != f_pts:
            return None
        if getattr(frame, "time_base", tb) != tb or getattr(frame, "sample_rate", None) != self.native_sr:
            return None
        if tb * self.native_sr > 1:  # coarser than a sample (Matroska's 1 ms): durations are rounded
            return None
        return round(duration * tb * self.native_sr)


def _check_file(path: Path) -> None:
    """Fail early, with a plain message, on what no decoder can help with."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except OSError as e:
        raise AudioError(f"{path}: cannot access ({e.strerror or e})") from e
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if st.st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")


def open_stream(
    path: str | Path,
    sr: int = SAMPLE_RATE,
    channel: int | None = None,
    block_s: float = DEFAULT_BLOCK_S,
    backend: Backend = "auto",
) -> AudioStream:
    """Open `path` for incremental decoding to mono float32 at `sr`.

    Channels are averaged, or `channel` (0-based) is taken alone; ChannelError (a ValueError and an
    AudioError) names the file and its channel count when `channel` is out of range. `backend` forces libsndfile or PyAV (for tests
    and debugging); "auto" tries libsndfile first. Raises AudioError when the file is missing,
    empty or not audio.
    """
    return AudioStream(path, sr=sr, channel=channel, block_s=block_s, backend=backend)


class FrameIterator(Iterator[Frame]):
    """Frames of one stream (see the module docstring for the policy); `stats` reports progress.

    Memory stays at about one frame plus one decode block, whatever the file's length.
    """

    def __init__(self, stream: AudioStream, frame_s: float, hop_s: float, min_s: float, owns_stream: bool) -> None:
        sr = stream.sr
        self.stream = stream
        self.frame_samples = round(frame_s * sr)
        self.hop_samples = round(hop_s * sr)
        self.min_s = float(min_s)
        # 5 ms of slack, so that a clip reported as "0.50 s" is never rejected as too short
        # (a 0.5 s clip at 11025 Hz has 5512 samples, 0.49995 s)
        self._min_samples = max(1, math.ceil((min_s - MIN_SLACK_S) * sr - 1e-9))
        self._n_frames = 0
        self._owns = owns_stream
        if self.frame_samples < 1 or self.hop_samples < 1:
            raise ValueError(
                f"{stream.path}: frame_s and hop_s must be at least one sample, got {frame_s!r}, {hop_s!r}"
            )
        if self.hop_samples > self.frame_samples:
            raise ValueError(f"{stream.path}: hop_s {hop_s!r} exceeds frame_s {frame_s!r}; audio would go unscored")
        if min_s < 0:
            raise ValueError(f"{stream.path}: min_s must be non-negative, got {min_s!r}")
        self._gen = self._frames()

    @property
    def stats(self) -> FrameStats:
        s = self.stream
        return FrameStats(
            path=str(s.path),
            n_frames=self._n_frames,
            duration_s=s.out_samples / s.sr,
            peak=s.peak,
            native_sr=s.native_sr,
            channels=s.channels,
            complete=s.exhausted,
        )

    def __iter__(self) -> FrameIterator:
        return self

    def __next__(self) -> Frame:
        return next(self._gen)

    def close(self) -> None:
        """Stop early and release the decoder."""
        self._gen.close()
        if self._owns:
            self.stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _emit(self, start: int, samples: np.ndarray, pad: int = 0) -> Frame:
        self._n_frames += 1
        return Frame(start / self.stream.sr, samples, pad)

    def _frames(self) -> Iterator[Frame]:
        F, H, sr = self.frame_samples, self.hop_samples, self.stream.sr
        path = self.stream.path
        buf = np.zeros(0, dtype=np.float32)
        buf_off = 0  # absolute index of buf[0]
        total = 0  # samples received
        next_start = 0  # next frame on the hop grid
        last_end = 0  # end of the last frame emitted
        try:
            for block in self.stream:
                buf = np.concatenate((buf, block)) if buf.size else block
                total += block.size
                if total < self._min_samples:  # nothing is emitted before the file is known long enough
                    continue
                while next_start + F <= total:
                    i = next_start - buf_off
                    yield self._emit(next_start, buf[i : i + F].copy())
                    last_end = next_start + F
                    next_start += H
                # keep what the next grid frame needs, and always the last F samples for the tail frame
                keep_from = min(next_start, total - F)
                if keep_from > buf_off:
                    buf = buf[keep_from - buf_off :]
                    buf_off = keep_from
            if total == 0:
                raise AudioError(f"{path}: no audio samples")
            if total < self._min_samples:
                raise AudioError(f"{path}: {total / sr:.2f} s is shorter than the {self.min_s:g} s minimum")
            if total < F:
                samples = np.zeros(F, dtype=np.float32)
                samples[:total] = buf[:total]
                yield self._emit(0, samples, pad=F - total)
            elif last_end < total:
                start = total - F
                yield self._emit(start, buf[start - buf_off :].copy())
        finally:
            if self._owns:
                self.stream.close()


class ArrayStream:
    """An in-memory mono signal already at the model's rate, framed like a file (`Scorer.score(x, sr)`)."""

    def __init__(self, x: np.ndarray, sr: int, name: str = "array") -> None:
        self.path = name
        self.sr = self.native_sr = sr
        self.channels = 1
        self.samples = np.ascontiguousarray(x, dtype=np.float32)
        self.out_samples = self.samples.size
        self.peak = float(np.abs(self.samples).max()) if self.samples.size else 0.0
        self.exhausted = True

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.samples.size:
            yield self.samples

    def close(self) -> None:
        pass


def iter_frames(
    stream_or_path: AudioStream | ArrayStream | str | Path,
    frame_s: float = 1.0,
    hop_s: float = DEFAULT_HOP_S,
    sr: int = SAMPLE_RATE,
    channel: int | None = None,
    min_s: float = MIN_DURATION_S,
    block_s: float = DEFAULT_BLOCK_S,
) -> FrameIterator:
    """Sliding `frame_s` windows every `hop_s` over a file or an open stream, in constant memory.

    Given a path, the file is opened here (AudioError at once if unreadable) and closed when the
    frames run out; given an AudioStream, `sr` must match it and `channel` must be None.
    """
    if isinstance(stream_or_path, (AudioStream, ArrayStream)):
        stream = stream_or_path
        if stream.sr != sr:
            raise ValueError(f"{stream.path}: stream is at {stream.sr} Hz but sr={sr} was asked for")
        if channel is not None:
            raise ValueError(f"{stream.path}: pick the channel when opening the stream, not in iter_frames")
        return FrameIterator(stream, frame_s, hop_s, min_s, owns_stream=False)  # type: ignore[arg-type]
    stream = open_stream(stream_or_path, sr=sr, channel=channel, block_s=block_s)
    try:
        return FrameIterator(stream, frame_s, hop_s, min_s, owns_stream=True)
    except ValueError:
        stream.close()
        raise


def batched(frames: Iterable[Frame], batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Group frames into (start times float64 (n,), samples float32 (n, frame_samples)); the last batch may be short."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    starts: list[float] = []
    rows: list[np.ndarray] = []
    for frame in frames:
        starts.append(frame.start_s)
        rows.append(frame.samples)
        if len(rows) == batch_size:
            yield np.asarray(starts, dtype=np.float64), np.stack(rows)
            starts, rows = [], []
    if rows:
        yield np.asarray(starts, dtype=np.float64), np.stack(rows)


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
