"""The typer app, its `shards` group, and what every command shares: help strings, logging, the scorer, errors."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from .. import version
from .help import PlainHelpGroup

if TYPE_CHECKING:
    from ..scoring.scorer import Scorer

POOL_HELP = "Degradation pool: paper (the paper's 37), telephony (codecs, packet loss, channels; docs/codecs.md) or all (both; weights in docs/generate.md)."
VERBOSE_HELP = "Log progress details (INFO) to stderr."
MODEL_HELP = "Checkpoint from `sesqa train`, or a packaged model: default (the paper's degradations) or telephony (calls: narrowband codecs, packet loss); docs/model-card.md."

# Plain help (rich_markup_mode=None): Rich markup would eat "[test]"; PlainHelpGroup names the values.
app = typer.Typer(help="sesqa: reference-free speech quality assessment (SESQA).", no_args_is_help=True, add_completion=False, rich_markup_mode=None, cls=PlainHelpGroup)
shards_app = typer.Typer(help="Inspect and verify quadruple shards.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(shards_app, name="shards")


def _print_version(value: bool) -> None:
    """--version: print `sesqa X.Y.Z` and exit 0, before any command runs (an eager option)."""
    if value:
        typer.echo(f"sesqa {version()}")
        raise typer.Exit()


@app.callback()
def _main(show_version: Annotated[bool, typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """sesqa: reference-free speech quality assessment (SESQA)."""


def fail(problem: object, code: int = 2) -> NoReturn:
    """Print `error: PROBLEM` to stderr and exit with `code` (2: bad options or unusable input)."""
    typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(code)


def log_to_stderr(verbose: bool, level: int = logging.WARNING) -> None:
    """Log `level` and up to stderr, one level more (INFO, DEBUG) with --verbose, never glued to a progress bar."""
    from ..progress import setup_logging

    setup_logging(level - 10 if verbose else level)


def model_line(model: Optional[str], scorer: Scorer) -> str:
    """'model: FILE' above a table: stdout sent to a file still says which model made it."""
    from ..scoring.default import packaged_name

    name = packaged_name(model)
    packaged = f" (packaged {name} model, sesqa {version()})" if name is not None else ""
    return f"model: {scorer.backend.source}{packaged}"


def open_scorer_or_exit(model: Optional[str], **options: object):
    """The Scorer for --model (None: the packaged default), or exit 2 naming the problem."""
    from ..scoring.scorer import open_scorer

    try:
        return open_scorer(model, **options)
    except (ValueError, FileNotFoundError) as e:
        fail(e)
