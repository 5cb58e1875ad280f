"""How `sesqa ... --help` reads: plain text, and each value named by what it is.

typer 0.29 renders help through Rich by default, which reads `[plots]` in a help string as markup
and drops it, and it shows Python types: `<bool>` beside every flag, `<str>`, `<int range>`,
`<list[Path]>`, and `{paths}...` in the usage line. The app runs with `rich_markup_mode=None`
(click's plain help: brackets kept, flags without a type) and `PlainHelpGroup` as its group
class, which gives every parameter a metavar once typer has built the commands: arguments their
name in capitals (`PATHS...`), options a word for their value (`CHECKPOINT`, `SECONDS`, the
choices) from `METAVARS`, else one for their type from `TYPE_METAVARS`. A `metavar=` given on an
option wins.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption

METAVARS: dict[str, str] = {
    "model": "CHECKPOINT",
    "init": "CHECKPOINT",
    "hop": "SECONDS",
    "max_seconds": "SECONDS",
    "device": "DEVICE",
    "precision": "fp32|bf16",
    "pool": "paper|telephony|all",
    "model_size": "paper|small|tiny",
    "split": "train|valid|test",
    "dtype": "fp16|bf16|fp32",
    "peer": "dnsmos|distillmos",
    "shard_range": "A:B",
    "ratios": "TRAIN,VALID,TEST",
    "metrics": "all|none|NAMES",
    "types": "TYPES",
    "strengths": "LIST",
    "without": "LOSSES",
    "speaker_pattern": "REGEX",
    "pred_column": "COLUMN",
    "kfold": "K",
}
"""Option metavars by parameter name, where the name means the same in every command."""

TYPE_METAVARS: dict[Any, str] = {Path: "PATH", int: "N", float: "NUMBER", str: "TEXT"}
"""Option metavars by value type, for the options `METAVARS` does not name."""


class PlainArgument(TyperArgument):
    """An argument shown by its metavar alone: `PATHS...` in the usage line and its help row."""

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        return [self.metavar if self.required else f"[{self.metavar}]"]

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _value_type(param: TyperOption) -> Any:
    """The type of one value of `param` (Path for list[Path])."""
    annotation = param.type_descriptor.annotation
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation


def give_metavars(command: Any) -> None:
    """Give every parameter of `command`, and of its subcommands, a metavar where it has none."""
    for sub in getattr(command, "commands", {}).values():
        give_metavars(sub)
    for param in command.params:
        if isinstance(param, TyperArgument):
            param.__class__ = PlainArgument  # same fields; only how it is shown changes
            if param.metavar is None:
                param.metavar = param.name.upper() + ("..." if param.nargs != 1 else "")
        elif isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
            param.metavar = METAVARS.get(param.name) or TYPE_METAVARS.get(_value_type(param), "VALUE")


class PlainHelpGroup(TyperGroup):
    """The app's group: once typer has built the commands, `give_metavars` to all of them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context_settings.setdefault("max_content_width", 120)  # click's 80 cuts command summaries short
        give_metavars(self)


__all__ = ["METAVARS", "TYPE_METAVARS", "PlainArgument", "PlainHelpGroup", "give_metavars"]
