"""Degradation pools: which registered degradations a run draws from, and with what weights.

Every degradation belongs to one pool (its class attribute `pool`): "paper" holds the 37 of the
SESQA paper's appendix C, "telephony" the speech codecs, packet loss and channels of calls. A run
draws from one of `POOLS`:

- "paper" (the default) and "telephony": the pool's members with their own weights;
- "all": both, the paper pool taking `ALL_SHARES["paper"]` of the draws and telephony the rest,
  each degradation keeping its weight relative to the others of its pool.

A `balance` between 0 and 1 flattens those weights (each raised to the power 1 - balance, as
temperature sampling does for languages): 0 keeps them, 1 draws every member equally often. The
paper's weights give additive noise 30 % of the paper pool's draws and clipping 1 %; a balanced
run shows a model the rare types more often.

The "source" pool is never drawn from: its members (the band limit) are properties of a clean
source that the generator puts before a frame's chain, and every run labels them
(`label_types`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._codec import PYAV_VERSION, encoder_available
from .base import REGISTRY

PAPER = "paper"
TELEPHONY = "telephony"
ALL = "all"
SOURCE = "source"
DEFAULT_POOL = PAPER

_SHARES: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        PAPER: MappingProxyType({PAPER: 1.0}),
        TELEPHONY: MappingProxyType({TELEPHONY: 1.0}),
        ALL: MappingProxyType({PAPER: 2 / 3, TELEPHONY: 1 / 3}),
    }
)
"""Share of the draws each member pool gets, per selectable pool."""
ALL_SHARES = _SHARES[ALL]
POOLS: tuple[str, ...] = tuple(_SHARES)


def check_pool(pool: str) -> None:
    """Raise ValueError unless `pool` is one of POOLS."""
    if pool not in _SHARES:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")


def pool_members(pool: str) -> tuple[str, ...]:
    """Names of the degradations `pool` draws from, in registry order (the label vocabulary's)."""
    check_pool(pool)
    return tuple(name for name, deg in REGISTRY.items() if deg.pool in _SHARES[pool])


def label_types(pool: str) -> tuple[str, ...]:
    """The degradation types a run from `pool` can record: its members, then the source
    properties (registry order each); the shards' label vocabulary."""
    source = tuple(name for name, deg in REGISTRY.items() if deg.pool == SOURCE)
    return pool_members(pool) + source


def check_balance(balance: float) -> None:
    """Raise ValueError unless 0 <= `balance` <= 1."""
    if not 0.0 <= balance <= 1.0:  # also refuses NaN
        raise ValueError(f"balance must be between 0 (the pool's weights) and 1 (every type equally), got {balance}")


def pool_weights(pool: str, balance: float = 0.0) -> dict[str, float]:
    """Sampling weight of each member, by name (sorted); they need not sum to 1.

    A single pool keeps its members' own weights (the paper's, for "paper"), so a run's recorded
    identity is the same as before pools existed; "all" scales each pool's weights to its share.
    A positive `balance` then raises every weight to the power 1 - balance (1: all equal).
    """
    check_balance(balance)
    members = pool_members(pool)
    shares = _SHARES[pool]
    if len(shares) == 1:
        weights = {name: REGISTRY[name].weight for name in sorted(members)}
    else:
        totals = {p: sum(REGISTRY[n].weight for n in members if REGISTRY[n].pool == p) for p in shares}
        weights = {name: REGISTRY[name].weight * shares[REGISTRY[name].pool] / totals[REGISTRY[name].pool] for name in sorted(members)}
    if balance == 0.0:
        return weights
    return {name: w ** (1.0 - balance) for name, w in weights.items()}


def missing_encoders(pool: str) -> dict[str, list[str]]:
    """Encoders each member of `pool` needs that neither PyAV nor the bundled ffmpeg binary has.

    Empty when the pool can run. A run checks this before it starts, so a missing encoder is an
    error naming it, never a silently skipped degradation.
    """
    missing = {name: [e for e in REGISTRY[name].encoders if not encoder_available(e)] for name in pool_members(pool)}
    return {name: encoders for name, encoders in missing.items() if encoders}


class MissingEncoderError(RuntimeError):
    """A pool needs an encoder this installation lacks."""


def check_encoders(pool: str) -> None:
    """Raise MissingEncoderError naming every encoder `pool` needs and this installation lacks."""
    if missing := missing_encoders(pool):
        lacking = "; ".join(f"{name} needs {', '.join(encoders)}" for name, encoders in missing.items())
        raise MissingEncoderError(
            f"the {pool} pool cannot run here: {lacking}. PyAV {PYAV_VERSION or '(not installed)'} and the "
            "imageio-ffmpeg binary lack them; install the PyAV release pyproject.toml names (pip install -e .)"
        )
