"""What a new user meets first: --version, help that reads cleanly, log lines apart from progress
bars, tables that say which model made them and whose columns line up (issue 16)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import logging
import queue
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import typer.main
from tqdm import tqdm
from typer.testing import CliRunner

import sesqa
from sesqa.cli import app
from sesqa.runtime.progress import TqdmHandler, forward_records, progress_bar, queue_logging, setup_logging

from .helpers import SR, run_cli, speech_like

REPO = Path(__file__).resolve().parents[1]


def _commands(command=None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """(argv prefix, click command) for the app, every command and every subcommand of a group."""
    command = command or typer.main.get_command(app)
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _squeezed(text: str) -> str:
    """`text` without whitespace: help is rewrapped to the terminal, tokens may span lines."""
    return "".join(text.split())


COMMANDS = [path for path, _ in _commands()]


# --- 1. --version ----------------------------------------------------------------------------------


def test_version_option_prints_the_installed_version() -> None:
    expected = f"sesqa {importlib.metadata.version('sesqa')}"
    for flag in ("--version", "-V"):
        result = CliRunner().invoke(app, [flag])
        assert result.exit_code == 0 and result.stdout.strip() == expected, result.output
    proc = subprocess.run([sys.executable, "-m", "sesqa", "--version"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == expected, proc.stderr


def test_source_and_package_versions_agree() -> None:
    """sesqa.__version__ (the fallback of an uninstalled tree) is the version pyproject.toml declares."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert sesqa.__version__ == declared
    assert sesqa.version() == importlib.metadata.version("sesqa")


# --- 2.-4. help text -------------------------------------------------------------------------------


BRACKETED = re.compile(r"\[[^\[\]]*\]")


def test_bracketed_words_in_help_survive() -> None:
    """Every [...] in a command's or a parameter's help shows in --help (Rich markup ate `[plots]`)."""
    checked = 0
    for path, command in _commands():
        shown = _squeezed(_help(path))
        texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
        for token in (t for text in texts for t in BRACKETED.findall(text)):
            assert _squeezed(token) in shown, f"sesqa {' '.join(path)} --help lost {token!r}"
            checked += 1
    assert checked, "no help has a bracketed word any more: the check below still covers the mechanism"


@pytest.mark.parametrize("path", [p for p in COMMANDS if p], ids=" ".join)
def test_a_letter_led_bracket_survives_in_any_command(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    """The mechanism, whatever today's strings say: `[plots]` is markup to Rich and vanished."""
    group = typer.main.get_command(app)
    command = group
    for name in path:
        command = command.commands[name]
    command.help = (command.help or "") + " Needs sesqa[plots] and [bold]."
    for param in command.params:  # the built command is this test's own: the app is untouched
        param.help = (param.help or "") + " [opt]"
    assert group.main([*path, "--help"], prog_name="sesqa", standalone_mode=False) == 0
    shown = _squeezed(capsys.readouterr().out)
    assert "sesqa[plots]" in shown and "[bold]" in shown
    assert shown.count("[opt]") == len(command.params)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "sesqa")
def test_help_names_values_not_python_types(path: tuple[str, ...]) -> None:
    """Flags without a metavar, arguments in capitals, options with a word for their value."""
    text = _help(path)
    for python_type in ("<bool>", "<str>", "<int", "<float", "<path", "<list[", "<Path", "range>"):
        assert python_type not in text, f"sesqa {' '.join(path)} --help shows {python_type}"
    command = dict(_commands())[path]
    usage = text.splitlines()[0]
    for param in command.params:
        if param.param_type_name == "argument":
            assert f"{{{param.name}}}" not in text and param.name.upper() in usage, usage
        elif not param.is_flag:
            metavar = param.metavar or ""
            assert metavar and not metavar.startswith("<"), f"{param.opts} has no metavar"
            assert f"{max(param.opts, key=len)} {metavar}" in text


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "sesqa")
def test_every_parameter_has_help(path: tuple[str, ...]) -> None:
    command = dict(_commands())[path]
    missing = [p.opts[0] for p in command.params if not (getattr(p, "help", None) or "").strip()]
    assert not missing, f"sesqa {' '.join(path)}: no help for {missing}"


def test_train_precision_help_says_what_bf16_does_on_cpu() -> None:
    from sesqa.runtime.device import resolve_precision

    text = _squeezed(_help(("train",)))
    for claim in ("--precision auto|fp32|bf16", "CPUs with AVX512-BF16 or AMX", "CPUs without native bf16 included"):
        assert _squeezed(claim) in text
    import torch

    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"  # what the help says: bf16 as asked on any CPU


# --- 6. log lines and progress bars ----------------------------------------------------------------


def _visible_lines(raw: str) -> list[str]:
    """What a terminal shows of `raw`: per line, later text after a carriage return overwrites earlier."""
    lines = []
    for line in raw.split("\n"):
        shown: list[str] = []
        for part in line.split("\r"):
            shown[: len(part)] = part
        lines.append("".join(shown).rstrip())
    return lines


