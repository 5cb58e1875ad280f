"""Validation of integer-valued parameters (bit depths, counts, window lengths, rates)."""

from __future__ import annotations

import numbers

from .base import check_range


def check_int(name: str, value: object, low: float, high: float) -> None:
    """Raise ValueError naming the parameter unless `value` is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    check_range(name, int(value), low, high)
