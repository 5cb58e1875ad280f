"""sesqa: reference-free speech quality assessment trained semi-supervised (after SESQA, ICASSP 2021)."""

__version__ = "0.1.0"


def version() -> str:
    """The installed distribution's version (importlib.metadata), else this source tree's `__version__`."""
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("sesqa")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return __version__


def __getattr__(name: str):
    """`from sesqa import Scorer` without importing torch for every other use of the package."""
    if name in ("Scorer", "ScoreResult"):
        from . import scoring

        return getattr(scoring, name)
    raise AttributeError(f"module 'sesqa' has no attribute {name!r}")
