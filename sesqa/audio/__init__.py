"""Audio I/O shared by every part of sesqa: any file -> mono float32 at a chosen rate.

One decoder (`stream.AudioStream`) reads every file: soundfile (libsndfile) for wav/flac/ogg/mp3,
which can seek, so a segment of a long file is read without decoding the rest; PyAV in-process
for anything else (m4a, wma, ...). Channels are averaged (or one is picked), samples are checked
for NaN/inf, and soxr resamples at high quality. `load` and `info` are built on it, and so are the
scorer's frames and the sweep. `level` meters loudness (BS.1770), peak, DC and clipping.
`check_duration` is the one minimum-length rule (`MIN_DURATION_S`) for scoring and training, and a
WAV cut short is flagged in the stream's `warnings` (`wav`).
"""

from .base import (
    MIN_DURATION_S,
    MIN_SLACK_S,
    SAMPLE_RATE,
    AudioError,
    AudioInfo,
    ChannelError,
    check_duration,
    min_samples,
    resample,
)
from .level import Level, LevelMeter, measure_level
from .read import info, load
from .stream import DEFAULT_BLOCK_S, AudioStream, Backend, open_stream

__all__ = [
    "DEFAULT_BLOCK_S",
    "MIN_DURATION_S",
    "MIN_SLACK_S",
    "SAMPLE_RATE",
    "AudioError",
    "AudioInfo",
    "AudioStream",
    "Backend",
    "ChannelError",
    "check_duration",
    "Level",
    "LevelMeter",
    "info",
    "load",
    "measure_level",
    "min_samples",
    "open_stream",
    "resample",
]