def _glued(raw: str) -> list[str]:
    """Lines that show a bar fragment and a log record together."""
    return [line for line in _visible_lines(raw) if re.search(r"it/s\]|s/it\]|step/s\]|\d+%\|", line) and "INFO " in line]


@contextlib.contextmanager
def _root_logging(*handlers: logging.Handler, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """The root logger with only `handlers` for the block; its own handler list and level put back
    before the test ends (pytest adds and removes its capture handlers on that list per phase)."""
    root = logging.getLogger()
    saved, saved_level = root.handlers, root.level
    root.handlers = list(handlers)
    root.setLevel(level)
    try:
        yield root
    finally:
        root.handlers = saved
        root.setLevel(saved_level)


def _console_handler() -> logging.Handler:
    """A console handler as logging.basicConfig makes one (on the current sys.stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    return handler


def _log_under_bar(make_bar: Callable[[], Any], stream: io.StringIO) -> str:
    """Six INFO records, each while the bar made by `make_bar` is drawn; what reached `stream`."""
    log = logging.getLogger("sesqa.test_polish")
    with make_bar() as bar:
        for step in range(6):
            bar.update(1)
            bar.refresh()
            log.info("validation at step %d: E_TOTAL 0.1", step)
    return stream.getvalue()


def test_the_glue_detector_sees_glued_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: a plain stderr handler under a plain bar does glue (the bug), and `_glued` says so."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with _root_logging(_console_handler()):
        raw = _log_under_bar(lambda: tqdm(total=6, file=sys.stderr, mininterval=0, ncols=80), stream)
    assert _glued(raw)


@pytest.mark.parametrize("bar", ["sesqa", "bare"])
def test_cli_logging_keeps_log_lines_off_any_bar(bar: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """setup_logging (what every command calls): under sesqa's bars and bare tqdm ones (shards check,
    corpus index) alike, each log line once, on its own line."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    make_bar = {
        "sesqa": lambda: progress_bar(6, mininterval=0, ncols=80),
        "bare": lambda: tqdm(total=6, file=sys.stderr, mininterval=0, ncols=80),
    }[bar]
    with _root_logging(level=logging.WARNING) as root:
        setup_logging(logging.INFO)
        setup_logging(logging.INFO)  # a second command in the same process adds no second handler
        assert [type(h) for h in root.handlers] == [TqdmHandler] and root.level == logging.INFO
        raw = _log_under_bar(make_bar, stream)
    assert raw.count("INFO sesqa.test_polish: validation at step") == 6
    assert not _glued(raw), _visible_lines(raw)
    configured = _console_handler()
    with _root_logging(configured, level=logging.ERROR) as root:
        setup_logging(logging.DEBUG)  # like logging.basicConfig: someone else's set-up is left alone
        assert root.handlers == [configured] and root.level == logging.ERROR


def test_progress_bar_keeps_a_library_users_log_lines_off_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the CLI's set-up (logging.basicConfig in a script), sesqa's own bars still print log lines apart."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    handler = _console_handler()
    with _root_logging(handler) as root:
        raw = _log_under_bar(lambda: progress_bar(6, mininterval=0, ncols=80), stream)
        assert root.handlers == [handler]  # put back when the bar closes
        with progress_bar(3, enabled=False) as bar:  # a disabled bar takes the same calls and prints nothing
            bar.update(3)
    assert raw.count("INFO sesqa.test_polish") == 6 and not _glued(raw), _visible_lines(raw)
    assert stream.getvalue() == raw


def test_worker_records_are_written_by_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """A generate worker's records travel to the parent, which writes them above its bar."""
    records: queue.Queue[logging.LogRecord] = queue.Queue()
    with _root_logging():
        queue_logging(records, logging.WARNING)  # as a worker process does at start
        logging.getLogger("sesqa.generator.sources").warning("skipping %s: %s", "bad.wav", "truncated")
        logging.getLogger("sesqa.generator.sources").info("not sent: below the worker's level")
    assert records.qsize() == 1
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with _root_logging(level=logging.WARNING):
        setup_logging(logging.INFO)
        with progress_bar(4, mininterval=0, ncols=80) as bar:
            bar.update(2)
            assert forward_records(records) == 1
    assert _visible_lines(stream.getvalue()).count("WARNING sesqa.generator.sources: skipping bad.wav: truncated") == 1


# --- 7. validation figures named as in the docs ----------------------------------------------------


