"""matplotlib, loaded on first use with the non-interactive Agg backend: the one way sesqa draws.

Figures are drawn by `sesqa.evaluation.plots` (evaluate, sweep) and `sesqa.view` (score --plot,
report). matplotlib is imported here only when a figure is drawn, so `sesqa --help` and scoring
without figures never pay its start-up time; Agg works on machines without a display.
"""

from __future__ import annotations

from types import ModuleType


class PlotsUnavailable(ImportError):
    """matplotlib cannot be imported; the message says how to install it."""


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend, or PlotsUnavailable saying what to install."""
    try:
        import matplotlib
    except ImportError as e:
        raise PlotsUnavailable(
            f"figures need matplotlib, a dependency of sesqa that is missing here ({e}); "
            "install it with: pip install 'matplotlib>=3.8'"
        ) from e
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt
