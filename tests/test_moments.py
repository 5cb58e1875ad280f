"""The normalisation statistics of the metric targets (`sesqa.shards.moments`): merging, JSON, checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sesqa.generator.metrics import METRIC_NAMES
from sesqa.shards.moments import Moments, RunningStats


def test_running_stats_merge_equals_stats_of_the_concatenation():
    rng = np.random.default_rng(12)
    names = ("a", "b")
    chunks = [rng.normal(3.0, 2.0, size=(n, 2)) for n in (5, 17, 1, 40)]
    chunks[1][3, 0] = np.nan
    chunks[2][0, 1] = np.nan
    workers = []
    for chunk in chunks:
        stats = RunningStats(names)
        for row in chunk:
            stats.update({"a": row[0], "b": None if math.isnan(row[1]) else row[1]})
        workers.append(stats)
    merged = workers[0]
    for w in workers[1:]:
        merged = merged.merge(w)
    everything = np.concatenate(chunks)
    for j, name in enumerate(names):
        column = everything[:, j]
        finite = column[np.isfinite(column)]
        assert merged.moments(name).count == finite.size
        assert merged.moments(name).missing == 1
        assert merged.mean(name) == pytest.approx(finite.mean(), rel=1e-12)
        assert merged.std(name) == pytest.approx(finite.std(), rel=1e-12)
    # merging in another order gives the same numbers
    other = workers[3].merge(workers[1]).merge(workers[0].merge(workers[2]))
    for name in names:
        assert other.mean(name) == pytest.approx(merged.mean(name), rel=1e-12)
        assert other.std(name) == pytest.approx(merged.std(name), rel=1e-12)


def test_running_stats_json_round_trip_and_normalise():
    stats = RunningStats(METRIC_NAMES)
    assert stats.names == METRIC_NAMES
    stats.update_many("pesq", [1.0, 2.0, 3.0, float("nan")])
    stats.update({"stoi": 0.5})
    restored = RunningStats.from_json(json.loads(json.dumps(stats.to_json())))
    assert restored == stats
    z = restored.normalise({"pesq": 3.0, "stoi": float("nan"), "wss": 1.0})
    assert z["pesq"] == pytest.approx(1.0 / math.sqrt(2.0 / 3.0))
    assert math.isnan(z["stoi"]) and math.isnan(z["wss"])
    assert math.isnan(stats.std("wss"))


def test_running_stats_rejects_bad_documents_and_names():
    with pytest.raises(ValueError, match="schema"):
        RunningStats.from_json({"schema": "other"})
    with pytest.raises(ValueError, match="count"):
        RunningStats.from_json({"schema": "sesqa.metric_stats/1", "measures": {"pesq": {"count": "x"}}})
    with pytest.raises(ValueError, match="not one of the tracked"):
        RunningStats(("a",)).update({"b": 1.0})
    with pytest.raises(ValueError, match="other: tracks"):
        RunningStats(("a",)).merge(RunningStats(("b",)))
    assert Moments.of([]).merge(Moments.of([float("inf")])).missing == 1
