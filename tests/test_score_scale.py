"""`sesqa score` at scale: --files-from, --glob, JSONL that streams and resumes after SIGKILL,
--shard (and its environment defaults), --workers, and the packed batches a GPU gets."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.scoring.jsonl import JsonlOutput, read_jsonl
from sesqa.scoring.paths import iter_entries
from sesqa.scoring.scorer import FileError, Scorer
from sesqa.scoring.selection import Shard, Tally, file_key, select
from sesqa.scoring.stream import score_to_jsonl

from .helpers import SR, run_cli, speech_like

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer()  # the packaged model, in onnxruntime


def _corpus(folder: Path, n: int, seconds: float = 1.5) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        path = folder / f"utt{k:03d}.wav"
        sf.write(path, (0.1 + 0.8 * k / max(n, 1)) * speech_like(seconds, seed=k), SR, subtype="PCM_16")
        paths.append(path)
    return paths


def _raw_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _assert_each_once(out: Path, expected: list[Path]) -> list[dict]:
    """Every line whole and parseable, every expected file's key exactly once, nothing else."""
    lines = _raw_lines(out)
    assert all(line.endswith(b"\n") for line in lines), "a torn line was left"
    rows = [json.loads(line) for line in lines]
    keys = [r["key"] for r in rows]
    assert sorted(keys) == sorted(file_key(p) for p in expected)
    return rows


# --- inputs: --files-from (stdin), duplicates, unreadable entries, --glob ---------------------------


def test_files_from_stdin_reports_duplicates_and_unreadable_entries(tmp_path: Path, monkeypatch, caplog) -> None:
    from typer.testing import CliRunner

    from sesqa.cli import app

    a, b = _corpus(tmp_path / "corpus", 2)
    (tmp_path / "link.wav").symlink_to(a)
    (tmp_path / "not-audio.wav").write_bytes(b"this is not audio")
    monkeypatch.chdir(tmp_path)
    listing = "\n".join(["corpus/utt000.wav", "# a comment", "", "corpus/utt001.wav", "./corpus/utt000.wav",
                         "link.wav", str(a), "missing.wav", "not-audio.wav", "corpus/utt001.wav"]) + "\n"  # fmt: skip
    result = CliRunner().invoke(app, ["score", "--files-from", "-", "--jsonl", "out.jsonl"], input=listing.encode())
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in read_jsonl(tmp_path / "out.jsonl")}
    assert set(rows) == {file_key(a), file_key(b), file_key(tmp_path / "missing.wav"), file_key(tmp_path / "not-audio.wav")}
    assert rows[file_key(a)]["path"] == "corpus/utt000.wav" and 1 <= rows[file_key(a)]["score"] <= 5
    assert rows[file_key(a)]["error"] is None
    missing = rows[file_key(tmp_path / "missing.wav")]
    assert missing["score"] is None and "no such file" in missing["error"] and "stdin:8" in missing["error"]
    assert rows[file_key(tmp_path / "not-audio.wav")]["error"]
    assert "2 file(s) scored, 2 failed" in result.output and "4 duplicate entries left out" in result.output
    assert "missing.wav: no such file" in caplog.text  # each failure logged (stderr) as it happens, too


def test_files_from_a_file_is_relative_to_it_and_adds_to_the_arguments(tmp_path: Path, scorer: Scorer) -> None:
    a, b, c = _corpus(tmp_path / "corpus", 3)
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "todo.txt").write_text("../corpus/utt001.wav\n../corpus/utt002.wav\n")
    report = score_to_jsonl(scorer, [a], tmp_path / "out.jsonl", files_from=tmp_path / "lists" / "todo.txt", shard=Shard(), progress=False)
    assert report.tally.scored == 3 and report.exit_code == 0
    _assert_each_once(tmp_path / "out.jsonl", [a, b, c])
    with pytest.raises(OSError, match="cannot read the --files-from list"):
        score_to_jsonl(scorer, [], tmp_path / "other.jsonl", files_from=tmp_path / "absent.txt", shard=Shard(), progress=False)


