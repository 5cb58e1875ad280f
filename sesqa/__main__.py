"""`python -m sesqa` is the `sesqa` command."""

from .cli import app

app()
