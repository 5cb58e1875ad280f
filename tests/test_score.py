"""`sesqa score` and `sesqa compare`: API, CLI and directory agree; formats; bad input; exit codes;
a 2 h file in constant memory; CLI start-up without torch; the reference-based mode (appendix A)."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.model import SesqaModel, save_checkpoint
from sesqa.scoring.compare import compare
from sesqa.scoring.frames import ArrayStream, FrameIterator
from sesqa.scoring.output import CSV_COLUMNS, EmbeddingWriter
from sesqa.scoring.scorer import FileError, Scorer, ScoreResult

from .helpers import BETA, METRICS, SR, STATS, TYPES, run_cli, speech_like, tiny_config, warmed_up

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scorer(ckpt: Path) -> Scorer:
    return Scorer.from_checkpoint(ckpt)


def _wav(path: Path, x: np.ndarray, sr: int = SR, subtype: str = "PCM_24") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype=subtype)
    return path


def _ffmpeg(*args: str) -> None:
    """Run the imageio-ffmpeg binary (never a system ffmpeg)."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        return list(reader)


# --- same number through the API, the CLI, a directory and a list --------------------------------


def test_cli_api_directory_and_list_give_the_same_score(tmp_path: Path, ckpt: Path, scorer: Scorer) -> None:
    path = _wav(tmp_path / "corpus" / "sub" / "utt.wav", 0.5 * speech_like(3.2, seed=3))
    _wav(tmp_path / "corpus" / "other.flac", 0.2 * speech_like(2.0, seed=4), subtype="PCM_16")
    listing = tmp_path / "files.txt"
    listing.write_text("# one file\ncorpus/sub/utt.wav\n")

    api = scorer.score(path)
    assert isinstance(api, ScoreResult) and 1.0 <= api.score <= 5.0
    from sesqa import Scorer as TopLevelScorer  # the documented entry point

    assert TopLevelScorer.from_checkpoint(ckpt).score(str(path)).score == pytest.approx(api.score, abs=1e-6)
    x, sr = sf.read(str(path), dtype="float32")
    assert scorer.score(x, sr=sr).score == pytest.approx(api.score, abs=1e-6)

    one = run_cli("score", path, "--model", ckpt, "--json", tmp_path / "one.json", "--csv", tmp_path / "one.csv")
    assert one.exit_code == 0, one.output
    by_dir = run_cli("score", tmp_path / "corpus", "--model", ckpt, "--json", tmp_path / "dir.json")
    by_list = run_cli("score", listing, "--model", ckpt, "--csv", tmp_path / "list.csv")
    assert by_dir.exit_code == by_list.exit_code == 0

    from_json = json.loads((tmp_path / "one.json").read_text())[0]["score"]
    from_csv = float(read_csv(tmp_path / "one.csv")[0]["score"])
    in_dir = {Path(e["path"]).name: e["score"] for e in json.loads((tmp_path / "dir.json").read_text())}
    assert set(in_dir) == {"utt.wav", "other.flac"}
    from_list = float(read_csv(tmp_path / "list.csv")[0]["score"])
    for value in (from_json, from_csv, in_dir["utt.wav"], from_list):
        assert value == pytest.approx(api.score, abs=1e-6)
    assert f"{api.score:.2f}" in one.stdout  # the table
    assert "1/1" not in one.stderr and "2/2" in by_dir.stderr  # a progress bar only for several files
    assert in_dir["other.flac"] != pytest.approx(api.score, abs=1e-3)  # the model does tell inputs apart


# --- output content -------------------------------------------------------------------------------


