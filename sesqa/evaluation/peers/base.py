"""What every peer is: the `Peer` shape, its scores on some files, and the error of one not installed.

`score_with_peer` runs any peer over (key, audio path) items; a file it cannot read is listed, not fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class PeerUnavailable(ImportError):
    """A peer's package is not installed; the message says how to install it."""


@dataclass(frozen=True)
class PeerScores:
    """What a peer made of some files: the main score per path, every figure, and failures."""

    name: str
    scores: dict[str, float]
    details: dict[str, dict[str, float]]
    errors: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


class Peer(Protocol):
    """A predictor scored beside sesqa: a name, a description, figure columns and a scorer."""

    name: str
    description: str
    columns: tuple[str, ...]
    main: str

    def score_file(self, path: str | Path) -> dict[str, float]:
        """Every figure of one file; raises AudioError naming the file when it cannot be read."""
        ...


def score_with_peer(peer: Peer, files: Mapping[str, Path] | Iterable[tuple[str, Path]]) -> PeerScores:
    """Score each (key, audio path) with ``peer``; a file that fails is logged and listed, not fatal."""
    from ...audio import AudioError

    items = files.items() if isinstance(files, Mapping) else files
    scores: dict[str, float] = {}
    details: dict[str, dict[str, float]] = {}
    errors: list[tuple[str, str]] = []
    done: dict[Path, dict[str, float] | None] = {}
    for key, path in items:
        file = Path(path).resolve()
        if file not in done:
            try:
                done[file] = peer.score_file(path)
            except AudioError as e:
                done[file] = None
                errors.append((key, str(e)))
                log.warning("%s cannot score %s", peer.name, e)
        figures = done[file]
        if figures is not None:
            details[key] = figures
            scores[key] = figures[peer.main]
    return PeerScores(peer.name, scores, details, tuple(errors))


__all__ = ["Peer", "PeerScores", "PeerUnavailable", "score_with_peer"]
