"""Progress bars and log lines on one stderr, never glued together.

A tqdm bar redraws its line in place without a newline, so a log record written straight to
stderr lands at the end of the bar (`...total=41.2]INFO sesqa.trainer.loop: validation ...`).
Everything here writes log lines through `tqdm.write`, which clears the live bars, prints the
line and redraws them below it:

- `setup_logging(level)`: the one logging set-up of the `sesqa` command (a root handler that
  writes through `tqdm.write`), so every bar is safe, whoever made it;
- `progress_bar(...)`: the bars of sesqa (stderr, terminal-wide) for use in a `with`; while open,
  console handlers that a library user configured (`logging.basicConfig`) go through
  `tqdm.write` too; `track(items)` is the same bar around a loop;
- `queue_logging` / `forward_records`: log records of worker processes, which cannot see the
  parent's bar, sent to the parent and written there.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import queue
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
T = TypeVar("T")


class TqdmHandler(logging.Handler):
    """Writes each record to the current sys.stderr through `tqdm.write` (bars cleared, then redrawn).

    Not a StreamHandler on purpose: `logging_redirect_tqdm` leaves it alone, and it looks up
    sys.stderr at each record, so a redirected stderr (tests, CliRunner) gets the lines.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except RecursionError:
            raise
        except Exception:  # what logging.StreamHandler does: report, never raise into the caller
            self.handleError(record)


def setup_logging(level: int, fmt: str = LOG_FORMAT) -> None:
    """Root logging at `level` to stderr through `tqdm.write`: the CLI's `logging.basicConfig`.

    Like basicConfig, it leaves a root logger that something else configured (an application
    embedding sesqa, pytest) as it is; called again, it only changes the level.
    """
    root = logging.getLogger()
    if any(isinstance(h, TqdmHandler) for h in root.handlers):
        root.setLevel(level)
        return
    if root.handlers:
        return
    handler = TqdmHandler()
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)


@contextlib.contextmanager
def progress_bar(total: int | None, *, enabled: bool = True, **options: Any) -> Iterator[tqdm]:
    """A tqdm bar on stderr (options as tqdm's: desc, unit, initial, ...); a silent one when not `enabled`.

    Where `setup_logging` was not called, the root logger's console handlers (or, with none,
    a plain one) write through `tqdm.write` while it is open, so log lines print above the bar.
    """
    options = {"file": sys.stderr, "dynamic_ncols": True, **options}
    with contextlib.ExitStack() as stack:
        if enabled and not any(isinstance(h, TqdmHandler) for h in logging.getLogger().handlers):
            stack.enter_context(logging_redirect_tqdm())  # it adds a handler: not beside a TqdmHandler (twice)
        yield stack.enter_context(tqdm(total=total, disable=not enabled, **options))


def track(items: Sequence[T], *, enabled: bool = True, **options: Any) -> Iterator[T]:
    """Each of `items` in turn, under a `progress_bar` that ticks once per item."""
    with progress_bar(len(items), enabled=enabled, **options) as bar:
        for item in items:
            yield item
            bar.update()


def queue_logging(records: Any, level: int) -> None:
    """In a worker process: send every log record at `level` or above to `records` (a queue)."""
    root = logging.getLogger()
    root.handlers = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)


def forward_records(records: Any) -> int:
    """In the parent: hand each record waiting in `records` to its logger here; returns how many."""
    n = 0
    while True:
        try:
            record = records.get_nowait()
        except queue.Empty:
            return n
        logging.getLogger(record.name).handle(record)
        n += 1


__all__ = ["LOG_FORMAT", "TqdmHandler", "forward_records", "progress_bar", "queue_logging", "setup_logging", "track"]