def test_csv_json_and_embeddings_content(tmp_path: Path, ckpt: Path, scorer: Scorer) -> None:
    a = _wav(tmp_path / "a" / "take.wav", 0.5 * speech_like(2.6, seed=5))
    b = _wav(tmp_path / "b" / "take.wav", 0.3 * speech_like(1.4, seed=6))  # same stem: names must not collide
    emb = tmp_path / "emb"
    res = run_cli("score", a, b, "--model", ckpt, "--csv", tmp_path / "s.csv", "--json", tmp_path / "s.json", "--embeddings", emb, "--quiet")
    assert res.exit_code == 0 and res.stdout == ""  # --quiet: no table

    rows = read_csv(tmp_path / "s.csv")
    assert [r["path"] for r in rows] == [str(a), str(b)]
    ra = rows[0]
    assert ra["error"] == "" and ra["top_degradation"] in TYPES[1:]
    assert float(ra["duration_s"]) == pytest.approx(2.6)
    assert 0 <= float(ra["clean_probability"]) <= 1 and 0 <= float(ra["top_probability"]) <= 1

    items = json.loads((tmp_path / "s.json").read_text())
    ja = items[0]
    assert ja["path"] == str(a) and ja["duration_s"] == pytest.approx(2.6)
    assert [f["start_s"] for f in ja["frames"]] == [0.0, 1.0, 1.6]  # hop 1 s, then a tail frame to the end
    assert ja["n_frames"] == len(ja["frames"])
    assert all(1 <= f["score"] <= 5 and isinstance(f["speech"], bool) for f in ja["frames"])
    speech = [f["score"] for f in ja["frames"] if f["speech"]]
    assert ja["score"] == pytest.approx(np.mean(speech), abs=1e-6)  # mean over speech frames
    assert [d["type"] for d in ja["degradations"]] and all(set(d) == {"type", "probability", "strength"} for d in ja["degradations"])
    assert "clean" not in [d["type"] for d in ja["degradations"]]

    paths = [Path(i["embeddings"]) for i in items]
    assert [p.name for p in paths] == ["take.npy", "take-1.npy"]
    z = np.load(paths[0])
    api = scorer.score(a, embeddings=True)
    assert z.shape == (api.frame_scores.size, 8) and z.dtype == np.float32
    np.testing.assert_allclose(z, api.embeddings, atol=1e-6)
    assert not list(emb.glob(".*.tmp"))


def test_frame_starts_include_the_tail(tmp_path: Path, scorer: Scorer) -> None:
    r = scorer.score(_wav(tmp_path / "x.wav", 0.5 * speech_like(2.6, seed=5)))
    np.testing.assert_allclose(r.frame_starts_s, [0.0, 1.0, 1.6])
    assert r.to_json()["frames"][-1]["start_s"] == 1.6


class _Blocks(ArrayStream):
    """An in-memory stream decoded in blocks of `size` samples, as a file is."""

    def __init__(self, x: np.ndarray, size: int) -> None:
        super().__init__(x, SR)
        self.size = size

    def __iter__(self):
        for i in range(0, self.samples.size, self.size):
            yield self.samples[i : i + self.size]


def _framed(x: np.ndarray, block: int, trim: bool) -> list[tuple[float, np.ndarray]]:
    frames = FrameIterator(_Blocks(x, block), 1.0, 1.0, 0.5, owns_stream=False, trim_silence=trim)
    return [(f.start_s, f.samples) for f in frames]


@pytest.mark.parametrize("block", [777, 4_800, 48_000, 500_000])
def test_silence_around_a_recording_is_left_out_of_the_frames_whatever_the_blocks(block: int) -> None:
    x = 0.5 * speech_like(2.6, seed=5)
    plain = _framed(x, block, trim=False)
    assert [s for s, _ in plain] == pytest.approx([0.0, 1.0, 1.6])
    for dc in (0.0, 0.01):  # the silence is the file's DC offset, exact zeros before it is added
        shifted = _framed(x + np.float32(dc), block, trim=True)
        assert [s for s, _ in shifted] == [s for s, _ in plain]
        for before, after in ((0, 2), (0, 123_457), (2, 0), (17_761, 0), (50_001, 48_000)):
            padded = np.concatenate([np.zeros(before, np.float32), x, np.zeros(after, np.float32)])
            trimmed = _framed(padded + np.float32(dc), block, trim=True)
            assert [s for s, _ in trimmed] == pytest.approx([s + before / SR for s, _ in plain])
            assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(trimmed, shifted))
    untrimmed = _framed(np.concatenate([x, np.zeros(SR, np.float32)]), block, trim=False)  # compare's grid
    assert [s for s, _ in untrimmed] == pytest.approx([0.0, 1.0, 2.0, 2.6])


def test_a_long_faint_tail_is_framed_in_bounded_memory() -> None:
    """Past MAX_QUIET_S of steps too faint to hear (not digital silence: they must be kept) the
    frames go on, in order, so a long quiet tail is never held whole."""
    from sesqa.scoring import frames as framing

    x = np.concatenate([0.5 * speech_like(0.6, seed=2), 1e-9 * speech_like(framing.MAX_QUIET_S + 5, seed=3)])
    starts = [s for s, _ in _framed(x, 48_000, trim=True)]
    assert starts[0] == 0.0 and np.all(np.diff(starts) > 0)
    assert starts[-1] >= 4.0  # framed before the end, not held until it


