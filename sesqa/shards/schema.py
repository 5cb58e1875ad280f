"""Versioned JSON record of one quadruple, and its validation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..generator.degradations import REGISTRY, AppliedDegradation

SCHEMA = "sesqa.quadruple/1"
SPLITS = ("train", "valid", "test")
MAX_DELAY_SAMPLES = 4800


class ShardError(ValueError):
    """A shard or a record in it is invalid; the message names the shard, the key and the problem."""


@dataclass(frozen=True)
class SourceRef:
    """Where the clean frame came from: enough to read it again."""

    path: str
    dataset: str
    offset_s: float
    duration_s: float


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
    chain_i: tuple[AppliedDegradation, ...]
    chain_j: tuple[AppliedDegradation, ...]
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
            "source": vars(self.source),
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
        if not 1 <= len(self.chain_j) <= 4 or len(self.chain_i) > 2:
            problems.append(f"chain lengths {len(self.chain_i)}/{len(self.chain_j)} outside 0-2 / 1-4")
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


def _chain(data: dict[str, Any], name: str) -> list[AppliedDegradation]:
    steps = []
    for step in _typed(data, name, list):
        if not isinstance(step, dict) or step.get("type") not in REGISTRY:
            raise ValueError(f"{name}: unknown degradation {step.get('type') if isinstance(step, dict) else step!r}")
        if not 0.0 <= float(step.get("strength", -1)) <= 1.0:
            raise ValueError(f"{name}: strength {step.get('strength')!r} of {step['type']} outside [0, 1]")
        steps.append(AppliedDegradation.from_dict(step))
    return steps
