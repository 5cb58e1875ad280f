"""scripts/prepare_fullband_speech.py on a stand-in source: copy, measure, check against a manifest."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("prepare_fullband_speech", REPO / "scripts" / "prepare_fullband_speech.py")
script = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = script  # dataclasses look their module up there
_SPEC.loader.exec_module(script)

RATE = 48_000


def _noise(rng: np.random.Generator, seconds: float, top_hz: float | None = None) -> np.ndarray:
    """White noise, optionally with every FFT bin above `top_hz` set to zero (an exact band limit)."""
    x = rng.standard_normal(int(seconds * RATE))
    if top_hz is not None:
        spectrum = np.fft.rfft(x)
        spectrum[np.fft.rfftfreq(x.size, 1 / RATE) > top_hz] = 0
        x = np.fft.irfft(spectrum, n=x.size)
    return (0.2 * x / np.abs(x).max()).astype(np.float32)


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    """A clone-layout SOURCE holding every clip of the set as 2.5 s of full-band noise."""
    rng = np.random.default_rng(7)
    root = tmp_path / "source"
    for clip in script.CLIPS:
        path = root / clip.snapshot.folder / clip.path
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, _noise(rng, 2.5), RATE, subtype="PCM_16")
    return root


def test_copies_byte_for_byte_and_checks_against_its_own_manifest(source: Path, tmp_path: Path) -> None:
    rows = script.prepare(source, tmp_path / "a", manifest=None)
    assert [r.file for r in rows] == [c.file for c in script.CLIPS]
    for row, clip in zip(rows, script.CLIPS):
        original = (source / clip.snapshot.folder / clip.path).read_bytes()
        assert (tmp_path / "a" / row.file).read_bytes() == original
        assert row.sha256 == hashlib.sha256(original).hexdigest()
        assert (row.sample_rate, row.duration_s, row.band_edge_hz) == (RATE, 2.5, 24000.0)
    assert script.read_manifest(tmp_path / "a" / "manifest.tsv") == {r.file: r for r in rows}
    # a second build checked against the first one's manifest passes
    assert script.prepare(source, tmp_path / "b", manifest=tmp_path / "a" / "manifest.tsv") == rows


def test_the_checker_names_a_changed_or_missing_file(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    script.prepare(source, out, manifest=None)
    manifest = out / "manifest.tsv"
    assert script.check_folder(out, manifest) == []
    changed, gone = script.CLIPS[0].file, script.CLIPS[-1].file
    data = bytearray((out / changed).read_bytes())
    data[-1] ^= 0xFF
    (out / changed).write_bytes(bytes(data))
    (out / gone).unlink()
    problems = script.check_folder(out, manifest)
    assert len(problems) == 2
    assert problems[0].startswith(f"{changed}: sha256 {hashlib.sha256(bytes(data)).hexdigest()}, manifest.tsv expects ")
    assert problems[1] == f"{gone}: missing from {out}"


def test_a_source_that_differs_from_the_manifest_fails_naming_each_file(source: Path, tmp_path: Path) -> None:
    script.prepare(source, tmp_path / "first", manifest=None)
    clip = script.CLIPS[3]
    sf.write(source / clip.snapshot.folder / clip.path, _noise(np.random.default_rng(8), 2.5), RATE, subtype="PCM_16")
    with pytest.raises(ValueError, match=rf"1 problem\(s\).*\n  {clip.file}: sha256 [0-9a-f]{{64}}, manifest.tsv expects"):
        script.prepare(source, tmp_path / "second", manifest=tmp_path / "first" / "manifest.tsv")
    # the stand-in is not the real set: the committed manifest rejects every clip, by name
    with pytest.raises(ValueError) as error:
        script.prepare(source, tmp_path / "third")
    assert f"{len(script.CLIPS)} problem(s)" in str(error.value)
    assert all(f"\n  {c.file}: sha256 " in str(error.value) for c in script.CLIPS)


def test_band_limited_short_or_low_rate_clips_are_refused_by_name(source: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    narrow, short, low_rate = script.CLIPS[0], script.CLIPS[1], script.CLIPS[2]
    sf.write(source / narrow.snapshot.folder / narrow.path, _noise(rng, 2.5, top_hz=8000.0), RATE, subtype="FLOAT")
    sf.write(source / short.snapshot.folder / short.path, _noise(rng, 1.5), RATE, subtype="PCM_16")
    sf.write(source / low_rate.snapshot.folder / low_rate.path, _noise(rng, 2.5)[::2], RATE // 2, subtype="PCM_16")
    with pytest.raises(ValueError) as error:
        script.prepare(source, tmp_path / "out", manifest=None)
    text = str(error.value)
    assert text.startswith("4 problem(s)")
    assert f"{narrow.file}: band edge 8000 Hz, the set needs >= 16000 Hz" in text
    assert f"{short.file}: 1.50 s long, the set needs >= 2 s" in text
    assert f"{low_rate.file}: sample rate 24000 Hz, the set needs >= 44100 Hz" in text
    assert f"{low_rate.file}: band edge 12000 Hz, the set needs >= 16000 Hz" in text  # its Nyquist frequency


def test_a_missing_snapshot_names_the_repository_to_fetch(source: Path, tmp_path: Path) -> None:
    clip = script.CLIPS[-1]
    (source / clip.snapshot.folder / clip.path).unlink()
    with pytest.raises(ValueError, match=rf"{clip.file}: neither a git snapshot .* fetch {clip.snapshot.repo} into"):
        script.prepare(source, tmp_path / "out", manifest=None)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_reads_a_bare_git_snapshot_at_the_pinned_commit(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "docs").mkdir(parents=True)
    sf.write(work / "docs" / "a.wav", _noise(np.random.default_rng(10), 2.5), RATE, subtype="PCM_16")

    def git(*args: str, cwd: Path = work) -> str:
        run = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", *args]
        return subprocess.run(run, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", "docs/a.wav")
    git("commit", "-q", "-m", "a")
    commit = git("rev-parse", "HEAD")
    (work / "docs" / "a.wav").write_bytes(b"later, not audio")  # the work tree moves on; the commit does not
    git("commit", "-q", "-am", "b")
    source = tmp_path / "mirror"
    git("clone", "-q", "--bare", str(work), str(source / "o+n" / "repo"), cwd=tmp_path)
    clip = script.Clip("a.wav", script.Snapshot("o/n", commit), "docs/a.wav", "x")
    (row,) = script.prepare(source, tmp_path / "out", manifest=None, clips=(clip,))
    assert (tmp_path / "out" / "a.wav").read_bytes() == subprocess.run(
        ["git", "show", f"{commit}:docs/a.wav"], cwd=work, check=True, capture_output=True
    ).stdout
    assert row.source == f"o/n@{commit[:12]}:docs/a.wav" and row.band_edge_hz == 24000.0
    wrong = script.Clip("a.wav", script.Snapshot("o/n", "0" * 40), "docs/a.wav", "x")
    with pytest.raises(ValueError, match=r"a.wav: git snapshot .* has no 0{40}:docs/a.wav"):
        script.prepare(source, tmp_path / "out2", manifest=None, clips=(wrong,))


def test_the_script_keeps_the_audio_out_of_the_repository(source: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        script.main([str(source), str(REPO / "fullband")])
    assert exit_.value.code == 2 and not (REPO / "fullband").exists()
    assert script.main([str(source), str(tmp_path / "out")]) == 1


def test_the_committed_manifest_lists_a_full_band_set_of_the_scripts_clips() -> None:
    rows = script.read_manifest(script.MANIFEST)
    assert list(rows) == [c.file for c in script.CLIPS]
    assert len(rows) >= 10 and len({r.speaker for r in rows.values()}) >= 5
    for row in rows.values():
        assert script.requirement_problems(row) == []
        assert len(row.sha256) == 64 and int(row.sha256, 16) >= 0
        assert row.licence == "CC-BY-4.0" and row.speaker != "p239"
