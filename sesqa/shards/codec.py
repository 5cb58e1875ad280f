"""Lossless audio coding of shard members: 16-bit FLAC with a stored gain."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

_FULL_SCALE = 32767.0


def gain_for(x: np.ndarray) -> float:
    """The gain that brings x within [-1, 1]: 1, or its peak when degradation pushed it above."""
    return max(1.0, float(np.max(np.abs(x)))) if x.size else 1.0


def encode_flac(x: np.ndarray, sr: int, gain: float) -> bytes:
    """x / gain as 16-bit FLAC bytes."""
    pcm = np.clip(np.round(x.astype(np.float64) / gain * _FULL_SCALE), -32768, 32767).astype(np.int16)
    buf = io.BytesIO()
    sf.write(buf, pcm, sr, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def decode_flac(data: bytes, gain: float) -> tuple[np.ndarray, int]:
    """Inverse of encode_flac: float32 samples and their rate."""
    pcm, sr = sf.read(io.BytesIO(data), dtype="int16")
    return (pcm.astype(np.float32) * np.float32(gain / _FULL_SCALE)), int(sr)