def test_json_frames_carry_each_frames_top_three_degradations(tmp_path: Path) -> None:
    # five types besides "clean", so the top 3 is a real cut and "clean" must be left out
    types = ("clean", "additive_noise", "mp3", "hum", "low_pass", "reverb")
    model_path = tmp_path / "five.ckpt"
    save_checkpoint(model_path, warmed_up(tiny_config(degradation_types=types)), metric_stats=STATS)
    path = _wav(tmp_path / "x.wav", 0.5 * speech_like(3.4, seed=7))
    res = run_cli("score", path, "--model", model_path, "--json", tmp_path / "s.json", "--quiet")
    assert res.exit_code == 0, res.output
    item = json.loads((tmp_path / "s.json").read_text())[0]
    api = Scorer.from_checkpoint(model_path).score(path)
    assert api.frame_degradations is not None and api.frame_degradations.shape == (api.frame_scores.size, len(types))
    assert api.degradation_types == types
    assert len(item["frames"]) == api.frame_scores.size == 4
    for frame, probs in zip(item["frames"], api.frame_degradations, strict=True):
        assert set(frame) == {"start_s", "score", "speech", "degradations"}  # the old fields are all still there
        expected = sorted(((p, n) for n, p in zip(types, probs, strict=True) if n != "clean"), reverse=True)[:3]
        assert [d["type"] for d in frame["degradations"]] == [n for _, n in expected]
        assert [d["probability"] for d in frame["degradations"]] == pytest.approx([p for p, _ in expected], abs=1e-4)
    # the file's guesses are the speech-frame means, unchanged by the per-frame ones
    means = api.frame_degradations[api.speech_frames].mean(axis=0)
    assert item["degradations"][0]["probability"] == pytest.approx(max(m for n, m in zip(types, means, strict=True) if n != "clean"), abs=1e-4)
    # an untrained type head gives no per-frame guesses either
    withheld = Scorer(warmed_up(tiny_config(degradation_types=types)), untrained_heads={"dt": "its loss was off"}).score(path)
    assert withheld.frame_degradations is None and withheld.degradations == ()
    assert all(f["degradations"] == [] for f in withheld.to_json()["frames"])


def test_a_type_without_strength_gets_no_strength(tmp_path: Path) -> None:
    """reverse has no strength: its guess's strength is NaN, null in JSON, and absent from the CSV and table."""
    types = ("clean", "additive_noise", "reverse")  # two guesses: both are reported
    path = _wav(tmp_path / "x.wav", 0.5 * speech_like(3.0, seed=8))
    for config in (tiny_config(degradation_types=types, strengthless_types=("reverse",)), tiny_config(degradation_types=types)):  # recorded; old model
        model_path = tmp_path / "rev.ckpt"
        save_checkpoint(model_path, warmed_up(config), metric_stats=STATS)
        result = Scorer.from_checkpoint(model_path).score(path)
        guesses = {d.name: d for d in result.degradations}
        assert set(guesses) == {"additive_noise", "reverse"}
        assert math.isnan(guesses["reverse"].strength) and 0 <= guesses["additive_noise"].strength <= 1
        written = {d["type"]: d for d in result.to_json()["degradations"]}
        assert written["reverse"]["strength"] is None and written["additive_noise"]["strength"] is not None
        res = run_cli("score", path, "--model", model_path, "--json", tmp_path / "s.json", "--csv", tmp_path / "s.csv")
        assert res.exit_code == 0, res.output
        assert not re.search(r"\bnan\b", res.output + (tmp_path / "s.csv").read_text(), re.IGNORECASE)
        text = (tmp_path / "s.json").read_text()
        assert "NaN" not in text and {d["type"]: d["strength"] for d in json.loads(text)[0]["degradations"]}["reverse"] is None
    rated = Scorer(warmed_up(tiny_config(degradation_types=types, strengthless_types=()))).score(path)
    assert all(math.isfinite(d.strength) for d in rated.degradations)  # the model's own list decides


def test_embedding_names_are_collision_safe(tmp_path: Path) -> None:
    w = EmbeddingWriter(tmp_path / "e")
    names = [w.name_for(p).name for p in ("x/a.wav", "y/a.flac", "z/A.wav", "b c.wav", "a-1.wav")]
    assert names == ["a.npy", "a-1.npy", "A-2.npy", "b_c.npy", "a-1-1.npy"]


