"""Fixed-length mono frames of a file or an array, for the scorer, in constant memory.

`iter_frames` cuts a decoded stream (`sesqa.audio.open_stream`, the one decoder) into overlapping
frames with a rolling buffer; `batched` groups frames for the model; `ArrayStream` frames an
in-memory signal the same way.

Framing policy (`iter_frames`, defaults frame 1 s, hop 1 s, minimum 0.5 s):

- frames start at 0, hop, 2*hop, ... while they fit entirely in the file;
- if the last of those ends before the end of the file, one more frame is taken that ends exactly
  at the end of the file (its start is not on the hop grid), so no audio goes unscored (with
  `trim_silence`, the grid starts and ends with the recording's sound, see below);
- a file at least `min_s` long but shorter than one frame gives a single frame zero-padded at the
  end (`Frame.pad` counts the padding). Zeros, not a repeat of the clip: silence after an utterance
  is a natural condition the model has seen, while looping the clip would splice in a
  discontinuity (a click) that a quality model would score as a degradation;
- a file shorter than `min_s` (by more than 5 ms of rounding slack) raises AudioError
  ("x.wav: 0.10 s is shorter than the 0.5 s minimum"): `sesqa.audio.check_duration`, the rule
  the training streams apply too; empty files, non-audio and NaN/inf
  samples raise AudioError naming the file. Errors found while decoding (NaN in the middle of a
  file) surface mid-iteration: discard that file's frames;
- a file that is entirely digital silence is not an error: `FrameIterator.stats.all_zero` says so
  once iteration is done, for the scorer to warn.

With `trim_silence` (the scorer's choice; `compare` keeps one grid for both files) the frames
cover the recording without the silence around it. A step |x[n] - x[n-1]| is audible when it is
above `SILENT_STEP_RATIO` (-96 dB) of a reference step: relative, so gain does not move it; on
steps, so a DC offset does not; far above float32 rounding, so a resampler's decaying ringing
ends where it is inaudible whatever the level.

- The grid starts at the first audible step (the reference: the largest step in the frame's
  worth of audio after the first change, decided once that much has arrived), or at the sample
  before it unless that sample ends a run of equal samples. Silence prepended to a recording, of
  any length, shifts every frame by exactly its length.
- The tail frame ends at the last audible step (the reference: the largest step before it), or
  the sample before it when that step drops into a final run of equal samples, so appended
  silence of any length leaves every frame as it was.

Frame start times stay times in the file. A recording shorter than one frame keeps the silence
after it in its frame. Repeats of one sample are not stored: digital silence costs no memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from ..audio import (
    DEFAULT_BLOCK_S,
    MIN_DURATION_S,
    SAMPLE_RATE,
    AudioStream,
    Level,
    check_duration,
    min_samples,
    open_stream,
)

SILENT_STEP_RATIO = 2.0**-16
"""A sample-to-sample step at most this fraction (-96 dB, a 16-bit step against full scale) of
the reference step is silence, for `trim_silence`. On the invariance benchmark's 44.1 kHz round
trip, -96 dB moved scores by 0.002 (p90 0.007) against 0.004 (p90 0.022) at -120 dB: deeper, the
two resamplers' ringing before an onset starts the sound at different samples."""
MAX_QUIET_S = 60.0
"""Trailing-silence candidates longer than this are framed anyway (they are silence to the speech
mask), so a long quiet stretch costs no more memory than this."""

DEFAULT_HOP_S = 1.0
"""Seconds between frame starts: non-overlapping 1 s frames. A hop of 0.5 s doubles the time
resolution of the frame scores at twice the cost; a file's score moves by 0.03 (median; at most
0.1) on the bundled clips."""


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
    level: Level | None = None
    """Loudness, peak, DC and clipping of what was decoded, when the stream meters it."""
    warnings: tuple[str, ...] = ()
    """What the decoder found wrong but readable (a WAV cut short)."""

    @property
    def all_zero(self) -> bool:
        """The file held samples and every one was exactly zero (digital silence)."""
        return self.duration_s > 0 and self.peak == 0.0


