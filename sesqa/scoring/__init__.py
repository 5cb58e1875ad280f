"""Scoring: the Scorer API, frames of any file (decoded by `sesqa.audio`), compare, output writers.

The sweep (generator plus scorer) and the figures live a layer up, in `sesqa.evaluation`.

The Scorer (and torch with it) loads on first use, so framing starts fast.
"""

_SCORER_NAMES = ("DegradationGuess", "FileError", "ScoreResult", "Scorer")

__all__ = list(_SCORER_NAMES)


def __getattr__(name: str):
    if name in _SCORER_NAMES:
        from . import scorer

        return getattr(scorer, name)
    raise AttributeError(f"module 'sesqa.scoring' has no attribute {name!r}")
