"""Human-readable summaries of generation runs and of the degradation pool."""

from __future__ import annotations

import sys

from .degradations import REGISTRY
from .degradations.band_limit import FULL_BAND_EDGE_HZ
from .degradations.pools import DEFAULT_POOL, missing_encoders, pool_members, pool_weights
from .metrics import METRICS
from .run import GenerateSummary

# The paper's order (appendix C), so `sesqa degradations` reads like the table in SPEC section 4.
PAPER_ORDER = (
    "additive_noise", "coloured_noise", "hum", "tonal_noise", "resample", "mu_law", "clipping", "reverse",
    "insert_silence", "insert_noise", "insert_attenuation", "perturb_amplitude", "sample_duplicate", "echo",
    "extreme_eq", "band_pass", "band_reject", "high_pass", "low_pass", "chorus", "overdrive", "phaser", "reverb",
    "tremolo", "griffin_lim", "phase_randomisation", "phase_shuffle", "spectrogram_convolution",
    "spectrogram_holes", "spectrogram_noise", "mp3", "ac3", "eac3", "mp2", "wma", "ogg_vorbis", "opus",
)


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n", 1)[0]


def degradation_table(pool: str = DEFAULT_POOL, balance: float = 0.0) -> list[dict[str, object]]:
    """One row per degradation of `pool`, the paper's in its order, the others after in registry order.

    `weight` is the degradation's own weight within its pool, `probability` its share of the draws
    of `pool` at `balance`; `missing_encoders` names what this installation lacks to run it (empty: runnable).
    """
    weights = pool_weights(pool, balance)
    total = sum(weights.values())
    members = pool_members(pool)
    names = [n for n in PAPER_ORDER if n in members] + [n for n in members if n not in PAPER_ORDER]
    missing = missing_encoders(pool)
    return [
        {
            "name": n,
            "pool": REGISTRY[n].pool,
            "weight": REGISTRY[n].weight,
            "probability": weights[n] / total,
            "strength_param": REGISTRY[n].strength_param,
            "strength_range": list(REGISTRY[n].strength_range),
            "description": _first_line(sys.modules[REGISTRY[n].__module__].__doc__),
            "encoders": list(REGISTRY[n].encoders),
            "missing_encoders": missing.get(n, []),
        }
        for n in names
    ]


def metric_table() -> str:
    """`sesqa metrics`: each measure's name, unit, better direction and reference, one per line."""
    rows = [("name", "unit", "better", "reference")]
    rows += [(m.name, m.unit, "higher" if m.higher_is_better else "lower", m.reference) for m in METRICS.values()]
    return format_columns(rows)


def format_columns(rows: list[tuple[str, ...]]) -> str:
    """Rows as left-aligned columns two spaces apart, each as wide as its widest cell (the last unpadded)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]) for r in rows)


def format_summary(s: GenerateSummary, verbose: bool = False) -> str:
    """What a generate run did, with the skipped inputs named."""
    hours = s.quadruples * 4 / 3600  # four 1 s frames per quadruple
    lines = [
        f"wrote {s.written_shards} shard(s), {s.quadruples} quadruples ({hours:.2f} h of 1 s frames) to {s.out} "
        f"in {s.seconds:.1f} s ({s.rate:.1f} quadruples/s)",
        f"shards: {s.planned_shards} planned, {s.assigned_shards} assigned to this process, {s.existing_shards} already complete"
        + (f", {s.remade_shards} damaged or incomplete made again" if s.remade_shards else ""),
        "clean files per split: " + ", ".join(f"{k} {v}" for k, v in s.split_files.items()),
    ]
    if s.band_limited_files:
        lines.append(
            f"band-limited clean files: {s.band_limited_files} of {s.clean_report.usable} stop below "
            f"{FULL_BAND_EDGE_HZ / 1000:g} kHz; their frames carry a band_limit step, never 'clean'"
        )
    if s.stats_written:
        lines.append(f"metric normalisation statistics: {s.out / 'stats.json'}")
    skipped = s.clean_report.skipped + s.noise_report.skipped
    bad = len(skipped) + len(s.bad_files)
    lines.append(
        f"inputs: {s.clean_report.usable} clean and {s.noise_report.usable} noise files usable, {bad} skipped; "
        f"{s.degradation_failures} degradation failure(s) redrawn"
    )
    shown = skipped + sorted(s.bad_files.items())
    for path, reason in shown if verbose else shown[:20]:
        lines.append(f"  skipped {path}: {reason}")
    if not verbose and len(shown) > 20:
        lines.append(f"  ... and {len(shown) - 20} more (use --verbose)")
    return "\n".join(lines)