def test_glob_picks_files_of_folders(tmp_path: Path) -> None:
    root = tmp_path / "out"
    for rel in ["a.wav", "b.FLAC", "sub/c.wav", "sub/enh/d.wav", "notes.txt"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")

    def found(glob: str | None) -> list[str]:
        return [e.path.relative_to(root).as_posix() for e in iter_entries([root], glob=glob) if e.problem is None]

    assert found(None) == ["a.wav", "b.FLAC", "sub/c.wav", "sub/enh/d.wav"]
    assert found("*.wav") == ["a.wav", "sub/c.wav", "sub/enh/d.wav"]
    assert found("*.flac") == ["b.FLAC"]  # case-insensitive, like the extension rule
    assert found("sub/*.wav") == ["sub/c.wav", "sub/enh/d.wav"]  # `*` crosses folders
    assert found("enh/*") == []
    assert found("*.txt") == ["notes.txt"]
    assert [e.problem for e in iter_entries([root], glob="*.mp3")] == ["directory holds no file matching the glob"]
    result = run_cli("score", root, "--glob", " ", "--jsonl", tmp_path / "x.jsonl")
    assert result.exit_code == 2 and "glob must be a non-empty pattern" in result.output


# --- JSONL: streamed, locked, resumed after SIGKILL, torn line dropped ----------------------------


def _score_cmd(listing: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sesqa", "score", "--files-from", str(listing), "--jsonl", str(out), "--quiet", *extra]


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_at_a_random_moment_then_resume_gives_every_file_once(tmp_path: Path, workers: int) -> None:
    files = _corpus(tmp_path / "corpus", 80, seconds=3.0)
    (tmp_path / "corpus" / "broken.wav").write_bytes(b"RIFF but nothing else")
    files.append(tmp_path / "corpus" / "broken.wav")
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"{p}\n" for p in files))
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "", "RANK": "", "WORLD_SIZE": ""}
    rng = random.Random(1234 + workers)
    for round_ in range(2):  # killed twice, at random moments once lines are being written
        cmd = _score_cmd(listing, out, "--workers", str(workers), *(["--resume"] if round_ else []))
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start_lines = len(_raw_lines(out)) if out.exists() else 0
        deadline = time.monotonic() + 60
        while (not out.exists() or len(_raw_lines(out)) <= start_lines) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if round_ == 0:  # the first kill must land mid-run; the second may find the run done
            assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed: give it more files"
            assert 0 < len(_raw_lines(out)) < len(files)
        else:
            assert proc.returncode in (-signal.SIGKILL, 0)
    done = subprocess.run(_score_cmd(listing, out, "--workers", str(workers), "--resume"), cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = _assert_each_once(out, files)
    assert [r["path"] for r in rows if r["error"]] == [str(tmp_path / "corpus" / "broken.wav")]
    again = subprocess.run(_score_cmd(listing, out, "--resume"), cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and len(_raw_lines(out)) == len(files)  # nothing left to do


def test_a_torn_last_line_is_dropped_and_its_file_scored_again(tmp_path: Path, scorer: Scorer, caplog) -> None:
    files = _corpus(tmp_path / "corpus", 4)
    out = tmp_path / "out.jsonl"
    score_to_jsonl(scorer, files[:3], out, shard=Shard(), progress=False)
    whole = _raw_lines(out)
    out.write_bytes(b"".join(whole[:2]) + whole[2][: len(whole[2]) // 2])  # the third line cut short
    report = score_to_jsonl(scorer, files, out, shard=Shard(), resume=True, progress=False)
    assert (report.already, report.tally.skipped, report.tally.scored) == (2, 2, 2)
    assert "dropped a line cut short" in caplog.text
    _assert_each_once(out, files)
    with pytest.raises(FileExistsError, match="--resume"):
        score_to_jsonl(scorer, files, out, shard=Shard(), progress=False)


def test_one_writer_per_output_and_stdout(tmp_path: Path, scorer: Scorer) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlOutput(out):
        with pytest.raises(OSError, match="another `sesqa score` is writing"):
            JsonlOutput(out, resume=True)
    with pytest.raises(ValueError, match="standard output"):
        JsonlOutput("-", resume=True)
    (a,) = _corpus(tmp_path / "corpus", 1)
    result = run_cli("score", a, "--jsonl", "-", "--frames")
    assert result.exit_code == 0
    row = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    assert row["key"] == file_key(a) and len(row["frames"]) == 2 and row["frames"][0]["start_s"] == 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--resume"], "--resume goes with --jsonl"),
        (["--frames"], "--frames goes with --jsonl"),
        (["--jsonl", "x.jsonl", "--csv", "x.csv"], "--jsonl replaces --csv"),
        (["--shard", "3/3"], "shard index must be in [0, 3)"),
        (["--shard", "1of2"], "--shard must be INDEX/COUNT"),
    ],
)
def test_usage_errors(tmp_path: Path, options: list[str], message: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("score", "a.wav", *options)
    assert result.exit_code == 2 and message in result.output
    nothing = run_cli("score")
    assert nothing.exit_code == 2 and "--files-from" in nothing.output


# --- shards ---------------------------------------------------------------------------------------


def test_shards_are_disjoint_cover_the_list_and_ignore_its_order(tmp_path: Path) -> None:
    names = [f"d{k % 7}/f{k:04d}.wav" for k in range(103)]
    listed = [tmp_path / n for n in names] + [tmp_path / names[5], tmp_path / names[50]]  # two repeated
    count = 4
    shards, duplicates = [], 0
    for index in range(count):
        tally = Tally()
        shards.append([str(e.path) for e in select(_entries(listed), Shard(index, count), set(), tally)])
        duplicates += tally.duplicates
        shuffled = random.Random(index).sample(listed, len(listed))
        assert [str(e.path) for e in select(_entries(shuffled), Shard(index, count), set(), Tally())] == shards[-1]
        assert tally.listed == 103 and tally.entries == len(shards[-1])
    assert sum(map(len, shards)) == 103 and duplicates == 2  # each repeat counted once, by one shard
    assert set().union(*map(set, shards)) == {str(tmp_path / n) for n in names}
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def _entries(paths: list[Path]):
    from sesqa.scoring.paths import Entry

    return (Entry(p, "no such file or directory") for p in paths)  # missing files are entries too


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (0, 1, "--shard")),
        ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_COUNT": "4"}, (2, 4, "SLURM_ARRAY_TASK_ID")),
        ({"RANK": "1", "WORLD_SIZE": "3"}, (1, 3, "RANK/WORLD_SIZE")),
        ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2", "RANK": "2", "WORLD_SIZE": "3"}, (0, 2, "SLURM_ARRAY_TASK_ID")),
    ],
)
def test_shard_defaults_from_the_environment(env: dict[str, str], expected: tuple[int, int, str]) -> None:
    shard = Shard.from_env(env)
    assert (shard.index, shard.count, shard.source) == expected
    assert Shard.parse(" 3 / 10 ") == Shard(3, 10)
    with pytest.raises(ValueError, match="RANK=5 must be < WORLD_SIZE=2"):
        Shard.from_env({"RANK": "5", "WORLD_SIZE": "2"})


