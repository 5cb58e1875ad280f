"""The degradation contract and the registry of every degradation, whatever its pool.

A degradation is a class with
- a frozen `Params` dataclass: every value needed to replay it (noise seeds included),
  validated in `__post_init__`, JSON-serialisable through `params_to_dict` / `params_from_dict`;
- `sample_params(rng, strength, ctx)`: draws parameters; `strength` in [0, 1] sets the main
  parameter (0 = mildest end of the paper's range, 1 = most severe), the rest is randomised;
- `apply(x, sr, params)`: a pure function of the signal and the parameters, returning float32
  of the same length.

Classes register themselves with `@register`; `REGISTRY` is the single list of degradations, each
in one pool (`pools.py`): the paper's 37 and the telephony pool.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from ...shards.schema import DegradationStep


class NoiseSource(Protocol):
    """Where additive-noise degradations find real noise recordings."""

    def sample(self, rng: np.random.Generator, duration_s: float) -> tuple[str, float]:
        """Pick a noise file and an offset (seconds) with `duration_s` of audio after it."""
        ...


class TalkerSource(Protocol):
    """Where competing_talker finds another speaker's speech."""

    def sample(self, rng: np.random.Generator, duration_s: float) -> tuple[str, float] | None:
        """A file and offset (seconds) of another talker's active speech, or None when there is none."""
        ...


@dataclass(frozen=True)
class SamplingContext:
    """What a sampler may need besides the random generator."""

    n_samples: int
    sr: int
    noise: NoiseSource | None = None
    talkers: TalkerSource | None = None
    """Speakers other than the frame's (the generator's clean corpus, the sweep's other clips)."""


class DegradationError(RuntimeError):
    """A degradation failed on one signal; the message carries its parameters."""


def lerp(mildest: float, most_severe: float, strength: float) -> float:
    """Map a strength in [0, 1] onto the paper's range of a main parameter."""
    return mildest + (most_severe - mildest) * strength


def new_seed(rng: np.random.Generator) -> int:
    """A seed for the noise an `apply` draws, stored in the params so the sample replays."""
    return int(rng.integers(0, 2**63 - 1))


EVENT_SEED_TRIES = 1000
"""Seeds `with_an_event` tries before it settles for one without an event."""


def with_an_event(rng: np.random.Generator, ctx: SamplingContext | None, drawn: Any, has_event: Callable[[Any, SamplingContext], bool]) -> Any:
    """`drawn` (params with a `seed` field) with a new seed under which at least one of the apply's
    random events (lost packets, jitter-buffer warps) falls on the signal `ctx` describes: a sample
    labelled with a degradation is never left untouched by it. `has_event(params, ctx)` says
    whether it does.

    Without `ctx` (the length is unknown) any seed, so the events keep their unconditioned law;
    after `EVENT_SEED_TRIES` seeds without one (a signal too short for any), the last seed.
    """
    params = dataclasses.replace(drawn, seed=new_seed(rng))
    if ctx is None:
        return params
    for _ in range(EVENT_SEED_TRIES - 1):
        if has_event(params, ctx):
            return params
        params = dataclasses.replace(drawn, seed=new_seed(rng))
    return params


def check_range(name: str, value: float, low: float, high: float) -> None:
    """Raise ValueError naming the parameter, the allowed range and the value received."""
    if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")


