"""Audio I/O shared by every part of sesqa: any file -> mono float32 at a chosen rate.

soundfile (libsndfile) reads wav/flac/ogg/mp3 and can seek, so a segment of a long file is
read without decoding the rest; anything else (m4a, wma, ...) is decoded with PyAV in-process.
Resampling uses soxr at high quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SAMPLE_RATE = 48_000


class AudioError(Exception):
    """A file could not be read as audio; the message names the file and the problem."""


@dataclass(frozen=True)
class AudioInfo:
    """What the corpus index needs to know about a file without decoding it."""

    duration_s: float
    sample_rate: int
    channels: int


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a mono signal with soxr (VHQ); returns float32."""
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    y = soxr.resample(np.asarray(x, dtype=np.float32), sr_in, sr_out, quality="VHQ")
    return np.asarray(y, dtype=np.float32)


def _to_mono(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=1) if x.ndim == 2 else x


def info(path: str | Path) -> AudioInfo:
    """Duration, rate and channels of a file; raises AudioError if it is not readable audio."""
    path = Path(path)
    try:
        i = sf.info(str(path))
        if i.frames <= 0 or i.samplerate <= 0:
            raise AudioError(f"{path}: no audio frames")
        return AudioInfo(i.frames / i.samplerate, int(i.samplerate), int(i.channels))
    except sf.LibsndfileError:
        pass
    except RuntimeError:
        pass
    x, sr = _decode_pyav(path)
    return AudioInfo(len(x) / sr, sr, 1)


def _decode_pyav(path: Path) -> tuple[np.ndarray, int]:
    """Decode a whole file with PyAV to mono float32 at its own rate."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            sr = stream.codec_context.sample_rate or stream.rate
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise AudioError(f"{path}: not readable as audio ({e})") from e
    if not chunks or not sr:
        raise AudioError(f"{path}: no audio frames")
    return np.concatenate(chunks).astype(np.float32), int(sr)


def load(
    path: str | Path,
    sr: int = SAMPLE_RATE,
    offset_s: float = 0.0,
    duration_s: float | None = None,
) -> np.ndarray:
    """Read `duration_s` seconds from `offset_s` of any audio file as mono float32 at `sr`.

    Raises AudioError naming the file when it cannot be read, is empty or holds NaN/inf.
    """
    path = Path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            native_sr = f.samplerate
            start = int(round(offset_s * native_sr))
            if start:
                f.seek(min(start, f.frames))
            n = -1 if duration_s is None else int(round(duration_s * native_sr))
            x = f.read(frames=n, dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError):
        full, native_sr = _decode_pyav(path)
        start = int(round(offset_s * native_sr))
        stop = None if duration_s is None else start + int(round(duration_s * native_sr))
        x = full[start:stop]
    x = _to_mono(np.asarray(x, dtype=np.float32))
    if x.size == 0:
        raise AudioError(f"{path}: no audio frames at offset {offset_s:.3f} s")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"{path}: contains NaN or infinite samples")
    return resample(x, native_sr, sr)
