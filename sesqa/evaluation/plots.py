"""Figures for `sesqa evaluate --plot` and `sesqa sweep --plot`: where people would rather look than read.

- `plot_time`: a file's frame scores over time, speech frames solid, the rest faint, and the
  file's score as a dashed line;
- `plot_scatter`: predicted against true MOS with the identity line, LCC and SRCC in the title
  (utterance level, and system level beside it when systems are known);
- `plot_strength`: mean score against degradation strength, one small panel per degradation
  type (the paper's Fig. 4), strengths cut into 5 equal bins, with the mean score of clean
  signals as the reference line.

matplotlib is imported on first use with the non-interactive Agg backend (`sesqa.runtime.plotting`), so
plotting works on machines without a display. Every function writes one PNG and returns its path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..runtime.plotting import PlotsUnavailable, pyplot

if TYPE_CHECKING:
    from ..scoring.scorer import ScoreResult

STRENGTH_BINS = 5
"""Bins of the strength axis in `plot_strength` (the paper's Fig. 4 granularity)."""
_PANEL_COLUMNS = 6
_DPI = 100

__all__ = ["PlotsUnavailable", "plot_scatter", "plot_strength", "plot_time", "pyplot", "safe_name", "strength_bins"]


def safe_name(text: str) -> str:
    """``text`` reduced to letters, digits, ``.``, ``_`` and ``-``: a file name on any system."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return cleaned[:80] or "x"


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, format="png")
    pyplot().close(fig)
    return path


def plot_time(result: ScoreResult, path: Path, frame_s: float = 1.0) -> Path:
    """Frame scores of one scored file over time (at frame centres), its overall score dashed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3))
    half = 0.5 * min(frame_s, result.duration_s)
    t = result.frame_starts_s + half
    scores = result.frame_scores
    speech = result.speech_frames
    ax.plot(t, scores, color="0.75", linewidth=1, zorder=1)
    ax.scatter(t[speech], scores[speech], s=12, color="C0", label="speech frames", zorder=2)
    if (~speech).any():
        ax.scatter(t[~speech], scores[~speech], s=12, color="0.6", marker="x", label="quiet frames (not counted)", zorder=2)
    ax.axhline(result.score, color="C3", linestyle="--", linewidth=1, label=f"score {result.score:.2f}")
    ax.set_xlim(0, max(result.duration_s, float(t[-1]) + half if len(t) else 1.0))
    ax.set_ylim(1, 5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("quality (1-5)")
    ax.set_title(Path(result.source).name, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _correlations(pred: np.ndarray, true: np.ndarray) -> str:
    from ..measures.mos_metrics import mos_metrics

    m = mos_metrics(pred, true)
    return f"LCC {m['lcc']:.3f}, SRCC {m['srcc']:.3f}, n = {len(pred)}"


def _scatter_panel(ax: Any, pred: np.ndarray, true: np.ndarray, title: str) -> None:
    ax.scatter(true, pred, s=10, alpha=0.6, color="C0", edgecolors="none")
    low = float(min(1.0, np.min(true, initial=1.0), np.min(pred, initial=1.0)))
    high = float(max(5.0, np.max(true, initial=5.0), np.max(pred, initial=5.0)))
    ax.plot([low, high], [low, high], color="0.4", linewidth=1, linestyle="--", label="identity")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    ax.set_xlabel("true MOS")
    ax.set_ylabel("predicted")
    ax.set_title(f"{title}\n{_correlations(pred, true)}", fontsize=9)
    ax.grid(alpha=0.3)


def plot_scatter(
    pred: np.ndarray,
    true: np.ndarray,
    path: Path,
    name: str,
    systems: Sequence[str | None] | None = None,
) -> Path:
    """Predicted against true MOS with the identity line; a system-level panel when systems exist."""
    from ..measures.mos_metrics import system_level

    plt = pyplot()
    pred = np.asarray(pred, dtype=np.float64)
    true = np.asarray(true, dtype=np.float64)
    has = np.asarray([s is not None and s != "" for s in systems], bool) if systems is not None else np.zeros(len(pred), bool)
    panels = 2 if has.sum() >= 2 else 1
    fig, axes = plt.subplots(1, panels, figsize=(4.5 * panels, 4.5), squeeze=False)
    _scatter_panel(axes[0, 0], pred, true, f"{name}: utterance level")
    if panels == 2:
        ids = [str(s) for s, h in zip(systems or (), has, strict=True) if h]
        pm, tm, _ = system_level(pred[has], true[has], ids)
        _scatter_panel(axes[0, 1], pm, tm, f"{name}: system level")
    fig.tight_layout()
    return _save(fig, path)


def strength_bins(strengths: np.ndarray, bins: int = STRENGTH_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each strength (equal-width bins over [0, 1], or over the values' own range
    when they leave [0, 1]) and the bin edges."""
    s = np.asarray(strengths, dtype=np.float64)
    low, high = (0.0, 1.0) if s.size == 0 or (s.min() >= 0.0 and s.max() <= 1.0) else (float(s.min()), float(s.max()))
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    index = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, bins - 1)
    return index, edges


def plot_strength(
    types: Sequence[str],
    strengths: np.ndarray,
    scores: np.ndarray,
    clean_scores: np.ndarray,
    path: Path,
    title: str,
    bins: int = STRENGTH_BINS,
) -> Path:
    """Mean score (with its standard error) per strength bin, one panel per degradation type.

    ``types``/``strengths``/``scores`` describe degraded signals; ``clean_scores`` are scores of
    undegraded ones, drawn in every panel as a dashed reference line.
    """
    plt = pyplot()
    types = [str(t) for t in types]
    strengths = np.asarray(strengths, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    clean_scores = np.asarray(clean_scores, dtype=np.float64)
    names = sorted(set(types))
    if not names:
        raise ValueError(f"{path.name}: no degraded signals to plot")
    columns = min(_PANEL_COLUMNS, len(names))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.2 * rows + 0.6), squeeze=False, sharey=True)
    kind = np.asarray(types, dtype=object)
    clean_mean = float(clean_scores.mean()) if clean_scores.size else math.nan
    for ax, name in zip(axes.flat, names, strict=False):  # more panels than types
        mine = kind == name
        index, edges = strength_bins(strengths[mine], bins)
        centres = 0.5 * (edges[:-1] + edges[1:])
        means = np.full(bins, np.nan)
        errors = np.zeros(bins)
        for b in range(bins):
            values = scores[mine][index == b]
            if values.size:
                means[b] = values.mean()
                errors[b] = values.std(ddof=1) / math.sqrt(values.size) if values.size > 1 else 0.0
        ax.errorbar(centres, means, yerr=errors, marker="o", markersize=3, linewidth=1, capsize=2, color="C0")
        if math.isfinite(clean_mean):
            ax.axhline(clean_mean, color="C2", linestyle="--", linewidth=1)
        ax.set_title(f"{name} (n={int(mine.sum())})", fontsize=8)
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(1, 5)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("score", fontsize=8)
    for ax in axes[-1, :]:
        ax.set_xlabel("strength", fontsize=8)
    clean_text = f"; dashed: clean signals, mean {clean_mean:.2f} (n={clean_scores.size})" if math.isfinite(clean_mean) else ""
    fig.suptitle(f"{title}: mean score per strength bin{clean_text}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))  # room for the title above the top row's
    return _save(fig, path)
