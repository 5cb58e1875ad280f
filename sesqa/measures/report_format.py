"""The evaluation report written out: a fixed-width text table and a JSON-ready dict.

NaN figures print as "nan" in the table and are written as null in JSON (JSON has no NaN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .report import Estimate, EvaluationReport, MosReport


def _format_number(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.4f}"


def format_report(report: EvaluationReport | MosReport) -> str:
    """A fixed-width table (metric, level, value, interval, n) with notes below it."""
    if isinstance(report, MosReport):
        rows: Sequence[Estimate] = report.utterance + report.system
        confidence = None
    else:
        rows = report.estimates
        confidence = report.confidence
    ci_title = f"{round(100 * confidence):d}% CI" if confidence is not None else "CI"
    header = f"{'metric':<8} {'level':<10} {'value':>8}  {ci_title:<20} {'n':>7}"
    lines = [header, "-" * len(header)]
    notes = []
    for row in rows:
        interval = (
            ""
            if not (math.isfinite(row.low) and math.isfinite(row.high))
            else f"[{_format_number(row.low)}, {_format_number(row.high)}]"
        )
        count = str(row.n) if row.n else ""
        lines.append(
            f"{row.display_name:<8} {row.level:<10} {_format_number(row.value):>8}  {interval:<20} {count:>7}"
        )
        if row.note:
            notes.append(f"  {row.display_name} ({row.level}): {row.note}")
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(line.rstrip() for line in lines)


def json_number(value: float) -> float | None:
    """JSON has no NaN: undefined figures are written as null."""
    return value if math.isfinite(value) else None


def report_to_json(report: EvaluationReport | MosReport) -> dict[str, Any]:
    """A JSON-ready dict of the report (NaN written as null)."""
    rows = report.utterance + report.system if isinstance(report, MosReport) else report.estimates
    metrics = [
        {
            "metric": row.name,
            "level": row.level,
            "value": json_number(row.value),
            "ci_low": json_number(row.low),
            "ci_high": json_number(row.high),
            "n": row.n,
            "note": row.note,
        }
        for row in rows
    ]
    if isinstance(report, MosReport):
        return {
            "metrics": metrics,
            "counts": {
                "mos_items": report.n_items,
                "systems": report.n_systems,
                "without_system": report.n_without_system,
            },
        }
    return {
        "confidence": report.confidence,
        "n_boot": report.n_boot,
        "seed": report.seed,
        "counts": dict(report.counts),
        "metrics": metrics,
    }
