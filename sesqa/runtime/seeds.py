"""The one seed rule of every command that takes --seed (generate, train, sweep, evaluate).

A seed must be an integer with 0 <= seed < 2**63. Both consumers honour that whole range:
numpy's SeedSequence takes any non-negative integer (it refuses negative ones) and
torch.manual_seed any integer below 2**64 ("Overflow when unpacking long long" above). The
trainer adds small per-process offsets (rank, 1000 * rank + 2) to the seed, so the upper bound
stays well below torch's; 2**63 also keeps the seed a signed 64-bit integer for any reader of
config.json or the manifest.
"""

from __future__ import annotations

from numbers import Integral

SEED_LIMIT = 2**63
"""Seeds lie in [0, SEED_LIMIT)."""


def check_seed(seed: object, name: str = "seed") -> int:
    """`seed` as an int when it is one in [0, 2**63); otherwise a ValueError naming `name`, the range and the value.

    Every config's __post_init__ calls this, so `sesqa generate`, `train`, `sweep` and
    `evaluate` accept and refuse the same seeds, before any work starts.
    """
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer with 0 <= {name} < 2**63 ({SEED_LIMIT}), got {seed!r}")
    return int(seed)


__all__ = ["SEED_LIMIT", "check_seed"]
