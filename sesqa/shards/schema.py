"""Versioned JSON record of one quadruple, and its validation.

The record is plain data: each degradation step is (type, strength, params dict). Reading it
needs no degradation code; the generator turns params back into typed objects only when it
replays a sample (`AppliedDegradation.from_step`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "sesqa.quadruple/1"
SPLITS = ("train", "valid", "test")
MAX_DELAY_SAMPLES = 4800
MAX_CHAIN_I = 3
"""Steps of chain_i: up to two drawn, after a band-limited source's band limit."""
MAX_CHAIN_J = 4


class ShardError(ValueError):
    """A shard or a record in it is invalid; the message names the shard, the key and the problem."""


@dataclass(frozen=True)
class SourceRef:
    """Where the clean frame came from: enough to read it again."""

    path: str
    dataset: str
    offset_s: float
    duration_s: float
    dc_removed: bool = False
    """The frame's mean was subtracted before it was peak-normalised: a DC offset is inaudible, but
    a degradation that drops it (a high-pass, most codecs) would count it against every reference
    metric. Records written before this field replay without it (absent means False)."""

    def __post_init__(self) -> None:
        if not isinstance(self.dc_removed, bool):
            raise ValueError(f"source.dc_removed must be true or false, got {self.dc_removed!r}")

    def to_json(self) -> dict[str, Any]:
        """The stored object; `dc_removed` only when set, so older records round-trip unchanged."""
        out: dict[str, Any] = {"path": self.path, "dataset": self.dataset, "offset_s": self.offset_s, "duration_s": self.duration_s}
        return {**out, "dc_removed": True} if self.dc_removed else out


@dataclass(frozen=True)
class DegradationStep:
    """One step of a degradation chain as stored: its type name, strength in [0, 1] and params.

    `params` is the JSON form of the degradation's parameters; which names and values are valid
    is the generator's business, checked when it replays the step.
    """

    type: str
    strength: float
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise ValueError(f"type must be a non-empty string, got {self.type!r}")
        if isinstance(self.strength, bool) or not isinstance(self.strength, (int, float)) or not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength of {self.type} must be a number in [0, 1], got {self.strength!r}")
        if not isinstance(self.params, dict):
            raise ValueError(f"params of {self.type} must be an object, got {type(self.params).__name__}")
        object.__setattr__(self, "strength", float(self.strength))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "strength": self.strength, "params": self.params}

    @classmethod
    def from_dict(cls, data: Any) -> "DegradationStep":
        """Validate and parse one stored step; ValueError naming the problem."""
        if not isinstance(data, dict):
            raise ValueError(f"step is {type(data).__name__}, expected an object")
        if missing := [k for k in ("type", "strength", "params") if k not in data]:
            raise ValueError(f"step {data.get('type', '?')!r} lacks {missing}")
        return cls(data["type"], data["strength"], data["params"])


@dataclass(frozen=True)
class QuadrupleRecord:
    """Everything about one quadruple except its audio."""

    key: str
    split: str
    seed: int
    shard: int
    index: int
    sample_rate: int
    frame_samples: int
    delay_samples: int
    source: SourceRef
    chain_i: tuple[DegradationStep, ...]
    chain_j: tuple[DegradationStep, ...]
    """Applied on top of x_i."""
    gain_i: float
    """Decoded 16-bit x_i times gain_i is x_i (gain > 1 when degradation pushed peaks above 1)."""
    gain_j: float
    metrics: dict[str, float | None] = field(default_factory=dict)
    """Reference-based measures on (x_i, x_j), by name; None where undefined."""
    metric_errors: dict[str, str] = field(default_factory=dict)
    """Why a measure is undefined, by name."""

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "key": self.key,
            "split": self.split,
            "seed": self.seed,
            "shard": self.shard,
            "index": self.index,
            "sample_rate": self.sample_rate,
            "frame_samples": self.frame_samples,
            "delay_samples": self.delay_samples,
            "source": self.source.to_json(),
            "chain_i": [d.to_dict() for d in self.chain_i],
            "chain_j": [d.to_dict() for d in self.chain_j],
            "gain_i": self.gain_i,
            "gain_j": self.gain_j,
            "metrics": self.metrics,
            "metric_errors": self.metric_errors,
        }

    @classmethod
    def from_json(cls, data: Any) -> "QuadrupleRecord":
        """Validate and parse a record; raises ShardError naming the problem."""
        if not isinstance(data, dict):
            raise ShardError(f"record is {type(data).__name__}, expected an object")
        if data.get("schema") != SCHEMA:
            raise ShardError(f"schema is {data.get('schema')!r}, this reader reads {SCHEMA!r}")
        try:
            record = cls(
                key=_typed(data, "key", str),
                split=_typed(data, "split", str),
                seed=_typed(data, "seed", int),
                shard=_typed(data, "shard", int),
                index=_typed(data, "index", int),
                sample_rate=_typed(data, "sample_rate", int),
                frame_samples=_typed(data, "frame_samples", int),
                delay_samples=_typed(data, "delay_samples", int),
                source=SourceRef(**_typed(data, "source", dict)),
                chain_i=tuple(_chain(data, "chain_i")),
                chain_j=tuple(_chain(data, "chain_j")),
                gain_i=float(_typed(data, "gain_i", (int, float))),
                gain_j=float(_typed(data, "gain_j", (int, float))),
                metrics={k: (None if v is None else float(v)) for k, v in _typed(data, "metrics", dict).items()},
                metric_errors=dict(_typed(data, "metric_errors", dict)),
            )
        except (TypeError, ValueError) as e:
            raise ShardError(f"record {data.get('key', '?')}: {e}") from e
        record._check()
        return record

    def _check(self) -> None:
        problems = []
        if self.split not in SPLITS:
            problems.append(f"split {self.split!r} not in {SPLITS}")
        if not 0 <= self.delay_samples <= MAX_DELAY_SAMPLES:
            problems.append(f"delay_samples {self.delay_samples} outside [0, {MAX_DELAY_SAMPLES}]")
        if self.frame_samples <= 0:
            problems.append(f"frame_samples {self.frame_samples} <= 0")
        if not 1 <= len(self.chain_j) <= MAX_CHAIN_J or len(self.chain_i) > MAX_CHAIN_I:
            problems.append(f"chain lengths {len(self.chain_i)}/{len(self.chain_j)} outside 0-{MAX_CHAIN_I} / 1-{MAX_CHAIN_J}")
        for g in (self.gain_i, self.gain_j):
            if not (math.isfinite(g) and g >= 1.0):
                problems.append(f"gain {g} is not a finite value >= 1")
        if problems:
            raise ShardError(f"record {self.key}: " + "; ".join(problems))


def _typed(data: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in data:
        raise ValueError(f"missing field {name!r}")
    value = data[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"field {name!r} is {type(value).__name__}, expected {kind}")
    return value


def _chain(data: dict[str, Any], name: str) -> list[DegradationStep]:
    steps = []
    for n, step in enumerate(_typed(data, name, list)):
        try:
            steps.append(DegradationStep.from_dict(step))
        except ValueError as e:
            raise ValueError(f"{name}[{n}]: {e}") from e
    return steps