class FrameIterator(Iterator[Frame]):
    """Frames of one stream (see the module docstring for the policy); `stats` reports progress.

    Memory stays at about one frame plus one decode block, whatever the file's length.
    """

    def __init__(
        self, stream: AudioStream, frame_s: float, hop_s: float, min_s: float, owns_stream: bool, trim_silence: bool = False
    ) -> None:
        sr = stream.sr
        self.trim_silence = trim_silence
        self.stream = stream
        self.frame_samples = round(frame_s * sr)
        self.hop_samples = round(hop_s * sr)
        self.min_s = float(min_s)
        self._min_samples = min_samples(sr, min_s)  # the one rule, with its 5 ms of slack
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
            level=s.level,
            warnings=tuple(getattr(s, "warnings", ())),
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
        trim = self.trim_silence
        # The samples kept, as (offset, array) pieces; a sample between or after them (up to `total`)
        # repeats the piece before it. A trimming iterator keeps no block that only continues the
        # last sample, so a long stretch of digital silence costs no memory.
        kept: list[tuple[int, np.ndarray]] = []
        total = 0  # samples received
        previous = np.float32(0)  # the last sample received
        largest_step = np.float32(0)  # the largest |x[n] - x[n-1]| so far
        first_change: int | None = None  # the first index whose sample differs from the one before
        last_change = 0  # the last such index
        audible = 0  # the last index whose step was audible (above SILENT_STEP_RATIO of the largest before it)
        origin: int | None = None if trim else 0  # the hop grid's first frame start, once known
        max_quiet = round(MAX_QUIET_S * sr)
        next_start = 0  # next frame on the hop grid
        last_end = 0  # end of the last frame emitted (0: none yet)

        def segment(a: int, b: int) -> np.ndarray:
            out = np.zeros(b - a, dtype=np.float32)  # zeros past the end of the file: padding
            for n, (off, piece) in enumerate(kept):
                piece_end = off + piece.size
                run_end = kept[n + 1][0] if n + 1 < len(kept) else total  # its last sample repeats until here
                lo, hi = max(a, off), min(b, piece_end)
                if lo < hi:
                    out[lo - a : hi - a] = piece[lo - off : hi - off]
                lo, hi = max(a, piece_end), min(b, run_end)
                if lo < hi:
                    out[lo - a : hi - a] = piece[-1]
            return out

        def start_of_sound() -> int:
            """Where the sound starts: at the first audible step, judged against the largest step of
            the first frame's worth of audio after the first change, or the sample before it unless
            that one ends a run of equal samples (silence). 0 for a file that never changes."""
            if first_change is None:
                return 0
            window = segment(first_change - 1, min(total, first_change + F))
            step = np.abs(np.diff(window))  # step[k]: into sample first_change + k
            k = int(np.argmax(step > step.max() * SILENT_STEP_RATIO))
            held = first_change >= 2 if k == 0 else step[k - 1] == 0
            return first_change + k - (0 if held else 1)

        try:
            for block in self.stream:
                if not block.size:
                    continue
                block_off = total
                total += block.size
                if trim:
                    step = np.abs(np.diff(block, prepend=previous if block_off else block[0]))
                    previous = block[-1]
                    if not step.any():  # the same sample again: implied by the last piece
                        if not kept:
                            kept.append((0, block[:1]))
                        continue
                    changes = np.flatnonzero(step)
                    if first_change is None:
                        first_change = block_off + int(changes[0])
                    last_change = block_off + int(changes[-1])
                    largest = np.maximum(np.maximum.accumulate(step), largest_step)
                    largest_step = largest[-1]
                    steps = np.flatnonzero(step > largest * SILENT_STEP_RATIO)
                    if steps.size:
                        audible = block_off + int(steps[-1])
                    # Frames reach no further than the last audible step: what follows may be trailing
                    # silence. Past MAX_QUIET_S of it they go on, so memory stays bounded.
                    end = max(audible, total - max_quiet)
                else:
                    end = total
                kept.append((block_off, block))
                if origin is None and first_change is not None and total >= first_change + F:
                    origin = next_start = start_of_sound()
                if origin is not None and total >= self._min_samples:  # nothing is emitted before the file is known long enough
                    while next_start + F <= end:
                        yield self._emit(next_start, segment(next_start, next_start + F))
                        last_end = next_start + F
                        next_start += H
                if origin is None:  # where the sound starts is still open: keep all from before the first change
                    keep_from = max(0, (first_change or 1) - 1)
                else:  # what the next grid frame needs, and always the last F samples for the tail frame
                    keep_from = max(origin, min(next_start, end - F))
                kept = [(keep_from, segment(keep_from, total))]
            check_duration(self.stream.path, total, sr, self.min_s)
            if origin is None:
                origin = start_of_sound()
            end = total
            if trim:
                # The last audible sample ends the recording, unless that step went into a final run
                # of equal samples (digital silence appended): then the sample before it does.
                end = audible if audible == last_change and total - last_change >= 2 else audible + 1
            if not last_end and end - origin < F:  # shorter than one frame: a frame from its start, padded
                yield self._emit(origin, segment(origin, origin + F), pad=max(0, origin + F - total))
            elif last_end < end:
                yield self._emit(end - F, segment(end - F, end))
        finally:
            if self._owns:
                self.stream.close()


class ArrayStream:
    """An in-memory mono signal already at the model's rate, framed like a file (`Scorer.score(x, sr)`)."""

    def __init__(self, x: np.ndarray, sr: int, name: str = "array", level: Level | None = None) -> None:
        self.path = name
        self.level = level
        """The level of the array as given (before resampling), measured by the caller."""
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
    measure_level: bool = False,
    trim_silence: bool = False,
) -> FrameIterator:
    """Sliding `frame_s` windows every `hop_s` over a file or an open stream, in constant memory.

    Given a path, the file is opened here (AudioError at once if unreadable) and closed when the
    frames run out; given an AudioStream, `sr` must match it and `channel` must be None.
    `measure_level` meters a file as it is decoded (`FrameIterator.stats.level`); `trim_silence`
    lays the frames over the recording without the silence before and after it.
    """
    if isinstance(stream_or_path, (AudioStream, ArrayStream)):
        stream = stream_or_path
        if stream.sr != sr:
            raise ValueError(f"{stream.path}: stream is at {stream.sr} Hz but sr={sr} was asked for")
        if channel is not None:
            raise ValueError(f"{stream.path}: pick the channel when opening the stream, not in iter_frames")
        return FrameIterator(stream, frame_s, hop_s, min_s, owns_stream=False, trim_silence=trim_silence)  # type: ignore[arg-type]
    stream = open_stream(stream_or_path, sr=sr, channel=channel, block_s=block_s, measure_level=measure_level)
    try:
        return FrameIterator(stream, frame_s, hop_s, min_s, owns_stream=True, trim_silence=trim_silence)
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

