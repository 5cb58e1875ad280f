"""Pausing a training run: SIGTERM or Ctrl-C asks the loop to write last.ckpt and stop.

The loop looks at the request only at its log steps, and in a distributed run takes rank 0's
answer there, so every rank stops after the same step and the checkpoint's collective gather
still meets all ranks. `sesqa train --resume` then continues exactly where the pause left it.
A second signal while a pause is pending stops at once, as the signal normally would.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


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