def test_validation_log_line_says_e_total(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from sesqa.trainer import loop
    from sesqa.trainer.validate import current_keys, format_figures

    monkeypatch.setattr(loop, "validate", lambda *a, **k: {"r_rank": 0.1, "l_cons": 0.05, "e_total": 0.15})
    saved: list[str] = []
    run = SimpleNamespace(
        placement=SimpleNamespace(is_main=True, distributed=False), model=None, config=None, vocab=(), metric_names=(),
        stats=None, valid_mos=None, unreadable_mos=set(), device=None, step=80, last_valid={}, _save=lambda name, main_only=False: saved.append(name),
        best=current_keys({"e_gen": 0.12, "r_rank": 0.07, "l_cons": 0.05}),  # a checkpoint from before the rename
    )
    with caplog.at_level(logging.INFO, logger="sesqa.trainer.loop"):
        loop._Run._validate(run, None)
    line = next(r.getMessage() for r in caplog.records if "validation at step 80" in r.getMessage())
    assert line == "validation at step 80: R_RANK 0.1000, L_CONS 0.0500, E_TOTAL 0.1500 (R_RANK + L_CONS: no MOS data)"
    assert "e_gen" not in line
    assert saved == []  # 0.15 is worse than the older run's 0.12: compared under one name, best.ckpt is kept
    run.best = current_keys({"e_gen": 0.2})
    loop._Run._validate(run, None)
    assert saved == ["best.ckpt"] and run.best["e_total"] == 0.15
    with_mos = format_figures({"r_rank": 0.1, "l_cons": 0.05, "l_mos": 0.4, "e_total": 0.35})
    assert with_mos == "R_RANK 0.1000, L_CONS 0.0500, L_MOS 0.4000, E_TOTAL 0.3500"


def test_validation_names_an_unreadable_mos_file_once(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Validation runs many times in a run: a bad MOS file is warned about once, then skipped quietly."""
    from sesqa.audio import AudioError
    from sesqa.trainer import validate

    class Stub:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def score(self, path: Path) -> SimpleNamespace:
            if path.name == "bad.wav":
                raise AudioError(f"{path}: not a RIFF file")
            return SimpleNamespace(score=3.5)

    monkeypatch.setattr(validate, "Scorer", Stub)
    paths = [Path("good.wav"), Path("bad.wav")]
    warned: set[str] = set()
    with caplog.at_level(logging.DEBUG, logger="sesqa.trainer.validate"):
        for _ in range(3):
            scores = validate.file_scores(None, paths, "cpu", warned)
            assert scores[0] == 3.5 and np.isnan(scores[1])
    skips = [r for r in caplog.records if "validation skips bad.wav: not a RIFF file" in r.getMessage()]
    assert [r.levelno for r in skips] == [logging.WARNING, logging.DEBUG, logging.DEBUG]


def test_train_summary_line_uses_the_docs_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sesqa.trainer

    last_valid = {"r_rank": 0.1, "l_cons": 0.05, "e_total": 0.15}
    monkeypatch.setattr(sesqa.trainer, "TrainConfig", lambda **kwargs: kwargs)
    monkeypatch.setattr(sesqa.trainer, "train", lambda config, resume: SimpleNamespace(steps=80, last_valid=last_valid, out=config["out"]))
    result = run_cli("train", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    figures = "R_RANK 0.1000, L_CONS 0.0500, E_TOTAL 0.1500 (R_RANK + L_CONS: no MOS data)"
    assert f"80 steps; validation: {figures}; checkpoints in {tmp_path / 'run'}" in result.stdout


# --- 8. the table names its model ------------------------------------------------------------------


def test_score_table_names_the_model(tmp_path: Path, ckpt: Path) -> None:
    """CliRunner's stdout is no terminal: like `sesqa score ... > scores.txt`, the text must say which model."""
    wav = tmp_path / "a.wav"
    sf.write(wav, 0.5 * speech_like(1.5, seed=2), SR)
    result = run_cli("score", wav, "--model", ckpt)
    assert result.exit_code == 0, result.output
    assert f"model: {ckpt}" in result.stdout.splitlines()[0]
    default = run_cli("score", wav)
    assert default.exit_code == 0, default.output
    first = default.stdout.splitlines()[0]
    assert first.startswith("model: ") and first.endswith(f"default.onnx (packaged default model, sesqa {sesqa.version()})")


def test_sweep_table_names_the_model(tmp_path: Path, ckpt: Path) -> None:
    """The quickstart's two sweep tables, redirected to a file, each say which model made them."""
    clip = tmp_path / "clip.wav"
    sf.write(clip, 0.5 * speech_like(1.5, seed=3), SR)
    result = run_cli("sweep", clip, "--model", ckpt, "--types", "low_pass", "--strengths", "0.5", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"model: {ckpt}"


# --- 9. `sesqa metrics` --------------------------------------------------------------------------


def test_metrics_table_columns_line_up() -> None:
    result = CliRunner().invoke(app, ["metrics"])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.rstrip("\n").splitlines()
    assert len(rows) == 11
    starts = [header.index(name) for name in ("unit", "better", "reference")]
    for row in rows:
        for start in starts:
            assert row[start - 2 : start] == "  " and row[start] != " ", f"misaligned at {start}: {row!r}"
    assert {row[starts[1] :].split()[0] for row in rows} == {"higher", "lower"}
