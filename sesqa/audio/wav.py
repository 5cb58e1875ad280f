"""What the decoders do not say about a WAV file: that its header promises more audio than it holds.

libsndfile and FFmpeg both decode a cut-short WAV (a copy or download interrupted, a disk that
filled) as far as it goes and report no error, so it would be scored or trained on as if whole.
The RIFF header's `data` chunk size against the bytes after it tells; `wav_truncation` reads the
chunk headers only (a few small reads, whatever the file's size).
"""

from __future__ import annotations

import struct
from pathlib import Path

UNKNOWN_DATA_SIZES: frozenset[int] = frozenset({0, 0xFFFFFFFF})
"""`data` chunk sizes that mean "not filled in" (streaming writers, RF64): nothing to check."""


def wav_truncation(path: str | Path) -> str | None:
    """"truncated: ..." when `path` is a RIFF/WAVE file whose `data` chunk claims more than the file
    holds (the header's length and the length found, in samples per channel and seconds), else None.

    Any other file, and any WAV this cannot parse, gives None: the decoder has the last word.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with p.open("rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            sr = block_align = 0
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                chunk, length = struct.unpack("<4sI", f.read(8))
                if chunk == b"fmt ":
                    fmt = f.read(16)
                    if len(fmt) == 16:
                        sr, block_align = struct.unpack("<4xI4xH2x", fmt)
                elif chunk == b"data":
                    held = size - pos - 8
                    if length in UNKNOWN_DATA_SIZES or held >= length or sr <= 0 or block_align <= 0:
                        return None
                    said, found = length // block_align, held // block_align
                    return (
                        f"truncated: the header says {said} samples ({said / sr:.3f} s), the file holds "
                        f"{found} ({found / sr:.3f} s); read as far as it goes"
                    )
                pos += 8 + length + (length & 1)  # chunks are padded to an even length
    except (OSError, struct.error):
        return None
    return None