# --- formats, rates, channels ---------------------------------------------------------------------


def test_8k_stereo_mp3_and_48k_mono_wav_are_both_scored(tmp_path: Path, ckpt: Path) -> None:
    x = 0.5 * speech_like(3.0, SR, seed=4)
    wav = _wav(tmp_path / "speech.wav", x)
    stereo = _wav(tmp_path / "stereo.wav", np.stack([x, x], axis=1))
    mp3 = tmp_path / "speech.mp3"
    _ffmpeg("-i", str(stereo), "-ar", "8000", "-c:a", "libmp3lame", "-b:a", "64k", str(mp3))
    info = sf.info(str(mp3))
    assert (info.samplerate, info.channels) == (8000, 2)

    res = run_cli("score", wav, mp3, "--model", ckpt, "--json", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    got = {Path(i["path"]).name: i for i in json.loads((tmp_path / "r.json").read_text())}
    assert set(got) == {"speech.wav", "speech.mp3"}
    for item in got.values():
        assert "error" not in item and 1 <= item["score"] <= 5
        assert item["duration_s"] == pytest.approx(3.0, abs=0.06)
    assert got["speech.wav"]["n_frames"] == got["speech.mp3"]["n_frames"] == 3
    # --channel picks one channel of the stereo file: identical channels, same frames as the mix
    res = run_cli("score", mp3, "--model", ckpt, "--channel", "1", "--json", tmp_path / "c.json")
    assert res.exit_code == 0
    assert json.loads((tmp_path / "c.json").read_text())[0]["score"] == pytest.approx(got["speech.mp3"]["score"], abs=1e-4)


# --- bad input, warnings, exit codes --------------------------------------------------------------


def _bad_inputs(d: Path) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)
    empty = d / "empty.wav"
    empty.write_bytes(b"")
    text = d / "notes.wav"
    text.write_text("this is not audio\n" * 50)
    short = _wav(d / "short.wav", speech_like(0.1, 16_000), 16_000)
    late_nan = 0.5 * speech_like(12.0, seed=8)
    late_nan[int(10.2 * SR)] = np.nan  # found after several batches were scored
    nan = _wav(d / "nan.wav", late_nan, subtype="FLOAT")
    return {"empty": empty, "text": text, "short": short, "nan": nan}


def test_bad_input_gives_per_file_errors_and_the_batch_goes_on(tmp_path: Path, ckpt: Path) -> None:
    bad = _bad_inputs(tmp_path / "in")
    good = _wav(tmp_path / "in" / "good.wav", 0.5 * speech_like(2.0, seed=1))
    zeros = _wav(tmp_path / "in" / "zeros.wav", np.zeros(int(1.5 * SR), np.float32))
    quiet = _wav(tmp_path / "in" / "quiet.wav", 1e-3 * speech_like(2.0, seed=2), subtype="FLOAT")  # peak -60 dBFS
    missing = tmp_path / "in" / "gone.wav"
    args = [bad["empty"], good, bad["text"], bad["short"], zeros, bad["nan"], quiet, missing]
    emb = tmp_path / "emb"
    res = run_cli("score", *args, "--model", ckpt, "--batch-size", "4", "--csv", tmp_path / "r.csv", "--json", tmp_path / "r.json", "--embeddings", emb)
    assert res.exit_code == 0, res.output  # some files scored

    expected_errors = {
        "empty.wav": "empty file",
        "notes.wav": "not readable as audio",
        "short.wav": "0.10 s is shorter than the 0.5 s minimum",
        "nan.wav": "NaN or infinite sample at 10.200 s",
        "gone.wav": "no such file or directory",
    }
    rows = {Path(r["path"]).name: r for r in read_csv(tmp_path / "r.csv")}
    assert set(rows) == {p.name for p in args}
    items = {Path(i["path"]).name: i for i in json.loads((tmp_path / "r.json").read_text())}
    for name, message in expected_errors.items():
        assert message in rows[name]["error"] and name in rows[name]["error"]  # names the file and the problem
        assert rows[name]["score"] == ""
        assert set(items[name]) == {"path", "error"} and message in items[name]["error"]  # no partial frames
        assert name in res.stdout and message in res.stdout
    assert rows["good.wav"]["error"] == "" and 1 <= float(rows["good.wav"]["score"]) <= 5
    # nothing to hear: no number, the reason in the warnings, the level still reported
    for name in ("zeros.wav", "quiet.wav"):
        assert rows[name]["error"] == "" and rows[name]["score"] == "" and items[name]["score"] is None
    assert rows["zeros.wav"]["warnings"] == "digital silence" and items["zeros.wav"]["warnings"] == ["digital silence"]
    assert "too quiet to judge" in rows["quiet.wav"]["warnings"] and "no speech frame" in rows["quiet.wav"]["warnings"]
    assert float(rows["quiet.wav"]["peak_dbfs"]) == pytest.approx(-60.0, abs=0.1)
    assert rows["good.wav"]["warnings"] == "" and -40 < float(rows["good.wav"]["loudness_lufs"]) < 0
    assert "warning: digital silence" in res.stdout
    # embeddings only for files scored to the end
    assert sorted(p.name for p in emb.iterdir()) == ["good.npy", "quiet.npy", "zeros.npy"]
    assert "3 file(s) scored, 5 failed, 2 with warnings" in res.stderr
    assert "7/7" in res.stderr  # the progress bar (7 files found; the missing path fails before scoring)