def test_slurm_array_tasks_score_their_shards_and_the_parts_merge(tmp_path: Path, monkeypatch) -> None:
    files = _corpus(tmp_path / "corpus", 7)
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "3")
    parts = []
    for task in range(3):
        monkeypatch.setenv("SLURM_ARRAY_TASK_ID", str(task))
        parts.append(tmp_path / f"part{task}.jsonl")
        result = run_cli("score", tmp_path / "corpus", "--jsonl", parts[-1], "--resume")
        assert result.exit_code == 0 and f"shard {task}/3 (from SLURM_ARRAY_TASK_ID)" in result.output
    keys = [r["key"] for part in parts for r in read_jsonl(part)]
    assert sorted(keys) == sorted(file_key(p) for p in files)
    assert [len(read_jsonl(p)) for p in parts] == [3, 2, 2]


# --- workers and packed batches ----------------------------------------------------------------------


def test_two_workers_give_the_scores_of_one(tmp_path: Path, scorer: Scorer) -> None:
    files = _corpus(tmp_path / "corpus", 9, seconds=2.2)
    (tmp_path / "corpus" / "empty.wav").write_bytes(b"")
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.jsonl"
        report = score_to_jsonl(scorer, [tmp_path / "corpus"], out, shard=Shard(), workers=workers, frames=True, embeddings_dir=tmp_path / f"emb{workers}", progress=False)
        assert (report.tally.scored, report.tally.failed) == (9, 1)
        outputs[workers] = {r["key"]: r for r in read_jsonl(out)}
    assert outputs[1].keys() == outputs[2].keys() == {file_key(p) for p in [*files, tmp_path / "corpus" / "empty.wav"]}
    for key, one in outputs[1].items():
        two = outputs[2][key]
        assert (one["error"] is None) == (two["error"] is None)
        if one["error"] is None:
            assert two["score"] == pytest.approx(one["score"], abs=1e-5)
            assert [f["score"] for f in two["frames"]] == pytest.approx([f["score"] for f in one["frames"]], abs=1e-5)
            assert Path(one["embeddings"]).name == Path(two["embeddings"]).name  # named by key: the same in any run
            assert np.allclose(np.load(one["embeddings"]), np.load(two["embeddings"]), atol=1e-5)


def test_packed_batches_on_torch_match_onnx_file_by_file(tmp_path: Path, scorer: Scorer) -> None:
    from sesqa.scoring.default import packaged_checkpoint
    from sesqa.scoring.packed import score_files_packed
    from sesqa.scoring.torch_backend import TorchBackend

    files = _corpus(tmp_path / "corpus", 3, seconds=4.3)
    sf.write(tmp_path / "short.wav", 0.5 * speech_like(0.7, seed=9), SR)  # one zero-padded frame
    sf.write(tmp_path / "silence.wav", np.zeros(2 * SR, np.float32), SR)  # nothing to score
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    paths = [files[0], tmp_path / "bad.wav", files[1], tmp_path / "short.wav", tmp_path / "silence.wav", files[2]]
    reference = list(scorer.score_files(paths))
    torch_scorer = Scorer(TorchBackend.from_checkpoint(packaged_checkpoint(), device="cpu"), batch_size=3)
    packed = list(score_files_packed(torch_scorer, paths, batch_frames=7))  # batches cut across files
    assert [r.source for r in packed] == [str(p) for p in paths]
    for ref, got in zip(reference, packed, strict=True):
        assert isinstance(got, FileError) == isinstance(ref, FileError)
        if isinstance(ref, FileError):
            continue
        assert np.allclose(got.frame_scores, ref.frame_scores, atol=1e-3)
        assert np.array_equal(got.frame_starts_s, ref.frame_starts_s)
        assert got.scored == ref.scored
        if ref.scored:
            assert got.score == pytest.approx(ref.score, abs=1e-3)
    alone = [r.score for r in torch_scorer.score_files(paths) if not isinstance(r, FileError)]
    assert [r.score for r in packed if not isinstance(r, FileError)] == pytest.approx(alone, abs=1e-5, nan_ok=True)
