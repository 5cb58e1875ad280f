"""Streaming input for `sesqa score`: decoding, framing policy, bad input, constant memory, path expansion."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from sesqa.audio import AudioError, AudioStream, open_stream
from sesqa.scoring.frames import Frame, batched, iter_frames
from sesqa.scoring.paths import AUDIO_EXTENSIONS, find_audio

from .helpers import SR, speech_like

REPO = Path(__file__).resolve().parents[1]


def _ffmpeg(*args: str) -> None:
    """Run the imageio-ffmpeg binary (never a system ffmpeg)."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


def _write(path: Path, x: np.ndarray, sr: int, subtype: str = "PCM_24") -> Path:
    sf.write(str(path), x, sr, subtype=subtype)
    return path


# --- resampling and framing -------------------------------------------------------------------


def test_streamed_resampling_matches_one_shot(tmp_path: Path) -> None:
    sr_in = 44_100
    x = np.concatenate([speech_like(2.0, sr_in, seed=1), 0.3 * speech_like(1.7, sr_in, seed=2)])
    path = _write(tmp_path / "x.wav", x, sr_in, subtype="FLOAT")
    with open_stream(path, sr=SR, block_s=0.123) as stream:  # many block boundaries, odd lengths
        assert (stream.native_sr, stream.channels, stream.backend) == (sr_in, 1, "soundfile")
        assert stream.duration_s == pytest.approx(len(x) / sr_in)
        blocks = list(stream)
    assert len(blocks) > 20
    y = np.concatenate(blocks)
    ref = soxr.resample(x, sr_in, SR, quality="VHQ")
    assert y.dtype == np.float32
    assert len(y) == len(ref)
    inner = slice(SR // 10, -SR // 10)
    np.testing.assert_allclose(y[inner], ref[inner], atol=1e-5)
    assert np.max(np.abs(y - ref)) < 1e-3  # the ends too


def test_block_size_does_not_change_frames(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.wav", speech_like(4.3, 16_000), 16_000)
    a = list(iter_frames(path, block_s=0.07))
    b = list(iter_frames(path, block_s=60.0))
    assert [f.start_s for f in a] == [f.start_s for f in b]
    for fa, fb in zip(a, b, strict=True):
        np.testing.assert_allclose(fa.samples, fb.samples, atol=1e-6)


@pytest.mark.parametrize(
    ("seconds", "starts"),
    [
        (0.5, [0.0]),
        (1.0, [0.0]),
        (1.3, [0.0, 0.3]),
        (1.5, [0.0, 0.5]),
        (10.0, [0.5 * k for k in range(19)]),
    ],
)
def test_frame_starts_and_tail(tmp_path: Path, seconds: float, starts: list[float]) -> None:
    x = speech_like(seconds, SR, seed=3)
    path = _write(tmp_path / "x.wav", x, SR, subtype="FLOAT")  # native rate: frames are exact copies
    frames = iter_frames(path, frame_s=1.0, hop_s=0.5, block_s=0.37)
    out = list(frames)
    assert [f.start_s for f in out] == pytest.approx(starts)
    for f in out:
        assert f.samples.shape == (SR,) and f.samples.dtype == np.float32
        i = round(f.start_s * SR)
        valid = SR - f.pad
        np.testing.assert_array_equal(f.samples[:valid], x[i : i + valid])
        assert not np.any(f.samples[valid:])
    last = out[-1]
    assert round(last.start_s * SR) + SR - last.pad == len(x)  # the last frame ends at the end of the file
    assert out[0].pad == max(0, SR - len(x))
    stats = frames.stats
    assert stats.complete and stats.n_frames == len(starts)
    assert stats.duration_s == pytest.approx(seconds)
    assert not stats.all_zero and stats.peak == pytest.approx(1.0)


def test_hop_one_second_and_stats_while_running(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.wav", speech_like(5.25, 16_000), 16_000)
    frames = iter_frames(path, hop_s=1.0, block_s=1.0)
    first = next(frames)
    assert first.start_s == 0.0 and not frames.stats.complete
    rest = list(frames)
    assert [f.start_s for f in rest] == pytest.approx([1.0, 2.0, 3.0, 4.0, 4.25])
    assert frames.stats.complete and frames.stats.n_frames == 6


def test_batched(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.wav", speech_like(10.0), SR)
    frames = list(iter_frames(path, hop_s=0.5))
    batches = list(batched(iter(frames), 8))
    assert [b.shape for _, b in batches] == [(8, SR), (8, SR), (3, SR)]
    starts = np.concatenate([s for s, _ in batches])
    np.testing.assert_allclose(starts, [f.start_s for f in frames])
    np.testing.assert_array_equal(batches[1][1][2], frames[10].samples)
    assert batches[0][1].dtype == np.float32
    with pytest.raises(ValueError, match="batch_size"):
        list(batched(frames, 0))


def test_argument_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.wav", speech_like(2.0), SR)
    with pytest.raises(ValueError, match="unscored"):
        iter_frames(path, frame_s=1.0, hop_s=1.5)
    stream = open_stream(path)
    assert isinstance(stream, AudioStream)
    with pytest.raises(ValueError, match="16000"):
        iter_frames(stream, sr=16_000)
    list(stream)
    with pytest.raises(ValueError, match="only once"):
        list(stream)


# --- formats, rates, channels -------------------------------------------------------------------


def test_8k_stereo_mp3_and_48k_mono_wav_of_same_content(tmp_path: Path) -> None:
    x = 0.5 * speech_like(3.0, SR, seed=4)
    wav = _write(tmp_path / "speech.wav", x, SR)
    stereo = _write(tmp_path / "stereo.wav", np.stack([x, x], axis=1), SR)
    mp3 = tmp_path / "speech.mp3"
    _ffmpeg("-i", str(stereo), "-ar", "8000", "-c:a", "libmp3lame", "-b:a", "64k", str(mp3))

    with open_stream(mp3) as s:
        assert (s.native_sr, s.channels) == (8000, 2)
    ref = list(iter_frames(wav))
    # libsndfile reads mp3 here; PyAV must read it the same way
    for backend in ("soundfile", "pyav"):
        stream = open_stream(mp3, backend=backend)
        assert stream.backend == backend
        got = list(iter_frames(stream))
        assert [f.start_s for f in got] == [f.start_s for f in ref] == [0.0, 1.0, 2.0]
        for fr, fg in zip(ref, got, strict=True):
            low = soxr.resample(soxr.resample(fr.samples, SR, 8000, "VHQ"), 8000, SR, "VHQ")  # mp3's band
            inner = slice(2000, -2000)
            assert np.corrcoef(low[inner], fg.samples[inner])[0, 1] > 0.95
            level_db = 20 * np.log10(np.std(fg.samples) / np.std(low))
            assert abs(level_db) < 1.5


def test_channel_selection(tmp_path: Path) -> None:
    left = 0.5 * np.sin(2 * np.pi * 300 * np.arange(2 * SR) / SR).astype(np.float32)
    right = 0.5 * speech_like(2.0, SR, seed=5)
    path = _write(tmp_path / "lr.wav", np.stack([left, right], axis=1), SR, subtype="FLOAT")
    for backend in ("soundfile", "pyav"):  # the two decoders lay channels out differently
        first = {ch: next(iter_frames(open_stream(path, channel=ch, backend=backend))).samples for ch in (0, 1, None)}
        np.testing.assert_array_equal(first[1], right[:SR])
        np.testing.assert_array_equal(first[0], left[:SR])
        np.testing.assert_allclose(first[None], (left[:SR] + right[:SR]) / 2, atol=1e-7)
    with pytest.raises(ValueError, match=r"lr\.wav.*channel 2.*2 channels") as err:
        open_stream(path, channel=2)
    assert isinstance(err.value, AudioError)  # a batch catching AudioError per file goes on


def test_m4a_streams_with_pyav(tmp_path: Path) -> None:
    x = 0.5 * speech_like(2.5, SR, seed=6)
    wav = _write(tmp_path / "speech.wav", x, SR)
    m4a = tmp_path / "speech.m4a"
    _ffmpeg("-i", str(wav), "-ar", "16000", "-ac", "2", "-c:a", "aac", "-b:a", "96k", str(m4a))
    stream = open_stream(m4a, block_s=0.5)
    assert stream.backend == "pyav"
    assert (stream.native_sr, stream.channels) == (16_000, 2)
    assert stream.duration_s == pytest.approx(2.5, abs=0.05)
    blocks = list(stream)
    assert len(blocks) >= 4 and max(len(b) for b in blocks) < 0.8 * SR  # decoded incrementally
    frames = iter_frames(m4a, hop_s=0.5)
    got = list(frames)
    assert [f.start_s for f in got][:4] == [0.0, 0.5, 1.0, 1.5]
    assert got[-1].start_s == pytest.approx(frames.stats.duration_s - 1.0)
    assert frames.stats.duration_s == pytest.approx(2.5, abs=1e-3)  # encoder padding trimmed
    ref = next(iter_frames(wav)).samples
    low = soxr.resample(soxr.resample(ref, SR, 16_000, "VHQ"), 16_000, SR, "VHQ")
    corr = np.corrcoef(low[2000:-2000], got[0].samples[2000:-2000])[0, 1]
    assert corr > 0.9


# --- bad input ------------------------------------------------------------------------------------


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, regex the AudioError message must match)."""
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    text = tmp / "notes.wav"
    text.write_text("this is not audio\n" * 50)
    headers_only = _write(tmp / "noframes.wav", np.zeros(0, dtype=np.float32), SR)
    short = _write(tmp / "short.wav", speech_like(0.1, 16_000), 16_000)
    nan = speech_like(2.0, SR)
    nan[SR + 10] = np.nan
    nan_path = _write(tmp / "nan.wav", nan, SR, subtype="FLOAT")
    inf = speech_like(1.0, SR)
    inf[5] = np.inf
    inf_path = _write(tmp / "inf.wav", inf, SR, subtype="FLOAT")
    return {
        "empty": (empty, r"empty\.wav: empty file"),
        "text": (text, r"notes\.wav: not readable as audio"),
        "no frames": (headers_only, r"noframes\.wav: no audio samples"),
        "short": (short, r"short\.wav: 0\.10 s is shorter than the 0\.5 s minimum"),
        "nan": (nan_path, r"nan\.wav: NaN or infinite sample at 1\.000 s"),
        "inf": (inf_path, r"inf\.wav: NaN or infinite sample"),
    }


def test_bad_input_raises_audio_error_naming_the_file(tmp_path: Path) -> None:
    for path, pattern in _bad_files(tmp_path).values():
        with pytest.raises(AudioError, match=pattern):
            list(iter_frames(path))


def test_batch_goes_on_past_bad_files(tmp_path: Path) -> None:
    bad = _bad_files(tmp_path)
    good = _write(tmp_path / "good.wav", speech_like(2.0), SR)
    silent = _write(tmp_path / "silent.wav", np.zeros(SR * 3 // 2, dtype=np.float32), SR)
    paths = [bad["empty"][0], good, bad["text"][0], bad["short"][0], silent, bad["nan"][0], tmp_path / "gone.wav"]
    scored: dict[str, int] = {}
    errors: dict[str, str] = {}
    silent_files = []
    for p in paths:
        try:
            frames = iter_frames(p, hop_s=0.5)
            scored[p.name] = sum(len(b) for _, b in batched(frames, 4))
        except AudioError as e:
            errors[p.name] = str(e)
            continue
        if frames.stats.all_zero:
            silent_files.append(p.name)
    assert scored == {"good.wav": 3, "silent.wav": 2}
    assert silent_files == ["silent.wav"]
    assert set(errors) == {"empty.wav", "notes.wav", "short.wav", "nan.wav", "gone.wav"}
    assert all(name in msg for name, msg in errors.items())


def test_all_zero_is_flagged_not_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "zeros.wav", np.zeros(int(2.2 * 8000), dtype=np.float32), 8000, subtype="PCM_16")
    frames = iter_frames(path, hop_s=0.5)
    out = list(frames)
    assert len(out) == 4 and all(not f.samples.any() for f in out)
    assert frames.stats.all_zero and frames.stats.peak == 0.0
    assert frames.stats.duration_s == pytest.approx(2.2)


# --- constant memory on a 2 h file --------------------------------------------------------------

_RSS_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import av, numpy, soundfile, soxr
    from sesqa.audio import open_stream
    from sesqa.scoring.frames import iter_frames

    def peak_mb():
        # VmHWM, not ru_maxrss: a child started from a large parent inherits the parent's ru_maxrss
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024

    path = sys.argv[1]
    base = peak_mb()
    out = {"baseline_mb": base}
    if path == "--control":
        # the measure does see a 256 MiB allocation (what the bound is meant to catch); in its
        # own process, so that the streaming peaks cannot mask it
        block = numpy.ones(64 * 2**20, dtype=numpy.float32)
        print(json.dumps({"control_mb": peak_mb() - base}))
        sys.exit(0)
    for backend in ("soundfile", "pyav"):
        t0 = time.perf_counter()
        frames = iter_frames(open_stream(path, sr=48000, backend=backend), hop_s=1.0)
        n = 0
        for f in frames:
            n += 1
        out[backend] = {"frames": n, "seconds": time.perf_counter() - t0,
                        "duration_s": frames.stats.duration_s, "last_start": f.start_s,
                        "peak_above_baseline_mb": peak_mb() - base}
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_two_hour_file_streams_in_constant_memory(tmp_path: Path) -> None:
    sr, minutes = 16_000, 120
    rng = np.random.default_rng(7)
    minute = (0.1 * rng.standard_normal(60 * sr)).astype(np.float32)
    path = tmp_path / "long.wav"
    with sf.SoundFile(str(path), "w", sr, 1, subtype="PCM_16") as f:  # written a minute at a time
        for _ in range(minutes):
            f.write(minute)
    assert path.stat().st_size > 200e6

    proc = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result))  # visible with pytest -s
    whole_file_mb = 2 * 3600 * 48_000 * 4 / 2**20  # 1318 MiB: one float32 copy at 48 kHz
    for backend in ("soundfile", "pyav"):
        r = result[backend]
        assert r["frames"] == 7200 and r["last_start"] == 7199.0
        assert r["duration_s"] == pytest.approx(7200.0)
        # both passes share one process, so the peak after the second covers both
        assert r["peak_above_baseline_mb"] < 200 < whole_file_mb, result
    control = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, "--control"], capture_output=True, text=True, cwd=REPO, timeout=60, check=True)
    assert json.loads(control.stdout.strip().splitlines()[-1])["control_mb"] > 128


# --- find_audio -----------------------------------------------------------------------------------


def test_find_audio(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a").mkdir()
    for rel in ["b/deep/z.FLAC", "a/y.wav", "a/x.Mp3", "top.m4a", "b/notes.txt", "b/cover.jpg", "a/._y.wav"]:
        (root / rel).write_bytes(b"x")
    files, problems = find_audio([root])
    assert [p.relative_to(root).as_posix() for p in files] == ["top.m4a", "a/x.Mp3", "a/y.wav", "b/deep/z.FLAC"]
    assert problems == []

    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "direct.ogg").write_bytes(b"x")
    (lists / "named.dat").write_bytes(b"x")  # named explicitly: taken whatever the extension
    lst = lists / "batch.lst"
    lst.write_text(
        "# evaluation batch\n"
        "\n"
        "direct.ogg\n"
        "  ../corpus/a  \n"
        "named.dat\n"
        "missing.wav\n"
        f"{root / 'top.m4a'}\n"
        "# ../corpus/b is not included\n"
    )
    files, problems = find_audio([str(lst), tmp_path / "nowhere", root / "a" / "y.wav"])
    # list entries are relative to the list's folder, normalised ("lists/../corpus" -> "corpus")
    assert files == [
        lists / "direct.ogg",
        root / "a" / "x.Mp3",
        root / "a" / "y.wav",
        lists / "named.dat",
        root / "top.m4a",
    ]
    assert [p for p, _ in problems] == [str(lists / "missing.wav"), str(tmp_path / "nowhere")]
    assert "batch.lst:6" in problems[0][1] and "no such file" in problems[0][1]
    assert "no such file" in problems[1][1]

    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    files, problems = find_audio([empty_dir])
    assert files == [] and "no audio" in problems[0][1]
    assert {"wav", "flac", "mp3", "m4a", "opus", "amr", "3gp", "caf"} <= AUDIO_EXTENSIONS


def test_public_types() -> None:
    f = Frame(0.5, np.zeros(4, dtype=np.float32))
    assert f.pad == 0
    with pytest.raises(AttributeError):
        f.start_s = 1.0  # type: ignore[misc]