def test_exit_codes(tmp_path: Path, ckpt: Path) -> None:
    bad = _bad_inputs(tmp_path / "in")
    good = _wav(tmp_path / "good.wav", 0.5 * speech_like(1.2, seed=1))
    all_bad = run_cli("score", *bad.values(), tmp_path / "gone.wav", "--model", ckpt, "--csv", tmp_path / "r.csv", "--quiet")
    assert all_bad.exit_code == 1
    assert len(read_csv(tmp_path / "r.csv")) == 5  # outputs are still written
    assert all_bad.stderr.count("error: ") == 5 and "gone.wav: no such file" in all_bad.stderr
    assert "4/4" not in all_bad.stderr  # --quiet: no progress bar
    assert run_cli("score", tmp_path / "in", "--model", ckpt, "-q").exit_code == 1  # a directory of bad files
    assert run_cli("score", bad["empty"], good, "--model", ckpt).exit_code == 0
    assert run_cli("score", good, "--model", ckpt, "--device", "cpu", "--precision", "bf16").exit_code == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--model", "{tmp}/none.ckpt"], "does not exist"),
        ([], "no default model"),
        (["--model", "{ckpt}", "--hop", "0"], "hop_s must be in (0, 1]"),
        (["--model", "{ckpt}", "--device", "tpu9"], "unknown device"),
        (["--model", "{ckpt}", "--precision", "fp8"], "precision must be fp32 or bf16"),
        (["--model", "{ckpt}", "--csv", "{tmp}/no/such/dir/r.csv"], "r.csv: cannot write here"),
        (["--model", "{good}"], "is not a readable sesqa checkpoint"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, ckpt: Path, options: list[str], message: str, monkeypatch) -> None:
    monkeypatch.setattr("sesqa.scoring.default.DEFAULT_MODEL", tmp_path / "not-installed.ckpt")  # an install without it
    good = _wav(tmp_path / "good.wav", 0.5 * speech_like(1.2, seed=1))
    opts = [o.format(tmp=tmp_path, ckpt=ckpt, good=good) for o in options]
    res = run_cli("score", good, *opts)
    assert res.exit_code == 2
    assert message in res.stderr
    if message == "no default model":
        assert "--model" in res.stderr  # says what to do


# --- constant memory on a 2 h file ----------------------------------------------------------------

