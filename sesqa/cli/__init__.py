"""The `sesqa` command: parse options, then call one function per command.

`common` holds the app; each module below registers its commands on it when imported, in the
order `sesqa --help` lists them: the pipeline's order.
"""

from __future__ import annotations

from . import corpus  # noqa: F401  (registers its commands)
from . import generation  # noqa: F401
from . import training  # noqa: F401
from . import scoring  # noqa: F401
from . import evaluation  # noqa: F401
from .common import app

__all__ = ["app"]
