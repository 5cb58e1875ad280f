"""Bad input through `score`, `compare`, `evaluate` and `train --mos`, kept fixed (issue 14).

One folder holds every kind of bad file a user meets (empty, header-only, truncated, text named
.wav, random bytes, NaN, Inf, silence, DC only, 0.05 s, 0.3 s, 8/24/32-bit, 6 channels at 96 kHz,
a non-ASCII name, a symlink loop, a folder named x.wav) and one good file. For each file every
command must say what is wrong with it, naming it, without a traceback; outputs parse whole; and
the good file still gets its result. The fixes behind it have their own tests below: `sesqa
evaluate --pred` reads the CSV `sesqa score` wrote, a WAV cut short is flagged, symlink loops
are reported, and `score` and `train --mos` share one minimum length.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa import audio
from sesqa.audio.wav import wav_truncation
from sesqa.labels import MosItem
from sesqa.model import load_checkpoint
from sesqa.scoring.paths import find_audio
from sesqa.scoring.scorer import Scorer
from sesqa.trainer.labelled import MosStream

from .helpers import SR, run_cli, speech_like

GOOD = "good.wav"
NON_ASCII = "grüße_日本.wav"
ERRORS = {
    "empty.wav": "empty file",
    "header_only.wav": "no audio samples",
    "text.wav": "not readable as audio",
    "random.wav": "not readable as audio",
    "nan.wav": "NaN or infinite sample",
    "inf.wav": "NaN or infinite sample",
    "short_0.05.wav": "0.05 s is shorter than the 0.5 s minimum",
    "short_0.3.wav": "0.30 s is shorter than the 0.5 s minimum",
    "loop.wav": "symlink loop",
}
"""Files no command can use, and what the message about each must say."""
NO_SCORE = {"silence.wav": "digital silence", "dc.wav": "DC offset"}
"""Files read whole but with nothing to score: no number, the reason in the warnings."""
TRUNCATED = "truncated: the header says 96000 samples (2.000 s), the file holds 48000 (1.000 s)"
SCORED = (GOOD, "pcm8.wav", "pcm24.wav", "pcm32.wav", "six_96k.wav", NON_ASCII, "truncated.wav")
"""Files that must get a number (the truncated one with its warning)."""


def _pcm16(path: Path, seconds: float, seed: int = 1) -> bytes:
    sf.write(path, 0.5 * speech_like(seconds, seed=seed), SR, subtype="PCM_16")
    return path.read_bytes()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The bad-input folder (see the module docstring), good.wav among the rest."""
    d = tmp_path_factory.mktemp("bad input")
    good = 0.5 * speech_like(2.0, seed=1)
    whole = _pcm16(d / GOOD, 2.0)
    (d / "empty.wav").write_bytes(b"")
    (d / "header_only.wav").write_bytes(whole[:44])
    (d / "truncated.wav").write_bytes(whole[: 44 + 48_000 * 2])  # 1 s of the 2 s the header says
    (d / "text.wav").write_text("this is not audio\n" * 50)
    (d / "random.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    for name, bad in (("nan.wav", np.nan), ("inf.wav", np.inf)):
        x = good.copy()
        x[SR // 2] = bad
        sf.write(d / name, x, SR, subtype="FLOAT")
    sf.write(d / "silence.wav", np.zeros(2 * SR, np.float32), SR)
    sf.write(d / "dc.wav", np.full(2 * SR, 0.3, np.float32), SR)
    sf.write(d / "short_0.05.wav", good[: SR // 20], SR)
    sf.write(d / "short_0.3.wav", good[: int(0.3 * SR)], SR)
    for name, subtype in (("pcm8.wav", "PCM_U8"), ("pcm24.wav", "PCM_24"), ("pcm32.wav", "PCM_32")):
        sf.write(d / name, good, SR, subtype=subtype)
    sf.write(d / "six_96k.wav", np.tile(0.5 * speech_like(2.0, 96_000, seed=3)[:, None], (1, 6)), 96_000)
    sf.write(d / NON_ASCII, good, SR)
    (d / "loop.wav").symlink_to("loop.wav")
    (d / "folder.wav").mkdir()
    (d / "sub").mkdir()
    (d / "sub" / "up").symlink_to("..")  # a folder loop: walking it would never end
    return d


@pytest.fixture(scope="module")
def score_csv(corpus: Path, ckpt: Path, tmp_path_factory) -> Path:
    """What `sesqa score` wrote for the whole folder."""
    out = tmp_path_factory.mktemp("scored")
    res = run_cli("score", corpus, corpus / "folder.wav", "--model", ckpt, "--csv", out / "s.csv", "--json", out / "s.json", "-q")
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    return out / "s.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _mos_list(path: Path, files: list[Path]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([("path", "mos"), *((p, 1 + k % 9 / 2) for k, p in enumerate(files))])
    return path


# --- the corpus through every command --------------------------------------------------------


def test_score_names_every_bad_file_and_scores_the_rest(score_csv: Path) -> None:
    rows = {Path(r["path"]).name: r for r in _rows(score_csv)}
    items = {Path(i["path"]).name: i for i in json.loads(score_csv.with_suffix(".json").read_text(encoding="utf-8"))}
    assert set(rows) == set(items) == {*ERRORS, *NO_SCORE, *SCORED, "folder.wav"}
    for name, message in ERRORS.items():
        assert message in rows[name]["error"] and name in rows[name]["error"], rows[name]
        assert rows[name]["score"] == "" and set(items[name]) == {"path", "error"}  # nothing half-way
    assert "directory holds no audio files" in rows["folder.wav"]["error"]
    for name, reason in NO_SCORE.items():
        assert rows[name]["score"] == "" and rows[name]["error"] == "" and reason in rows[name]["warnings"]
        assert items[name]["score"] is None
    for name in SCORED:
        assert 1 <= float(rows[name]["score"]) <= 5 and rows[name]["error"] == "", rows[name]
    assert rows["truncated.wav"]["warnings"].startswith(TRUNCATED)
    assert rows["pcm24.wav"]["score"] == rows["pcm32.wav"]["score"] and rows[GOOD]["score"] == rows[NON_ASCII]["score"]


def test_compare_each_bad_file_against_the_good_one(corpus: Path, ckpt: Path, tmp_path: Path) -> None:
    for name in sorted({*ERRORS, *NO_SCORE, *SCORED, "folder.wav"}):
        out = tmp_path / f"{name}.json"
        res = run_cli("compare", corpus / GOOD, corpus / name, "--model", ckpt, "--json", out)
        assert "Traceback" not in res.output
        if name in ERRORS or name == "folder.wav":
            assert res.exit_code == 1 and not out.exists(), (name, res.output)
            assert res.stderr.startswith(f"error: {corpus / name}: ") and ERRORS.get(name, "is a directory") in res.stderr
            continue
        assert res.exit_code == 0, (name, res.output)
        result = json.loads(out.read_text(encoding="utf-8"))
        assert 1 <= result["deg_score"] <= 5
        if name in NO_SCORE:
            assert f"warning: {corpus / name}: no frame above -70 dBFS (silence or only a DC offset)" in res.stdout
    truncated = json.loads((tmp_path / "truncated.wav.json").read_text(encoding="utf-8"))
    assert f"{corpus / 'truncated.wav'}: {TRUNCATED}" in " ".join(truncated["warnings"])


def test_evaluate_reads_the_csv_score_wrote(corpus: Path, score_csv: Path, tmp_path: Path, caplog) -> None:
    """Item 1: `sesqa evaluate --pred` read `score ''` as an error and stopped (exit 2)."""
    labels = _mos_list(tmp_path / "mos.csv", [Path(r["path"]) for r in _rows(score_csv)])
    caplog.set_level(logging.WARNING, logger="sesqa")
    res = run_cli("evaluate", "--pred", score_csv, "--labels", labels, "--boot", "0", "--out", tmp_path / "r.json")
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    unscored = len(ERRORS) + len(NO_SCORE) + 1  # and the folder
    assert f"s.csv: {unscored} of {unscored + len(SCORED)} rows have no score" in caplog.text
    assert caplog.text.count("rows have no score") == 1, "one warning, not one per row"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["predictors"][0]["counts"]["mos_items"] == len(SCORED)  # every scored file, nothing else


def test_evaluate_with_the_model_leaves_out_what_it_cannot_score(corpus: Path, ckpt: Path, tmp_path: Path, caplog) -> None:
    files = [corpus / n for n in sorted({*ERRORS, *NO_SCORE, *SCORED, "folder.wav"})]
    labels = _mos_list(tmp_path / "mos.csv", files)
    caplog.set_level(logging.WARNING, logger="sesqa")
    res = run_cli("evaluate", "--model", ckpt, "--labels", labels, "--boot", "0", "--out", tmp_path / "r.json")
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output  # a symlink loop crashed Path.resolve
    assert f"{len(ERRORS) + 1} of {len(files)} files could not be scored" in caplog.text
    assert f"2 of {len(files)} files got no score and are left out" in caplog.text  # NaN voided every figure
    assert f"{corpus / 'silence.wav'} (digital silence)" in caplog.text
    assert f"{corpus / 'truncated.wav'} ({TRUNCATED}" in caplog.text
    assert json.loads((tmp_path / "r.json").read_text())["predictors"][0]["counts"]["mos_items"] == len(SCORED)


def test_train_mos_drops_each_bad_file_by_name(corpus: Path, tmp_path: Path, caplog) -> None:
    files = [corpus / n for n in sorted({*ERRORS, *NO_SCORE, *SCORED, "folder.wav"}) if n != GOOD]
    train_list, valid_list = _mos_list(tmp_path / "train.csv", files), _mos_list(tmp_path / "valid.csv", [corpus / GOOD])
    caplog.set_level(logging.WARNING, logger="sesqa")
    res = run_cli(
        "train", "--out", tmp_path / "run", "--mos", train_list, "--valid-mos", valid_list, "--model-size", "tiny",
        "--steps", "1", "--no-swa", "--device", "cpu", "--precision", "fp32", "--workers", "0",
    )  # fmt: skip
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    assert load_checkpoint(tmp_path / "run" / "last.ckpt").extra["step"] == 1
    for name in ("loop.wav", "folder.wav"):
        assert f"{corpus / name} (a " in caplog.text  # listed as missing, and why
    for name, message in ERRORS.items():
        if name != "loop.wav":
            assert f"dropping {corpus / name} from the MOS items pool" in caplog.text, name
            assert f"{corpus / name}: {message}" in caplog.text or name == "header_only.wav", name
    assert f"{corpus / 'truncated.wav'}: {TRUNCATED}" in caplog.text


# --- the fixes, one by one --------------------------------------------------------------------


def test_one_minimum_length_for_score_and_train(tmp_path: Path, ckpt: Path, caplog) -> None:
    """Item 9: a 0.3 s clip was zero-padded and trained on by `train --mos`, refused by `score`."""
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    sf.write(short, 0.5 * speech_like(0.3), SR)
    sf.write(long, 0.5 * speech_like(0.6), SR)
    scorer = Scorer.from_checkpoint(ckpt)
    with pytest.raises(audio.AudioError, match=r"short\.wav: 0\.30 s is shorter than the 0\.5 s minimum"):
        scorer.score(short)
    assert scorer.score(long).frame_scores.size == 1  # one zero-padded frame
    caplog.set_level(logging.WARNING, logger="sesqa")
    stream = MosStream([MosItem(short, 2.0), MosItem(long, 4.0)], batch_size=4, seed=0)
    batch = next(stream)
    assert batch.mos.tolist() == [4.0] * 4 and stream.dropped == [MosItem(short, 2.0)]
    assert "short.wav: 0.30 s is shorter than the 0.5 s minimum" in caplog.text
    assert audio.min_samples(SR) == 23_760 and audio.min_samples(11_025) == 5458  # 0.495 s


def _wav_with(tmp_path: Path, name: str, data_size: int | None = None, tail: bytes = b"") -> Path:
    """A 1 s PCM_16 WAV whose data chunk size is overwritten (None: kept), `tail` appended."""
    path = tmp_path / name
    raw = bytearray(_pcm16(path, 1.0))
    assert raw[36:40] == b"data"
    if data_size is not None:
        raw[40:44] = struct.pack("<I", data_size)
    path.write_bytes(bytes(raw) + tail)
    return path


def test_a_wav_cut_short_is_flagged_by_every_reader(tmp_path: Path, ckpt: Path, caplog) -> None:
    """Item 9: a WAV whose header says more than the file holds was read with no word of it."""
    cut = _wav_with(tmp_path, "cut.wav", data_size=4 * SR)  # the header says 2 s, the file holds 1 s
    message = "truncated: the header says 96000 samples (2.000 s), the file holds 48000 (1.000 s)"
    assert wav_truncation(cut).startswith(message)
    assert wav_truncation(_wav_with(tmp_path, "whole.wav")) is None
    assert wav_truncation(_wav_with(tmp_path, "listed.wav", tail=b"LIST\x04\x00\x00\x00INFO")) is None  # a chunk after the data
    assert wav_truncation(_wav_with(tmp_path, "streamed.wav", data_size=0xFFFFFFFF)) is None  # size never filled in
    sf.write(tmp_path / "x.flac", speech_like(1.0), SR)
    assert wav_truncation(tmp_path / "x.flac") is None
    result = Scorer.from_checkpoint(ckpt).score(cut)
    assert result.warnings[0].startswith(message) and result.duration_s == pytest.approx(1.0)
    caplog.set_level(logging.WARNING, logger="sesqa")
    for _ in range(3):  # training reads crops again and again: one line per file
        audio.load(cut, offset_s=0.2, duration_s=0.5)
    assert caplog.text.count(f"{cut}: {message}") == 1


def test_symlinks_in_a_folder_are_followed_or_reported(tmp_path: Path, caplog) -> None:
    """Item 9: a symlink loop inside a folder argument was skipped without a word."""
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    sf.write(root / "a.wav", speech_like(1.0), SR)
    sf.write(elsewhere / "b.wav", speech_like(1.0), SR)
    (root / "loop.wav").symlink_to("loop.wav")
    (root / "gone.wav").symlink_to(tmp_path / "nowhere.wav")
    (root / "deep").mkdir()
    (root / "deep" / "back").symlink_to(root)  # leads back up: a loop
    (root / "linked").symlink_to(elsewhere)  # leads elsewhere: followed
    caplog.set_level(logging.WARNING, logger="sesqa")
    files, problems = find_audio([root])
    assert sorted(p.name for p in files) == ["a.wav", "b.wav"]
    reasons = dict(problems)
    assert "symlink loop" in reasons[str(root / "loop.wav")]
    assert "broken symlink" in reasons[str(root / "gone.wav")] and "nowhere.wav" in reasons[str(root / "gone.wav")]
    assert f"{root / 'deep' / 'back'}: symlink loop (leads back to {os.path.realpath(root)}), not followed" in caplog.text
    assert "symlink loop" in dict(find_audio([root / "loop.wav"])[1])[str(root / "loop.wav")]  # named directly too
    with pytest.raises(audio.AudioError, match=r"loop\.wav: symlink loop"):
        audio.load(root / "loop.wav")
