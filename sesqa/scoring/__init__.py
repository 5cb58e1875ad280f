"""Scoring: the Scorer API, streaming frames of any file, compare and sweep.

The Scorer (and torch with it) loads on first use, so framing starts fast.
"""

_SCORER_NAMES = ("DegradationGuess", "FileError", "ScoreResult", "Scorer")

__all__ = list(_SCORER_NAMES)


def __getattr__(name: str):
    if name in _SCORER_NAMES:
        from . import scorer

        return getattr(scorer, name)
    raise AttributeError(f"module 'sesqa.scoring' has no attribute {name!r}")