_RSS_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy
    from sesqa.scoring.scorer import Scorer

    def peak_mb():
        # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child of a big pytest process would
        # start at the parent's size and hide any growth below it
        try:
            with open("/proc/self/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    ckpt, warm, path = sys.argv[1:4]
    scorer = Scorer.from_checkpoint(ckpt, hop_s=1.0, batch_size=128)
    base = peak_mb()  # after imports and model load
    scorer.score(warm)  # full batches: the model's working memory, whatever the file's length
    warm_mb = peak_mb() - base
    t0 = time.perf_counter()
    r = scorer.score(path)
    out = {"baseline_mb": base, "warm_up_mb": warm_mb, "seconds": time.perf_counter() - t0,
           "frames": int(r.frame_scores.size), "duration_s": r.duration_s,
           "last_start": float(r.frame_starts_s[-1]), "score": r.score,
           "peak_above_baseline_mb": peak_mb() - base, "peak_above_warm_up_mb": peak_mb() - base - warm_mb}
    # control: the measure does see a 512 MiB allocation (what the bounds are meant to catch)
    before = peak_mb()
    block = numpy.ones(128 * 2**20, dtype=numpy.float32)
    out["control_mb"] = peak_mb() - before
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_two_hour_file_is_scored_in_constant_memory(tmp_path: Path) -> None:
    # a tiny 8 kHz model: this measures the pipeline's memory, not the model's speed
    cfg = tiny_config(sample_rate=8000, frame_samples=8000, pool_channels=(2, 2, 4, 4), res_channels=(4, 4, 4), latent_dim=4)
    ckpt = tmp_path / "tiny8k.ckpt"
    save_checkpoint(ckpt, warmed_up(cfg), metric_stats=STATS)
    sr, minutes = 16_000, 120
    rng = np.random.default_rng(7)
    minute = (0.1 * rng.standard_normal(60 * sr)).astype(np.float32)
    path, warm = tmp_path / "long.wav", tmp_path / "warm.wav"
    with sf.SoundFile(str(path), "w", sr, 1, subtype="PCM_16") as f:  # written a minute at a time
        for _ in range(minutes):
            f.write(minute)
    assert path.stat().st_size > 200e6
    sf.write(str(warm), np.tile(minute, 3), sr, subtype="PCM_16")  # 3 min: 180 frames, a full batch of 128

    proc = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(ckpt), str(warm), str(path)],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result))  # visible with pytest -s
    assert result["frames"] == 7200 and result["last_start"] == 7199.0
    assert result["duration_s"] == pytest.approx(7200.0)
    assert 1 <= result["score"] <= 5
    whole_file_mb = 2 * 3600 * 8000 * 4 / 2**20  # 220 MiB: one float32 copy even at the model's 8 kHz
    assert result["peak_above_baseline_mb"] < 300  # decoder, resampler, a batch through the model
    # 2 h cost no more than 3 min, give or take the allocator's slack (about 40 MB measured)
    assert result["peak_above_warm_up_mb"] < 100 < whole_file_mb
    assert result["control_mb"] > 256


# --- CLI start-up ---------------------------------------------------------------------------------

