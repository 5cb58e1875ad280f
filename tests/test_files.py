"""sesqa.runtime.files: a target is either its old content or the complete new one, and no temporary
file is left behind, whatever fails mid-write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sesqa.runtime.files import PARTIAL_MARK, AtomicFile, atomic_path, atomic_write_bytes, atomic_write_text


class Boom(Exception):
    pass


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_write_text_and_bytes_replace_the_target(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    assert atomic_write_text(target, "new\n") == target
    assert target.read_text() == "new\n"
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o644
    assert leftovers(tmp_path) == []


def test_newline_is_kept_as_given(tmp_path):
    atomic_write_text(tmp_path / "t.csv", "a\r\nb\n", newline="")
    assert (tmp_path / "t.csv").read_bytes() == b"a\r\nb\n"


@pytest.mark.parametrize("old", ["old content", None])
def test_atomic_file_failing_mid_write_keeps_the_old_content(tmp_path, old):
    target = tmp_path / "scores.csv"
    if old is not None:
        target.write_text(old)
    with pytest.raises(Boom):
        with AtomicFile(target) as f:
            f.file.write("half of the ")
            f.file.flush()
            temp = f.tmp
            assert temp.exists() and temp.name.startswith(f".{target.name}{PARTIAL_MARK}{os.getpid()}-")
            assert (target.read_text() if old is not None else None) == old  # not visible yet
            raise Boom
    assert (target.read_text() if target.exists() else None) == old
    assert leftovers(tmp_path) == []


def test_atomic_path_failing_mid_write_keeps_the_old_content(tmp_path):
    target = tmp_path / "model.ckpt"
    target.write_bytes(b"old")
    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".")
            tmp.write_bytes(b"partial")
            raise Boom
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def test_failing_serialiser_leaves_nothing(tmp_path):
    def serialise() -> str:
        raise Boom

    with pytest.raises(Boom):
        atomic_write_text(tmp_path / "x.json", serialise())
    with pytest.raises(Boom):
        with AtomicFile(tmp_path / "y.bin", "wb", fsync=False) as f:
            f.file.write(b"1234")
            raise Boom
    assert list(tmp_path.iterdir()) == []


def test_discard_and_commit_by_hand(tmp_path):
    target = tmp_path / "out.json"
    f = AtomicFile(target)
    f.file.write("{}")
    f.discard()
    assert not target.exists() and leftovers(tmp_path) == []
    f = AtomicFile(target)
    f.file.write("{}")
    f.commit()
    assert target.read_text() == "{}" and leftovers(tmp_path) == []


def test_two_writers_of_one_process_do_not_share_a_temp_file(tmp_path):
    a, b = AtomicFile(tmp_path / "t"), AtomicFile(tmp_path / "t")
    assert a.tmp != b.tmp
    a.file.write("a")
    b.file.write("b")
    a.commit()
    b.commit()
    assert (tmp_path / "t").read_text() == "b" and leftovers(tmp_path) == []


def test_bad_targets_fail_before_any_work(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        AtomicFile(tmp_path)
    with pytest.raises(OSError, match="missing/f.csv: cannot write here"):
        AtomicFile(tmp_path / "missing" / "f.csv")
    with pytest.raises(ValueError, match="mode"):
        AtomicFile(tmp_path / "f", "a")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
