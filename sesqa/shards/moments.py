"""NaN-aware running mean and standard deviation per measure, mergeable across workers.

They live with the shards because `stats.json` is part of the shard format: the generator
writes it, `shards check` verifies it, the trainer normalises its targets with it, and none
of them needs the metric implementations for that. The model regresses the measures
normalised to zero mean and unit variance with training-set statistics (spec section 5). Each
worker accumulates its own `RunningStats`; merging them (Chan et al.'s parallel update of
count, mean and M2) gives exactly the statistics of all values together, whatever the split.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

SCHEMA = "sesqa.metric_stats/1"


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (M2) of the finite values seen; plus how many were not."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    missing: int = 0
    """NaN, None or infinite values, ignored."""

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Moments:
        raw = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        finite = raw[np.isfinite(raw)]
        missing = int(raw.size - finite.size)
        if finite.size == 0:
            return cls(missing=missing)
        mean = float(finite.mean())
        return cls(int(finite.size), mean, float(np.sum((finite - mean) ** 2)), missing)

    def merge(self, other: Moments) -> Moments:
        """Moments of the union of both samples (Chan, Golub, LeVeque 1979)."""
        n = self.count + other.count
        if n == 0:
            return Moments(missing=self.missing + other.missing)
        delta = other.mean - self.mean
        mean = self.mean + delta * other.count / n
        m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / n
        return Moments(n, mean, m2, self.missing + other.missing)

    @property
    def std(self) -> float:
        """Population standard deviation (ddof = 0); NaN with no values."""
        return math.sqrt(self.m2 / self.count) if self.count else math.nan


class RunningStats:
    """Per-measure Moments; `update` with one pair's values, `merge` with another worker's."""

    def __init__(self, names: Iterable[str], moments: Mapping[str, Moments] | None = None):
        """names: the tracked measures, in order; moments: starting values by name (default empty)."""
        self.names: tuple[str, ...] = tuple(names)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"names must be distinct, got {list(self.names)}")
        self._moments: dict[str, Moments] = {n: Moments() for n in self.names}
        for name, m in (moments or {}).items():
            self._check(name)
            self._moments[name] = m

    def _check(self, name: str) -> None:
        if name not in self._moments:
            raise ValueError(f"name: {name!r} is not one of the tracked measures {list(self.names)}")

    def update(self, values: Mapping[str, float | None]) -> None:
        """Add one pair's values; NaN/None/inf are counted as missing, names not given are untouched."""
        for name, v in values.items():
            self._check(name)
            self._moments[name] = self._moments[name].merge(Moments.of([v]))

    def update_many(self, name: str, values: Iterable[float | None]) -> None:
        """Add many values of one measure at once."""
        self._check(name)
        self._moments[name] = self._moments[name].merge(Moments.of(values))

    def merge(self, other: RunningStats) -> RunningStats:
        """New stats over both samples; both must track the same names."""
        if other.names != self.names:
            raise ValueError(f"other: tracks {list(other.names)}, expected {list(self.names)}")
        return RunningStats(self.names, {n: self._moments[n].merge(other._moments[n]) for n in self.names})

    def moments(self, name: str) -> Moments:
        self._check(name)
        return self._moments[name]

    def mean(self, name: str) -> float:
        m = self.moments(name)
        return m.mean if m.count else math.nan

    def std(self, name: str) -> float:
        return self.moments(name).std

    def normalise(self, values: Mapping[str, float | None], min_std: float = 1e-12) -> dict[str, float]:
        """(v - mean) / std per measure; NaN stays NaN (None becomes NaN)."""
        out = {}
        for name, v in values.items():
            m = self.moments(name)
            if v is None or not m.count:
                out[name] = math.nan
                continue
            out[name] = (float(v) - m.mean) / max(m.std, min_std)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "measures": {
                n: {
                    "count": m.count,
                    "mean": m.mean,
                    "m2": m.m2,
                    "missing": m.missing,
                    "std": m.std if m.count else None,
                }
                for n, m in self._moments.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunningStats:
        """Inverse of to_json; ValueError naming the field when the document is malformed."""
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
            got = data.get("schema") if isinstance(data, Mapping) else type(data).__name__
            raise ValueError(f"data: schema must be {SCHEMA!r}, got {got!r}")
        measures = data.get("measures")
        if not isinstance(measures, Mapping):
            raise ValueError("data['measures'] must be an object of name -> moments")
        moments = {}
        for name, m in measures.items():
            try:
                count, missing = int(m["count"]), int(m["missing"])
                mean, m2 = float(m["mean"]), float(m["m2"])
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"data['measures'][{name!r}]: needs integer count/missing and numeric mean/m2 ({e})") from e
            if count < 0 or missing < 0 or m2 < 0 or not (math.isfinite(mean) and math.isfinite(m2)):
                raise ValueError(f"data['measures'][{name!r}]: count {count}, missing {missing}, mean {mean}, m2 {m2} out of range")
            moments[name] = Moments(count, mean, m2, missing)
        return cls(tuple(measures), moments)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunningStats) and self.names == other.names and self._moments == other._moments

    def __repr__(self) -> str:
        return f"RunningStats({', '.join(f'{n}: n={m.count}' for n, m in self._moments.items())})"
