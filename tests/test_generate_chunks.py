"""Generation shares work out by chunks of quadruples, not by shard: the same bytes whatever the
worker count, every worker busy on few or uneven shards, no partial shard after a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from sesqa.generator import run
from sesqa.generator.chunks import plan_chunks
from sesqa.generator.run import GenerateConfig, ShardTask, generate

PATTERN = r"clean/(spk\d)/"


def _config(out: Path, corpus: tuple[Path, Path], **kw: object) -> GenerateConfig:
    clean, noise = corpus
    base = dict(out=out, n=23, seed=5, shard_size=7, clean=(clean,), noise=(noise,), speaker_pattern=PATTERN, workers=1, metrics=("si_sdr",), ratios=(3, 1, 1))
    return GenerateConfig(**{**base, **kw})


def test_chunks_cover_every_shard_in_order() -> None:
    tasks = [ShardTask("train", 0, 7), ShardTask("train", 1, 3), ShardTask("test", 0, 1)]
    chunks = plan_chunks(tasks, 3)
    assert [(c.task.name, c.start, c.stop) for c in chunks] == [
        ("train-000000.tar", 0, 3), ("train-000000.tar", 3, 6), ("train-000000.tar", 6, 7),
        ("train-000001.tar", 0, 3), ("test-000000.tar", 0, 1),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="chunk size must be >= 1"):
        plan_chunks(tasks, 0)


def test_chunked_workers_write_the_bytes_of_one_process(tmp_path: Path, small_corpus, monkeypatch) -> None:
    monkeypatch.setattr(run, "CHUNK", 3)  # shards of 7 cut 3 + 3 + 1: chunks finish out of order
    one = generate(_config(tmp_path / "one", small_corpus), progress=False)
    two = generate(_config(tmp_path / "two", small_corpus, workers=2), progress=False)
    assert one.quadruples == two.quadruples == 23 and two.written_shards == one.written_shards
    names = sorted(p.name for p in (tmp_path / "one").glob("*.tar"))
    assert names and names == sorted(p.name for p in (tmp_path / "two").glob("*.tar"))
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    assert not [p for p in (tmp_path / "two").iterdir() if ".partial-" in p.name]


def test_a_failed_chunk_leaves_no_shard_and_no_partial_file(tmp_path: Path) -> None:
    from concurrent.futures import Future

    from sesqa.generator.chunks import ChunkResult, write_chunks

    def submit(chunk):  # the first chunk of the shard is made, the second fails in its worker
        future: Future = Future()
        if chunk.start == 0:
            future.set_result(ChunkResult(chunk))
        else:
            future.set_exception(RuntimeError("worker failed"))
        return future

    task = ShardTask("train", 0, 6)
    with pytest.raises(RuntimeError, match="worker failed"):
        list(write_chunks(submit, [task], tmp_path, window=4, chunk_size=3))
    assert list(tmp_path.iterdir()) == []
    done = list(write_chunks(lambda c: _done(c), [task, ShardTask("test", 0, 2)], tmp_path, window=1, chunk_size=3))
    assert [t.name for t in done] == ["train-000000.tar", "test-000000.tar"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test-000000.tar", "train-000000.tar"]


def _done(chunk):
    from concurrent.futures import Future

    from sesqa.generator.chunks import ChunkResult

    future: Future = Future()
    future.set_result(ChunkResult(chunk))
    return future