_HELP_SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from sesqa.cli import app
    for argv in (["--help"], ["score", "--help"], ["compare", "--help"]):
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                app(argv)
            except SystemExit:
                pass
    print(json.dumps({"torch": "torch" in sys.modules, "sesqa.model": "sesqa.model" in sys.modules}))
    """
)


def test_cli_help_does_not_import_torch() -> None:
    """What keeps `sesqa --help` fast; its start-up time is a figure of benchmarks/score.py."""
    proc = subprocess.run([sys.executable, "-c", _HELP_SCRIPT], capture_output=True, text=True, cwd=REPO, timeout=60, check=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"torch": False, "sesqa.model": False}
    exe = Path(sys.executable).parent / "sesqa"
    cmd = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "sesqa", "--help"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    assert "score" in out.stdout and "compare" in out.stdout


# --- compare (paper appendix A) -------------------------------------------------------------------


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def test_compare_identical_inputs(tmp_path: Path, scorer: Scorer) -> None:
    a = _wav(tmp_path / "a.wav", 0.5 * speech_like(2.7, seed=11))
    copy = _wav(tmp_path / "copy.flac", sf.read(str(a), dtype="float32")[0], subtype="PCM_24")
    assert scorer.model.score_bias == pytest.approx(BETA)
    r = compare(scorer, a, copy)
    identical = 1 + 4 / (1 + math.exp(-BETA))
    assert r.identical_score == pytest.approx(identical)
    assert r.reference_score == pytest.approx(identical, abs=1e-6)
    np.testing.assert_allclose(r.reference_frame_scores, identical, atol=1e-6)
    assert r.score_difference == pytest.approx(0.0, abs=1e-6)
    assert r.ref_score == pytest.approx(scorer.score(a).score, abs=1e-5)
    back = compare(scorer, copy, a)
    assert back.jnd_probability == pytest.approx(r.jnd_probability, abs=1e-7)
    assert set(r.metrics) == set(METRICS) and all(math.isfinite(v) for v in r.metrics.values())
    assert r.warnings == () and r.notes == ()


def test_compare_says_identical_and_withholds_an_untrained_jnd_head(tmp_path: Path) -> None:
    # a checkpoint from before the trainer recorded its untrained heads: read from its train config
    legacy = tmp_path / "legacy.ckpt"
    save_checkpoint(legacy, warmed_up(tiny_config()), metric_stats=STATS, extra={"train_config": {"jnd": [], "without": []}})
    scorer = Scorer.from_checkpoint(legacy)
    assert set(scorer.untrained_heads) == {"jnd"}
    a = _wav(tmp_path / "a.wav", 0.5 * speech_like(2.2, seed=13))
    r = compare(scorer, a, a)
    assert r.identical and math.isnan(r.jnd_probability) and r.to_json()["jnd_probability"] is None
    assert any("JND probability: not trained" in n for n in r.notes)
    res = run_cli("compare", a, a, "--model", legacy)
    assert res.exit_code == 0, res.output
    assert "identical (to float precision)" in res.stdout and "JND probability:               not trained" in res.stdout
    # a different file is not identical; recorded untrained heads take precedence over the train config
    recorded = tmp_path / "recorded.ckpt"
    save_checkpoint(recorded, warmed_up(tiny_config()), metric_stats=STATS, extra={"untrained_heads": {"mr": "off"}})
    other = _wav(tmp_path / "b.wav", 0.5 * speech_like(2.2, seed=14))
    r2 = compare(Scorer.from_checkpoint(recorded), a, other)
    assert not r2.identical and math.isfinite(r2.jnd_probability) and r2.metrics == {}
    assert any("metric head was not trained (off)" in n for n in r2.notes)


def test_compare_different_files_rates_and_lengths(tmp_path: Path, scorer: Scorer) -> None:
    ref = _wav(tmp_path / "ref.wav", 0.5 * speech_like(3.0, seed=12))
    noisy = 0.5 * speech_like(3.0, seed=12) + 0.05 * np.random.default_rng(0).standard_normal(3 * SR)
    deg16k = tmp_path / "deg.flac"
    import soxr

    _wav(deg16k, soxr.resample(noisy.astype(np.float32), SR, 16_000), 16_000, subtype="PCM_16")
    ab, ba = compare(scorer, ref, deg16k), compare(scorer, deg16k, ref)  # different sample rates are fine
    assert ab.compared_s == pytest.approx(3.0, abs=1e-3) and ab.warnings == ()
    assert ab.jnd_probability == pytest.approx(ba.jnd_probability, abs=1e-6)  # JND is symmetric
    np.testing.assert_allclose(ab.jnd_frame_probabilities, ba.jnd_frame_probabilities, atol=1e-6)
    # swapping the files mirrors the appendix-A logit around beta, frame by frame
    mirror = _logit((ab.reference_frame_scores - 1) / 4) + _logit((ba.reference_frame_scores - 1) / 4)
    np.testing.assert_allclose(mirror, 2 * BETA, atol=1e-4)
    assert ab.score_difference == pytest.approx(ab.deg_score - ab.ref_score)
    assert ab.deg_score != pytest.approx(ab.ref_score, abs=1e-4)
    # estimates are the "mr" head denormalised with the checkpoint's statistics
    assert set(ab.metrics) == set(METRICS)

    longer = _wav(tmp_path / "longer.wav", 0.5 * speech_like(4.2, seed=13))
    r = compare(scorer, ref, longer)
    assert r.compared_s == pytest.approx(3.0) and r.deg_duration_s == pytest.approx(4.2)
    assert len(r.warnings) == 1 and "compared over the first 3.00 s" in r.warnings[0]
    assert r.frame_starts_s.tolist() == [0.0, 1.0, 2.0]

    x, _ = sf.read(str(ref), dtype="float32")
    arrays = compare(scorer, x, x, sr=SR)  # arrays work too
    assert arrays.reference_score == pytest.approx(arrays.identical_score, abs=1e-6)


def test_compare_without_metric_head_or_stats(tmp_path: Path) -> None:
    a = _wav(tmp_path / "a.wav", 0.5 * speech_like(1.5, seed=14))
    no_head = Scorer(SesqaModel(tiny_config(metric_names=())), metric_stats=STATS)
    r = compare(no_head, a, a)
    assert r.metrics == {} and "no metric (mr) head" in r.notes[0]
    model = SesqaModel(tiny_config())
    no_stats = Scorer(model, metric_stats=None)
    r = compare(no_stats, a, a)
    assert r.metrics == {} and "no metric statistics" in r.notes[0]
    partial = Scorer(model, metric_stats={"schema": STATS["schema"], "measures": {"pesq": STATS["measures"]["pesq"]}})
    r = compare(partial, a, a)
    assert set(r.metrics) == {"pesq"} and "no estimate of stoi" in r.notes[0]


def test_compare_cli(tmp_path: Path, ckpt: Path) -> None:
    a = _wav(tmp_path / "a.wav", 0.5 * speech_like(2.0, seed=15))
    b = _wav(tmp_path / "b.wav", 0.3 * speech_like(2.5, seed=16))
    res = run_cli("compare", a, b, "--model", ckpt, "--json", tmp_path / "c.json")
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "c.json").read_text())
    for key in ("ref_score", "deg_score", "score_difference", "reference_score", "identical_score", "jnd_probability", "metrics", "frames"):
        assert key in data
    assert set(data["metrics"]) == set(METRICS) and 0 <= data["jnd_probability"] <= 1
    assert "JND probability" in res.stdout and "compared over the first 2.00 s" in res.stdout
    bad = _bad_inputs(tmp_path / "bad")
    res = run_cli("compare", a, bad["short"], "--model", ckpt)
    assert res.exit_code == 1 and "short.wav: 0.10 s is shorter" in res.stderr
    assert run_cli("compare", a, b, "--model", tmp_path / "none.ckpt").exit_code == 2


# --- API details ----------------------------------------------------------------------------------


def test_api_errors_and_files(tmp_path: Path, scorer: Scorer) -> None:
    with pytest.raises(ValueError, match="sample rate"):
        scorer.score(np.zeros(SR, np.float32))
    nan = np.ones(SR, np.float32)
    nan[100] = np.nan
    from sesqa.audio import AudioError

    with pytest.raises(AudioError, match="array: NaN"):
        scorer.score(nan, sr=SR)
    with pytest.raises(AudioError, match="channel 2 out of range"):
        scorer.score(np.zeros((SR, 2), np.float32), sr=SR, channel=2)
    good = _wav(tmp_path / "g.wav", 0.5 * speech_like(1.0, seed=1))
    out = list(scorer.score_files([good, tmp_path / "gone.wav"]))
    assert isinstance(out[0], ScoreResult) and isinstance(out[1], FileError)
    assert out[1].to_json() == {"path": str(tmp_path / "gone.wav"), "error": f"{tmp_path / 'gone.wav'}: no such file"}


def test_score_files_reads_ahead_yet_equals_score_file_by_file(tmp_path: Path, scorer: Scorer) -> None:
    """Files read in a thread, several batches each: same results, in order, and a file failing
    after some of its batches were scored leaves nothing behind in the next file's result."""
    small = Scorer(scorer.backend, batch_size=2)
    late_nan = 0.5 * speech_like(14.0, seed=3)
    late_nan[13 * SR] = np.nan  # in the reader's second 10 s block: five batches go first
    files = [
        _wav(tmp_path / "a.wav", 0.5 * speech_like(5.0, seed=1)),
        _wav(tmp_path / "nan.wav", late_nan, subtype="FLOAT"),
        _wav(tmp_path / "b.wav", 0.3 * speech_like(4.0, seed=2)),
    ]
    out = list(small.score_files(files))
    assert [type(r) for r in out] == [ScoreResult, FileError, ScoreResult]
    assert "NaN" in out[1].error and "nan.wav" in out[1].error
    for path, got in zip([files[0], files[2]], [out[0], out[2]]):
        alone = small.score(path)
        assert got.source == str(path)
        np.testing.assert_array_equal(got.frame_scores, alone.frame_scores)
        np.testing.assert_array_equal(got.frame_starts_s, alone.frame_starts_s)
        assert got.score == alone.score


def test_interrupted_batch_leaves_no_outputs(tmp_path: Path, scorer: Scorer) -> None:
    from sesqa.scoring.output import score_paths

    files = [_wav(tmp_path / f"{k}.wav", 0.5 * speech_like(1.0, seed=k)) for k in range(3)]

    class Interrupted(Scorer):
        def score_files(self, paths, channel=None, embeddings=False):
            yield from list(super().score_files(paths[:1], channel, embeddings))
            raise KeyboardInterrupt

    flaky = Interrupted(scorer.model, metric_stats=STATS)
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.csv").write_text("previous run\n")
    with pytest.raises(KeyboardInterrupt):
        score_paths(flaky, files, csv_path=out / "r.csv", json_path=out / "r.json", progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["r.csv"]  # no temporary files, no half-written JSON
    assert (out / "r.csv").read_text() == "previous run\n"  # the old file is untouched
