"""The one decoder (`sesqa.audio`): offsets and limits on both backends, and `load`/`info` built on it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.audio import AudioError, info, load, open_stream

from .helpers import SR, speech_like


def _read(path: Path, **kwargs: object) -> np.ndarray:
    with open_stream(path, **kwargs) as stream:  # type: ignore[arg-type]
        return np.concatenate(list(stream))


def _stereo(path: Path, sr: int = 44_100, seconds: float = 3.0, subtype: str = "FLOAT") -> tuple[Path, np.ndarray]:
    x = np.stack([speech_like(seconds, sr, seed=3), 0.5 * speech_like(seconds, sr, seed=4)], axis=1)
    sf.write(str(path), x, sr, subtype=subtype)
    return path, x


def test_offset_and_limit_agree_on_both_backends(tmp_path: Path) -> None:
    path, x = _stereo(tmp_path / "x.wav")
    mono = x.mean(axis=1, dtype=np.float32)
    start, n = round(0.7 * 44_100), round(1.3 * 44_100)
    for backend in ("soundfile", "pyav"):  # libsndfile seeks; PyAV decodes up to the offset and drops it
        got = _read(path, sr=None, backend=backend, offset_s=0.7, limit_s=1.3, block_s=0.25)
        np.testing.assert_allclose(got, mono[start : start + n], atol=1e-6, err_msg=backend)
        whole = _read(path, sr=None, backend=backend)
        np.testing.assert_allclose(whole, mono, atol=1e-6, err_msg=backend)
    np.testing.assert_array_equal(load(path, 44_100, 0.7, 1.3), _read(path, sr=None, offset_s=0.7, limit_s=1.3))


def test_load_is_the_stream_resampled(tmp_path: Path) -> None:
    path, _ = _stereo(tmp_path / "x.flac", subtype="PCM_24")
    np.testing.assert_array_equal(load(path, SR), _read(path, sr=SR))
    np.testing.assert_array_equal(load(path, 16_000, 1.0, 1.5), _read(path, sr=16_000, offset_s=1.0, limit_s=1.5))
    assert load(path, SR, 1.0, 1.5).size == round(1.5 * SR)


def test_pyav_formats_read_the_same_through_load_info_and_frames(tmp_path: Path) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    wav, _ = _stereo(tmp_path / "x.wav", sr=16_000, seconds=2.5)
    m4a = tmp_path / "x.m4a"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(wav), "-c:a", "aac", "-b:a", "64k", str(m4a)],
        check=True,
    )
    i = info(m4a)
    assert (i.sample_rate, i.channels) == (16_000, 2)
    assert i.duration_s == pytest.approx(2.5, abs=1e-3)  # the encoder's padding is trimmed, as in scoring
    y = load(m4a, SR)
    np.testing.assert_array_equal(y, _read(m4a, sr=SR))
    assert y.size == pytest.approx(2.5 * SR, abs=2)
    part = load(m4a, SR, 1.0, 0.5)
    assert part.size == SR // 2
    np.testing.assert_allclose(part, _read(m4a, sr=SR, offset_s=1.0, limit_s=0.5), atol=1e-6)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    path, _ = _stereo(tmp_path / "short.wav", seconds=1.0)
    with pytest.raises(AudioError, match=r"short\.wav: no audio frames at offset 2\.000 s"):
        load(path, SR, offset_s=2.0)
    with pytest.raises(AudioError, match=r"gone\.wav: no such file"):
        load(tmp_path / "gone.wav")
    with pytest.raises(AudioError, match=r"gone\.wav: no such file"):
        info(tmp_path / "gone.wav")
    nan = np.zeros(SR, dtype=np.float32)
    nan[SR // 2] = np.nan
    sf.write(str(tmp_path / "nan.wav"), nan, SR, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav: NaN or infinite sample at 0\.500 s"):
        load(tmp_path / "nan.wav")
    with pytest.raises(AudioError, match=r"nan\.wav: NaN or infinite sample at 0\.500 s"):
        load(tmp_path / "nan.wav", SR, offset_s=0.25)  # the time is in the file, not in the segment
    with pytest.raises(ValueError, match="offset_s"):
        load(path, SR, offset_s=-1.0)
    with pytest.raises(ValueError, match="limit_s"):
        open_stream(path, limit_s=-0.5)
