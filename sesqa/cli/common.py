"""The typer app, its `shards` group, and what every command shares: help strings, logging, the scorer, errors.

`--quiet` and `--verbose` are declared once, here, for every command: `SesqaGroup` adds them to
the app, each group and each command once typer has built them, so `sesqa -q score X` and
`sesqa score X -q` mean the same; before each command runs (`OutputCommand`), logging is set up
and, under `--quiet`, every progress display is switched off. A command reads them with `output()`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from .. import version
from .help import PlainHelpGroup

if TYPE_CHECKING:
    from ..scoring.scorer import Scorer

POOL_HELP = "Degradation pool: paper (the paper's 37), telephony (codecs, packet loss, channels; docs/codecs.md) or all (both; weights in docs/generate.md)."
QUIET_HELP = "Only warnings and errors on stderr: no progress, no summary (score: no table either). Before or after the command's name."
VERBOSE_HELP = "Debug logging on stderr: sesqa's DEBUG records, other libraries' INFO. Before or after the command's name."
MODEL_HELP = "Checkpoint from `sesqa train`, or the packaged model: default (the paper's degradations and calls: narrowband codecs, packet loss, phone bands); docs/model-card.md."



@dataclass(frozen=True)
class Output:
    """What --quiet and --verbose asked for, wherever on the command line they were given."""

    quiet: bool = False
    verbose: bool = False


_OUTPUT: ContextVar[Output] = ContextVar("sesqa_output", default=Output())


def output() -> Output:
    """The running command's --quiet and --verbose (both off outside a command)."""
    return _OUTPUT.get()


def _remember(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> bool:
    """Option callback: keep a flag given at any level (ctx.meta is shared by the app's and the command's contexts)."""
    if value:
        ctx.meta[f"sesqa.{param.name}"] = True
    return value


def _output_flags(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP, callback=_remember, expose_value=False)] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP, callback=_remember, expose_value=False)] = False,
) -> None:
    """Never run: typer builds --quiet and --verbose from it once, and `add_output_options` copies them onto every command."""


class OutputCommand(TyperCommand):
    """A command that runs with logging set up (`log_to_stderr`) and, under --quiet, no progress display."""

    def invoke(self, ctx: typer.Context) -> Any:
        from ..runtime.progress import progress_hidden

        flags = Output(quiet=bool(ctx.meta.get("sesqa.quiet")), verbose=bool(ctx.meta.get("sesqa.verbose")))
        if flags.quiet and flags.verbose:
            fail("--quiet and --verbose ask for opposite things: give one of them")
        token, sesqa_level = _OUTPUT.set(flags), logging.getLogger("sesqa").level
        try:
            log_to_stderr()
            with progress_hidden(flags.quiet):
                return super().invoke(ctx)
        finally:  # a command run in-process (tests, an embedding app) leaves no DEBUG behind
            _OUTPUT.reset(token)
            logging.getLogger("sesqa").setLevel(sesqa_level)


def add_output_options(command: TyperCommand | TyperGroup) -> None:
    """--quiet and --verbose on `command` and on everything under it; each command becomes an `OutputCommand`."""
    if taken := [opt for p in command.params for opt in p.opts if opt in ("--quiet", "-q", "--verbose", "-v")]:
        raise ValueError(f"command {command.name!r} declares {', '.join(taken)} itself: every command has them from cli/common.py (read them with output())")
    flags = typer.Typer(add_completion=False)
    flags.command()(_output_flags)
    command.params.extend(typer.main.get_command(flags).params)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            add_output_options(sub)
    else:
        command.__class__ = OutputCommand  # same fields; only invoke() gains the set-up (as help.py does for arguments)


class SesqaGroup(PlainHelpGroup):
    """The app's group: plain help (`PlainHelpGroup`), and --quiet/--verbose on every command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_output_options(self)


# Plain help (rich_markup_mode=None): Rich markup would eat "[test]"; PlainHelpGroup names the values.
app = typer.Typer(help="sesqa: reference-free speech quality assessment (SESQA).", no_args_is_help=True, add_completion=False, rich_markup_mode=None, cls=SesqaGroup)
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


LOSS_WEIGHT_HELP = "Weights of losses in the step's sum, e.g. dt=0.1,mr=0.2 (the others weigh 1, as in the paper; logged losses stay unweighted)."


def parse_loss_weights(text: str) -> tuple[tuple[str, float], ...]:
    """"dt=0.1,mr=0.2" -> (("dt", 0.1), ("mr", 0.2)); ValueError naming the item that is not NAME=NUMBER."""
    pairs = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            pairs.append((name.strip().lower().removeprefix("l_"), float(value)))
        except ValueError:
            raise ValueError(f"--loss-weight: {item!r} is not NAME=NUMBER (e.g. dt=0.1)") from None
    return tuple(pairs)


def exit_paused(paused: Exception, how: str) -> NoReturn:
    """A training run was paused (`sesqa.trainer.TrainingPaused`): say so and how to go on, exit 75."""
    from ..runtime.pause import PAUSED_EXIT

    typer.echo(f"{paused}; {how}", err=True)
    raise typer.Exit(PAUSED_EXIT)


def fail(problem: object, code: int = 2) -> NoReturn:
    """Print `error: PROBLEM` to stderr and exit with `code` (2: bad options or unusable input)."""
    typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(code)


def log_to_stderr(level: int = logging.WARNING) -> None:
    """Log `level` (the command's default) and up to stderr, never glued to a progress bar.

    Every command runs with WARNING (`_with_output`); train and ablate call it again with INFO,
    their progress. --quiet keeps WARNING; --verbose logs sesqa's DEBUG records and the INFO of
    other libraries (their DEBUG, matplotlib's font search for one, would bury sesqa's).
    """
    from ..runtime.progress import setup_logging

    flags = output()
    if flags.quiet:
        level = logging.WARNING
    elif flags.verbose:
        level = min(level, logging.INFO)
    setup_logging(level)
    logging.getLogger("sesqa").setLevel(logging.DEBUG if flags.verbose else logging.NOTSET)


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
