"""Pausing a training run: SIGTERM or Ctrl-C asks the loop to write last.ckpt and stop.

Here rather than in `trainer/`, which loads torch, so that every command can name the exception.

`train` then raises `TrainingPaused`, so no caller (a k-fold fold, an ablation row) goes on with
a model that is not done; the commands turn it into exit status 75 and a line saying how to go on.

The loop looks at the request only at its log steps, and in a distributed run takes rank 0's
answer there, so every rank stops after the same step and the checkpoint's collective gather
still meets all ranks. `sesqa train --resume` then continues exactly where the pause left it.
A second signal while a pause is pending stops at once, as the signal normally would.

The data-loading workers run in a process group of their own (`detach_worker`): a signal sent to
the whole group (Ctrl-C at a terminal, `timeout`, `kill -- -PGID`) then reaches the main process
only. Otherwise torch's own SIGTERM handler would end a worker, failing the batch the pause waits
for. torch still ends its workers with SIGTERM itself, and a worker whose parent is gone exits.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)
PAUSED_EXIT = 75
"""Exit status of a command whose training was paused (EX_TEMPFAIL: run it again to go on)."""


def detach_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: the worker leaves the main process's group, so signals sent
    to that group (a pause request) reach the main process and not the worker."""
    if hasattr(os, "setpgid"):  # POSIX; elsewhere there are no process groups to leave
        os.setpgid(0, 0)


class TrainingPaused(Exception):
    """The run in `out` stopped at `step` of `total_steps` on request, its last.ckpt written."""

    def __init__(self, out: Path, step: int, total_steps: int) -> None:
        super().__init__(f"paused at step {step} of {total_steps}: {Path(out) / 'last.ckpt'}")
        self.out, self.step, self.total_steps = Path(out), step, total_steps


class PauseRequest:
    """Installs the handlers on enter (main thread only), restores the previous ones on exit."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> PauseRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            previous = self._previous.get(signum)
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
            signal.raise_signal(signum)
            return
        self.requested = True
        log.warning("%s: pausing at the next log step (last.ckpt, then stop; continue with --resume); send it again to stop now",
                    signal.Signals(signum).name)