def check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """Raise ValueError unless `value` is one of `allowed`."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


class Degradation(ABC):
    """Base of every degradation; subclasses are stateless and registered by name."""

    name: ClassVar[str]
    """Registry key, snake_case, named for the effect (e.g. ``"low_pass"``)."""
    weight: ClassVar[float]
    """Sampling weight within its pool (the paper's appendix C for its 37; they sum to 0.972)."""
    pool: ClassVar[str] = "paper"
    """The pool it belongs to (`pools.py`): "paper" for the 37 of appendix C, "telephony" beyond them."""
    encoders: ClassVar[tuple[str, ...]] = ()
    """FFmpeg encoders it needs; `pools.missing_encoders` checks them before a run starts."""
    strength_param: ClassVar[str]
    """Name of the main parameter that strength controls, with its unit (e.g. ``"snr_db"``)."""
    strength_range: ClassVar[tuple[float, float]]
    """(mildest, most severe) values of the main parameter."""
    has_strength: ClassVar[bool] = True
    """False for a degradation with nothing to grade (e.g. reverse, with a degenerate
    strength_range): the strength its steps record is noise, so the trainer gives its type no
    strength label (L_DS skips it) and the scorer reports no strength for it. The shards'
    manifest carries these names (`strengthless_types`), so the trainer never asks the generator."""
    Params: ClassVar[type]

    @classmethod
    @abstractmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Any:
        """Draw parameters for one application at the given strength."""

    @staticmethod
    @abstractmethod
    def apply(x: np.ndarray, sr: int, params: Any) -> np.ndarray:
        """Apply to a mono float32 signal; returns float32 of the same length."""

    @classmethod
    def params_from_dict(cls, data: dict[str, Any]) -> Any:
        """Rebuild Params from their JSON form (lists become tuples)."""
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls.Params(**values)


def params_to_dict(params: Any) -> dict[str, Any]:
    """JSON-ready form of a Params dataclass (tuples become lists)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        v = getattr(params, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


REGISTRY: dict[str, type[Degradation]] = {}


def strengthless_types(names: Iterable[str] | None = None) -> tuple[str, ...]:
    """Registered degradations without a strength (`has_strength` False), in registry order;
    only those among `names` when given (e.g. a run's pool)."""
    wanted = None if names is None else frozenset(names)
    return tuple(n for n, deg in REGISTRY.items() if not deg.has_strength and (wanted is None or n in wanted))


def register(cls: type[Degradation]) -> type[Degradation]:
    """Class decorator adding a degradation to REGISTRY under its `name`."""
    for attr in ("name", "weight", "strength_param", "strength_range", "Params"):
        if not hasattr(cls, attr):
            raise TypeError(f"degradation {cls.__name__} lacks class attribute {attr!r}")
    if cls.name in REGISTRY:
        raise TypeError(f"degradation name {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


@dataclass(frozen=True)
class AppliedDegradation:
    """One step of a degradation chain: what was applied, how strongly, with which params."""

    type: str
    strength: float
    params: Any = field(compare=True)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "strength": self.strength, "params": params_to_dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AppliedDegradation":
        """Rebuild from the JSON form; ValueError for an unknown type or bad params."""
        return cls.from_step(DegradationStep.from_dict(data))

    def to_step(self) -> DegradationStep:
        """The plain-data form a shard record stores."""
        return DegradationStep(self.type, self.strength, params_to_dict(self.params))

    @classmethod
    def from_step(cls, step: DegradationStep) -> "AppliedDegradation":
        """Typed params again from a stored step, to replay it.

        Raises ValueError naming the step when its type is not registered or its params do not
        fit that type's Params (missing, unknown or out-of-range values).
        """
        deg = REGISTRY.get(step.type)
        if deg is None:
            raise ValueError(f"step: unknown degradation {step.type!r}; this sesqa knows {len(REGISTRY)}: {', '.join(REGISTRY)}")
        try:
            params = deg.params_from_dict(step.params)
        except (TypeError, ValueError) as e:
            raise ValueError(f"step: params {step.params} do not fit {step.type}: {e}") from e
        return cls(step.type, step.strength, params)

    def apply(self, x: np.ndarray, sr: int) -> np.ndarray:
        """Replay this step; wraps any failure in DegradationError with the params."""
        deg = REGISTRY[self.type]
        try:
            y = deg.apply(np.asarray(x, dtype=np.float32), sr, self.params)
        except Exception as e:  # noqa: BLE001 - any library failure becomes a named, logged error
            raise DegradationError(f"{self.type} failed with params {self.to_dict()['params']}: {e!r}") from e
        if y.shape != x.shape or y.dtype != np.float32 or not np.all(np.isfinite(y)):
            raise DegradationError(
                f"{self.type} returned shape {y.shape} {y.dtype} (finite={np.all(np.isfinite(y))}) "
                f"for input {x.shape} with params {self.to_dict()['params']}"
            )
        return y


def fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad to exactly n samples, as float32."""
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if len(y) >= n:
        return np.ascontiguousarray(y[:n])
    return np.concatenate([y, np.zeros(n - len(y), dtype=np.float32)])
