"""Progress on stderr that fits where stderr goes, and log lines never glued to it.

On a terminal, progress is a tqdm bar redrawn in place. A bar redraws its line with carriage
returns and no newline, so in a log file or a Slurm output it comes out as hundreds of
fragments (the same 0 % bar fifteen times before the first step). When stderr is not a
terminal, `progress_bar` gives a `LineProgress` instead: the same tqdm object (counts, rate,
postfix), which writes whole plain lines: one at the start, one each time another
`LINE_EVERY_PERCENT` is done (at most one a second) or `LINE_EVERY_S` have passed since the
last (checked at each update), and one at the end with the count, elapsed time and rate.

A tqdm bar and a log record written straight to stderr glue together
(`...total=41.2]INFO sesqa.trainer.loop: validation ...`), so log lines go through
`tqdm.write`, which clears the live bars, prints the line and redraws them below it:

- `setup_logging(level)`: the one logging set-up of the `sesqa` command (a root handler that
  writes through `tqdm.write`), so every bar is safe, whoever made it;
- `progress_bar(...)`: the progress of sesqa (stderr) for use in a `with`; while a terminal bar
  is open, console handlers that a library user configured (`logging.basicConfig`) go through
  `tqdm.write` too; `track(items)` is the same around a loop; `progress_hidden()` silences
  every one of them for a block (the CLI's `--quiet`);
- `queue_logging` / `forward_records`: log records of worker processes, which cannot see the
  parent's bar, sent to the parent and written there.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import math
import queue
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
LINE_EVERY_PERCENT = 5
"""Off a terminal, a progress line each time this much more of the total is done..."""
LINE_EVERY_S = 30.0
"""...or this many seconds have passed since the last line, whichever comes first..."""
LINE_GAP_S = 1.0
"""...but never two lines within this many seconds (a fast loop would print twenty at once)."""
T = TypeVar("T")
_hidden = False  # progress_hidden() sets it for its block: the CLI's --quiet
_now = time.monotonic  # the clock of LineProgress's pacing (a test steps it by hand)


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


def stderr_is_terminal() -> bool:
    """Whether sys.stderr is a terminal (where a bar redrawn in place reads as one line)."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class _Discard:
    """A stream that drops what tqdm would draw: `LineProgress` writes its own lines."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _rate(per_s: float, unit: str) -> str:
    """'36.5 quad/s', or '1.14 s/step' below one per second."""
    if not per_s > 0:
        return f"? {unit}/s"
    return f"{per_s:.1f} {unit}/s" if per_s >= 1 else f"{1 / per_s:.2f} s/{unit}"


class LineProgress(tqdm):
    """A tqdm that writes plain lines to stderr instead of redrawing a bar (for logs, pipes, Slurm).

    tqdm keeps the counts, the smoothed rate and the postfix; `display` (tqdm's hook for other
    front-ends) writes a line at the start, whenever `LINE_EVERY_PERCENT` more is done (at
    most one per `LINE_GAP_S`) or `LINE_EVERY_S` have passed since the last line, and at the
    end (from `close`, also when the loop was left early), and nothing else: no carriage
    return, no bar characters.
    """

    def __init__(self, *args: Any, **options: Any) -> None:
        self._last_line_s = -math.inf
        self._last_step = -1
        self._ended = False
        # every update reaches display(), which decides; tqdm's own pacing would skip some
        options.update(file=_Discard(), mininterval=0, miniters=1, dynamic_ncols=False)
        super().__init__(*args, **options)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if self._ended:
            return True
        if self.disable:  # close() switches the bar off, then displays it one last time
            self._ended = True
            self._write(self._end_line())
            return True
        now = _now()
        step, since = self._step(), now - self._last_line_s
        if self.total and self.n >= self.total:
            return True  # the end line says it, from close()
        if since >= LINE_EVERY_S or (step > self._last_step and since >= LINE_GAP_S):
            self._last_line_s, self._last_step = now, step
            self._write(self._line())
        return True

    def _step(self) -> int:
        """How many LINE_EVERY_PERCENT steps of the total are done (-1 without a total)."""
        if not self.total:
            return -1
        return int(100 * self.n / self.total // LINE_EVERY_PERCENT)

    def _head(self) -> str:
        name = f"{self.desc.rstrip(': ')}: " if self.desc else "progress: "
        count = f"{self.n}/{self.total} {self.unit}" if self.total else f"{self.n} {self.unit}"
        percent = f" ({100 * self.n / self.total:.0f} %)" if self.total else ""
        return name + count + percent

    def _tail(self) -> str:
        return f"; {self.postfix}" if self.postfix else ""

    def _line(self) -> str:
        """'train: 400/800 step (50 %), 03:10 elapsed, 2.1 step/s, ~03:10 left; loss=...'"""
        info = self.format_dict
        elapsed = info["elapsed"]
        text = f"{self._head()}, {self.format_interval(elapsed)} elapsed"
        done = self.n - self.initial
        if done > 0:
            per_s = info["rate"] or done / max(elapsed, 1e-9)
            text += f", {_rate(per_s, self.unit)}"
            if self.total and self.n < self.total:
                text += f", ~{self.format_interval((self.total - self.n) / per_s)} left"
        return text + self._tail()

    def _end_line(self) -> str:
        """'generate: 800/800 quad (100 %) done in 00:21, 36.5 quad/s' (or 'stopped after ...')."""
        elapsed = self.format_dict["elapsed"]
        finished = not self.total or self.n >= self.total
        verb = "done in" if finished else "stopped after"
        per_s = (self.n - self.initial) / elapsed if elapsed > 0 else 0.0
        return f"{self._head()} {verb} {self.format_interval(elapsed)}, {_rate(per_s, self.unit)}" + self._tail()

    @staticmethod
    def _write(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


@contextlib.contextmanager
def progress_bar(total: int | None, *, enabled: bool = True, **options: Any) -> Iterator[tqdm]:
    """Progress on stderr (options as tqdm's: desc, unit, initial, ...); a silent one when not `enabled`.

    A tqdm bar on a terminal; elsewhere a `LineProgress` (plain lines, no carriage returns).
    Within `progress_hidden()` it is silent whatever `enabled` says. Where `setup_logging` was
    not called, the root logger's console handlers (or, with none, a plain one) write through
    `tqdm.write` while a terminal bar is open, so log lines print above it.
    """
    enabled = enabled and not _hidden
    on_terminal = stderr_is_terminal()
    options = {"file": sys.stderr, "dynamic_ncols": True, **options}
    with contextlib.ExitStack() as stack:
        if enabled and on_terminal and not any(isinstance(h, TqdmHandler) for h in logging.getLogger().handlers):
            stack.enter_context(logging_redirect_tqdm())  # it adds a handler: not beside a TqdmHandler (twice)
        bar_class = tqdm if on_terminal or not enabled else LineProgress
        yield stack.enter_context(bar_class(total=total, disable=not enabled, **options))


@contextlib.contextmanager
def progress_hidden(hidden: bool = True) -> Iterator[None]:
    """No progress from `progress_bar` or `track` inside the block (when `hidden`): `--quiet`."""
    global _hidden
    saved, _hidden = _hidden, hidden or _hidden
    try:
        yield
    finally:
        _hidden = saved


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


__all__ = [
    "LINE_EVERY_PERCENT", "LINE_EVERY_S", "LOG_FORMAT", "LineProgress", "TqdmHandler", "forward_records", "progress_bar",
    "progress_hidden", "queue_logging", "setup_logging", "stderr_is_terminal", "track",
]
