"""The one audio decoder: any file -> mono float32 blocks at a chosen rate, in constant memory.

`open_stream` decodes a file block by block (libsndfile when it reads the format, else PyAV packet
by packet), mixes it down to mono (or picks one channel) and resamples it with a stateful soxr
stream, so block boundaries leave no trace and a file of hours never sits in memory. A stream can
start at an offset and stop after a length: libsndfile seeks there, PyAV decodes up to the offset
and drops what came before (exact to the sample, where a container seek is not).

`load`, `info`, the scoring frames and the sweep all read audio through this decoder, so the same
file gives the same samples whichever command reads it.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Self

import numpy as np
import soundfile as sf
import soxr

from .base import SAMPLE_RATE, AudioError, ChannelError
from .level import Level, LevelMeter
from .wav import wav_truncation

log = logging.getLogger(__name__)

Backend = Literal["auto", "soundfile", "pyav"]

DEFAULT_BLOCK_S = 10.0
"""Decode block length; memory is a few blocks, and larger blocks amortise per-call overhead."""


class AudioStream:
    """A file decoded incrementally: iterate it for mono float32 blocks at `sr`.

    Single pass: the file is read once, then closed. Attributes `native_sr`, `channels` and
    `duration_s` (of the whole file, from the header, None when the format does not say) are known
    on opening; `peak`, `native_samples` and `out_samples` count what has been decoded so far
    (from `offset_s` on). `sr=None` keeps the file's own rate. With `measure_level`, the
    decoded signal (mono mix or chosen channel, at the native rate, before resampling, so clipped
    runs stay flat) is metered as it passes: `level` gives loudness, peak, DC and clipping.
    `warnings` holds what is wrong with the file but does not stop it being read (a WAV cut
    short: `wav.wav_truncation`); the stream does not log them, its reader decides how to tell.
    """

    def __init__(
        self,
        path: str | Path,
        sr: int | None = SAMPLE_RATE,
        channel: int | None = None,
        block_s: float = DEFAULT_BLOCK_S,
        backend: Backend = "auto",
        offset_s: float = 0.0,
        limit_s: float | None = None,
        measure_level: bool = False,
    ) -> None:
        self.path = Path(path)
        self.channel = channel
        if sr is not None and int(sr) <= 0:
            raise ValueError(f"{self.path}: output rate sr must be positive, got {sr!r}")
        if not block_s > 0:
            raise ValueError(f"{self.path}: block_s must be positive, got {block_s!r}")
        if backend not in ("auto", "soundfile", "pyav"):
            raise ValueError(f"{self.path}: backend must be auto, soundfile or pyav, got {backend!r}")
        if not offset_s >= 0:
            raise ValueError(f"{self.path}: offset_s must be non-negative, got {offset_s!r}")
        if limit_s is not None and not limit_s >= 0:
            raise ValueError(f"{self.path}: limit_s must be non-negative or None, got {limit_s!r}")
        self.block_s = float(block_s)
        self.offset_s = float(offset_s)
        self.peak = 0.0
        self.native_samples = 0
        self.out_samples = 0
        self.exhausted = False
        self._consumed = False
        self._sf: sf.SoundFile | None = None
        self._container = None
        self._astream = None
        _check_file(self.path)
        truncated = wav_truncation(self.path)
        self.warnings: tuple[str, ...] = (truncated,) if truncated else ()
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
            self._place(limit_s)
        except (AudioError, ValueError):
            self.close()
            raise
        self.sr = self.native_sr if sr is None else int(sr)
        self._meter = LevelMeter(self.native_sr) if measure_level else None
        log.debug(
            "%s: %s, %d Hz, %d ch, %s s", self.path, self.backend, self.native_sr, self.channels,
            "?" if self.duration_s is None else f"{self.duration_s:.2f}",
        )  # fmt: skip

    def _open_pyav(self) -> None:
        import av

        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, ValueError) as e:
            # FFmpeg's strerror alone: str(e) repeats the path after an "[Errno 1094995529]"
            raise AudioError(f"{self.path}: not readable as audio ({getattr(e, 'strerror', None) or e})") from e
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

    def _place(self, limit_s: float | None) -> None:
        """Native samples to skip and to keep; libsndfile seeks straight to the offset when it can."""
        self._start = int(round(self.offset_s * self.native_sr))
        self._limit = None if limit_s is None else int(round(limit_s * self.native_sr))
        self._skip = self._start
        self._pos = 0  # native position of the decoder in the file, for error messages
        if self._start and self._sf is not None and self._sf.seekable():
            frames = int(self._sf.frames)
            target = min(self._start, frames) if 0 < frames < 2**62 else self._start
            try:
                self._sf.seek(target)
            except RuntimeError as e:
                raise AudioError(f"{self.path}: cannot seek to {self.offset_s:.3f} s ({e})") from e
            self._skip = max(0, self._start - target)
            self._pos = target

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
            for x in self._window(native):
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

    def _window(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Drop what lies before the offset (when the decoder could not seek) and stop at the limit."""
        skip, left = self._skip, self._limit
        if left == 0:
            return
        for x in blocks:
            if skip:
                if x.size <= skip:
                    skip -= x.size
                    continue
                x, skip = x[skip:], 0
            if left is not None:
                if x.size >= left:
                    yield x[:left]
                    return
                left -= x.size
            yield x

    def _check_block(self, x: np.ndarray) -> np.ndarray:
        """Reject NaN/inf, track the peak, count samples; `x` is mono at the native rate."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        finite = np.isfinite(x)
        if not finite.all():
            i = int(np.argmin(finite))
            t = (self._start + self.native_samples + i) / self.native_sr
            raise AudioError(f"{self.path}: NaN or infinite sample at {t:.3f} s")
        if x.size:
            self.peak = max(self.peak, float(np.max(np.abs(x))))
            if self._meter is not None:
                self._meter.update(x)
        self.native_samples += x.size
        return x

    @property
    def level(self) -> Level | None:
        """The level of what was decoded so far (None unless opened with measure_level)."""
        return None if self._meter is None else self._meter.result()

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
                raise AudioError(f"{self.path}: decoding failed at {self._pos / self.native_sr:.3f} s ({e})") from e
            if not len(x):
                return
            self._pos += len(x)
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
                    self._pos += count
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
            raise AudioError(f"{self.path}: decoding failed after {self._pos / self.native_sr:.3f} s ({e})") from e
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
        if e.errno == errno.ELOOP:
            raise AudioError(f"{path}: symlink loop (too many levels of symbolic links)") from None
        raise AudioError(f"{path}: cannot access ({e.strerror or e})") from e
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if st.st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")


def open_stream(
    path: str | Path,
    sr: int | None = SAMPLE_RATE,
    channel: int | None = None,
    block_s: float = DEFAULT_BLOCK_S,
    backend: Backend = "auto",
    offset_s: float = 0.0,
    limit_s: float | None = None,
    measure_level: bool = False,
) -> AudioStream:
    """Open `path` for incremental decoding to mono float32 at `sr` (None: the file's own rate).

    Channels are averaged, or `channel` (0-based) is taken alone; ChannelError (a ValueError and an
    AudioError) names the file and its channel count when `channel` is out of range. Decoding
    starts `offset_s` into the file and stops after `limit_s` seconds of it (None: the end).
    `backend` forces libsndfile or PyAV (for tests and debugging); "auto" tries libsndfile first.
    `measure_level` meters the decoded signal (`AudioStream.level`).
    Raises AudioError when the file is missing, empty or not audio.
    """
    return AudioStream(
        path, sr=sr, channel=channel, block_s=block_s, backend=backend, offset_s=offset_s, limit_s=limit_s,
        measure_level=measure_level,
    )
