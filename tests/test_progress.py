"""Progress that fits where stderr goes (a bar on a terminal, plain lines in a log), and --quiet and
--verbose alike on every command, before or after its name."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from tqdm import tqdm

from sesqa.runtime import progress
from sesqa.cli import app
from sesqa.cli.common import Output, OutputCommand, _OUTPUT, log_to_stderr
from sesqa.runtime.progress import LINE_EVERY_PERCENT, LINE_EVERY_S, LineProgress, progress_bar, progress_hidden, setup_logging, track

from .helpers import run_cli

CLIPS = sorted(Path(__file__).resolve().parents[1].joinpath("sesqa", "data", "speech", "ro").glob("*.flac"))[:2]


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class _Clock:
    """A clock the test steps by hand, for LineProgress's pacing."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    c = _Clock()
    monkeypatch.setattr(progress, "_now", c)
    return c


def _log_file(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """stderr as a log file or a pipe: not a terminal (set in the test's body: pytest's capture
    puts its own sys.stderr in place after the fixtures ran)."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


@contextlib.contextmanager
def _bare_root() -> Iterator[logging.Logger]:
    """The root logger with no handler (as in a fresh `sesqa` process) for the block, then put back."""
    root = logging.getLogger()
    saved, saved_level = root.handlers, root.level
    sesqa_level = logging.getLogger("sesqa").level
    root.handlers = []
    try:
        yield root
    finally:
        root.handlers = saved
        root.setLevel(saved_level)
        logging.getLogger("sesqa").setLevel(sesqa_level)


# --- off a terminal: plain lines ------------------------------------------------------------------


def test_off_a_terminal_a_line_at_start_every_few_percent_and_at_the_end(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> None:
    log_file = _log_file(monkeypatch)
    with progress_bar(200, desc="generate", unit="quad") as bar:
        assert isinstance(bar, LineProgress)
        for _ in range(200):
            clock.t += 0.5  # 100 s in all: the percent steps come first
            bar.update(1)
    raw = log_file.getvalue()
    assert "\r" not in raw and "|" not in raw  # no redraws, no bar characters
    lines = raw.splitlines()
    assert lines[0].startswith("generate: 0/200 quad (0 %)")
    steps = [int(m.group(1)) for line in lines[1:-1] if (m := re.search(r"\((\d+) %\)", line))]
    assert steps == list(range(LINE_EVERY_PERCENT, 100, LINE_EVERY_PERCENT))  # one line per step; 100 % is the end line's
    assert all(" left" in line and "quad/s" in line for line in lines[1:-1])
    assert re.fullmatch(r"generate: 200/200 quad \(100 %\) done in \d\d:\d\d, [\d.]+ quad/s", lines[-1]), lines[-1]


def test_a_slow_loop_gets_a_line_every_30_s_between_percent_steps(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> None:
    log_file = _log_file(monkeypatch)
    with progress_bar(10_000, desc="train", unit="step") as bar:
        for _ in range(100):  # 1 % of the total over 100 updates 10 s apart: no percent step
            clock.t += 10.0
            bar.update(1)
    lines = log_file.getvalue().splitlines()
    periodic = lines[1:-1]
    assert len(periodic) == 100 * 10 // LINE_EVERY_S  # 1000 s, a line each 30 s
    assert periodic[0].startswith("train: 3/10000 step (0 %)")


def test_a_fast_loop_does_not_print_twenty_lines_at_once(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> None:
    log_file = _log_file(monkeypatch)
    for _ in track(list(range(40)), desc="index speech", unit="file", leave=False):
        clock.t += 0.01  # 0.4 s in all: under the gap between two lines
    lines = log_file.getvalue().splitlines()
    assert [line.split(",")[0].split(" done")[0] for line in lines] == ["index speech: 0/40 file (0 %)", "index speech: 40/40 file (100 %)"]


def test_without_a_total_lines_come_by_time_only(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> None:
    log_file = _log_file(monkeypatch)
    with progress_bar(None, unit="file") as bar:
        for _ in range(7):
            clock.t += 10.0
            bar.update(1)
    lines = log_file.getvalue().splitlines()
    assert lines[0].startswith("progress: 0 file,") and len(lines) == 1 + 2 + 1  # at 30 s and 60 s
    assert lines[-1].startswith("progress: 7 file done in")


def test_a_loop_left_early_says_where_it_stopped_with_the_postfix(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> None:
    log_file = _log_file(monkeypatch)
    with pytest.raises(KeyboardInterrupt), progress_bar(800, initial=400, desc="train", unit="step") as bar:
        bar.update(3)
        bar.set_postfix({"mos": "0.123"}, refresh=False)
        raise KeyboardInterrupt
    lines = log_file.getvalue().splitlines()
    assert lines[0].startswith("train: 400/800 step (50 %)")  # resumed: counts from where it was
    assert re.fullmatch(r"train: 403/800 step \(50 %\) stopped after \d\d:\d\d, .* (step/s|s/step); mos=0.123", lines[-1]), lines[-1]


def test_log_records_between_lines_stay_whole_lines(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> None:
    log_file = _log_file(monkeypatch)
    with _bare_root():
        setup_logging(logging.INFO)
        with progress_bar(20, desc="generate", unit="quad") as bar:
            for i in range(20):
                clock.t += 2.0
                bar.update(1)
                logging.getLogger("sesqa.test_progress").info("record %d", i)
    lines = log_file.getvalue().splitlines()
    assert [line for line in lines if line.startswith("INFO ")] == [f"INFO sesqa.test_progress: record {i}" for i in range(20)]
    assert all(line.startswith(("INFO sesqa.test_progress: record ", "generate: ")) for line in lines), lines


# --- on a terminal: the bar -----------------------------------------------------------------------


def test_on_a_terminal_a_bar_redrawn_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert progress.stderr_is_terminal()
    with progress_bar(4, desc="generate", unit="quad", mininterval=0, ncols=80) as bar:
        assert type(bar) is tqdm
        bar.update(4)
    raw = terminal.getvalue()
    assert "\r" in raw and "4/4" in raw and "100%|" in raw


def test_quiet_hides_progress_in_either_mode(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> None:
    for stream in (io.StringIO(), _Terminal()):
        monkeypatch.setattr(sys, "stderr", stream)
        with progress_hidden():
            with progress_bar(4, desc="generate", mininterval=0) as bar:
                bar.update(4)
            for _ in track([1, 2], desc="check"):
                pass
        assert stream.getvalue() == ""
    with progress_bar(2, desc="after", mininterval=0) as bar:  # the switch is put back when the block ends
        bar.update(2)
    assert "2/2" in stream.getvalue()


# --- --quiet and --verbose on every command -------------------------------------------------------


def _leaves(command: object) -> Iterator[object]:
    subs = getattr(command, "commands", None)
    if subs is None:
        yield command
        return
    for sub in subs.values():
        yield from _leaves(sub)


def test_every_command_takes_quiet_and_verbose_and_runs_with_them() -> None:
    root = typer.main.get_command(app)
    commands = list(_leaves(root))
    assert len(commands) >= 13
    for command in [root, *commands]:
        flags = {opt for p in command.params for opt in p.opts}
        assert {"--quiet", "-q", "--verbose", "-v"} <= flags, command.name
    assert all(isinstance(c, OutputCommand) for c in commands)
    assert "--quiet" in run_cli("shards", "check", "--help").stdout


def test_score_quiet_before_or_after_the_command_name(tmp_path: Path) -> None:
    plain = run_cli("score", *CLIPS, "--csv", tmp_path / "plain.csv")
    assert plain.exit_code == 0
    assert "\r" not in plain.stderr and re.search(r"^score: 2/2 file \(100 %\) done in", plain.stderr, re.M), plain.stderr
    for i, args in enumerate((("-q", "score", *CLIPS), ("score", *CLIPS, "--quiet"))):
        quiet = run_cli(*args, "--csv", tmp_path / f"q{i}.csv")
        assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == "", args
        assert (tmp_path / f"q{i}.csv").read_text() == (tmp_path / "plain.csv").read_text()
    both = run_cli("-q", "score", *CLIPS, "-v")
    assert both.exit_code == 2 and "--quiet and --verbose" in both.stderr


def test_verbose_logs_sesqas_debug_records(caplog: pytest.LogCaptureFixture) -> None:
    run_cli("score", CLIPS[0], "--quiet")  # the root logger at its default, WARNING
    assert not [r for r in caplog.records if r.levelno == logging.DEBUG]
    for args in (("-v", "score", CLIPS[0]), ("score", CLIPS[0], "--verbose")):
        caplog.clear()
        assert run_cli(*args).exit_code == 0
        assert any(r.levelno == logging.DEBUG and r.name.startswith("sesqa.") for r in caplog.records), args
        assert logging.getLogger("sesqa").level == logging.NOTSET  # put back when the command ends


@pytest.mark.parametrize(
    ("flags", "default", "root", "sesqa"),
    [
        (Output(), logging.WARNING, logging.WARNING, logging.NOTSET),
        (Output(), logging.INFO, logging.INFO, logging.NOTSET),  # train, ablate: their progress is INFO
        (Output(quiet=True), logging.INFO, logging.WARNING, logging.NOTSET),
        (Output(verbose=True), logging.WARNING, logging.INFO, logging.DEBUG),  # others' DEBUG stays out
    ],
)
def test_log_levels(flags: Output, default: int, root: int, sesqa: int) -> None:
    token = _OUTPUT.set(flags)
    try:
        with _bare_root() as logger:
            log_to_stderr(default)
            assert (logger.level, logging.getLogger("sesqa").level) == (root, sesqa)
    finally:
        _OUTPUT.reset(token)
