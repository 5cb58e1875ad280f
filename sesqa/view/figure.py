"""The per-file figure of `sesqa score --plot` and `sesqa report`: how a file sounds, how its
quality moves over time, and what the model thinks degrades it.

Three panels over one time axis (seconds):

1. the spectrogram (frequency in kHz, level in dBFS; `spectrogram.py`): where the speech, the
   pauses, the noise and the band limits are;
2. the score over time: each frame's score at the frame's centre (filled: a speech frame,
   counted in the file's score; hollow grey: a quiet frame, not counted), a thin line through
   them, and the file's score as a dashed line. The y range follows the data (padded, at least
   2 wide, within the 1-5 scale) with a tick at every whole score, so small moves stay visible
   and at least two marks of the scale show;
3. the probabilities (0-1) of the degradation types most probable over the file (at most 4,
   "clean" aside; means over the speech frames), per frame.

Legends sit in a column to the right of the panels, never over the data; the margins are
fixed, so the panels have the same size in every file's figure. matplotlib is loaded
on first use (`sesqa.runtime.plotting`), so importing this module costs nothing.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import AudioError
from ..runtime.files import atomic_write_bytes
from ..runtime.plotting import pyplot
from ..scoring.output import UniqueStems, is_error
from .spectrogram import Spectrogram, spectrogram

if TYPE_CHECKING:
    from ..scoring.scorer import FileError, ScoreResult

log = logging.getLogger(__name__)

TOP_TYPES = 4
"""Degradation types drawn in the bottom panel."""
FIGSIZE = (11.0, 7.5)
DYNAMIC_RANGE_DB = 80.0
"""Levels shown below the loudest spectrogram cell; quieter is drawn as the floor colour."""
_PAD = 0.3
_MIN_SPAN = 2.0


def top_types(result: ScoreResult, k: int = TOP_TYPES) -> list[tuple[str, np.ndarray, float]]:
    """(type, per-frame probabilities, mean) of the `k` types most probable over the file, never
    "clean"; means over the speech frames (all frames when none is), as the file's guesses are."""
    probs = result.frame_degradations
    if probs is None or not probs.size:
        return []
    rows = result.speech_frames if result.speech_frames.any() else np.ones(len(probs), bool)
    mean = probs[rows].mean(axis=0)
    names = result.degradation_types
    order = [int(i) for i in np.argsort(-mean, kind="stable") if names[i] != "clean"][:k]
    return [(names[i], probs[:, i], float(mean[i])) for i in order]


def score_limits(values: np.ndarray) -> tuple[float, float]:
    """y limits for scores: the data padded by 0.3, at least 2 wide (two whole-score ticks always
    show), moved inside [1, 5]."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 1.0, 5.0
    lo, hi = float(finite.min()) - _PAD, float(finite.max()) + _PAD
    if hi - lo < _MIN_SPAN:
        centre = 0.5 * (lo + hi)
        lo, hi = centre - _MIN_SPAN / 2, centre + _MIN_SPAN / 2
    if lo < 1.0:
        lo, hi = 1.0, min(5.0, hi + (1.0 - lo))
    if hi > 5.0:
        lo, hi = max(1.0, lo - (hi - 5.0)), 5.0
    return lo, hi


def _marker_size(n: int) -> float:
    return 22.0 if n <= 120 else 7.0 if n <= 1500 else 1.5


def _title(result: ScoreResult) -> str:
    source = result.source if len(result.source) <= 90 else "..." + result.source[-87:]
    parts = [f"score {result.score:.2f}", f"{result.duration_s:.1f} s"]
    if result.level is not None and np.isfinite(result.level.loudness_lufs):
        parts.append(f"{result.level.loudness_lufs:.1f} LUFS")
    if result.level is not None and np.isfinite(result.level.peak_dbfs):
        parts.append(f"peak {result.level.peak_dbfs:.1f} dBFS")
    title = f"{source}\n{', '.join(parts)}"
    if result.warnings:
        title += f"\nwarnings: {'; '.join(result.warnings)}"
    return title


def _spectrogram_panel(ax: Any, side: Any, spec: Spectrogram) -> None:
    finite = spec.db[np.isfinite(spec.db)]
    top = float(np.ceil(finite.max() / 10.0) * 10.0) if finite.size else 0.0
    extent = (0.0, spec.db.shape[1] * spec.column_s, 0.0, spec.top_khz)
    image = ax.imshow(
        spec.db, origin="lower", aspect="auto", extent=extent, cmap="magma",
        vmin=top - DYNAMIC_RANGE_DB, vmax=top, interpolation="nearest",
    )  # fmt: skip
    ax.set_ylabel("frequency (kHz)")
    ax.set_title("spectrogram", loc="left", fontsize=9)
    cax = side.inset_axes((0.0, 0.0, 0.05, 1.0))
    bar = ax.figure.colorbar(image, cax=cax)
    bar.set_label("level (dBFS)", fontsize=8)
    bar.ax.tick_params(labelsize=7)


def _score_panel(ax: Any, side: Any, result: ScoreResult, t: np.ndarray) -> None:
    from matplotlib.ticker import MultipleLocator

    scores, speech = result.frame_scores, result.speech_frames
    size = _marker_size(len(t))
    ax.plot(t, scores, color="0.7", linewidth=0.8, zorder=1)
    handles = [ax.scatter(t[speech], scores[speech], s=size, color="C0", zorder=3, label="speech frame (counted)")]
    if (~speech).any():
        handles.append(
            ax.scatter(
                t[~speech], scores[~speech], s=size, facecolors="none", edgecolors="0.45", linewidths=0.8,
                zorder=3, label="quiet frame (not counted)",
            )  # fmt: skip
        )
    handles.append(ax.axhline(result.score, color="C3", linestyle="--", linewidth=1.3, zorder=2, label=f"file score {result.score:.2f}"))
    ax.set_ylim(*score_limits(np.r_[scores, result.score]))
    ax.yaxis.set_major_locator(MultipleLocator(1.0))
    ax.yaxis.set_minor_locator(MultipleLocator(0.5))
    ax.grid(axis="y", which="major", alpha=0.4)
    ax.grid(axis="y", which="minor", alpha=0.15)
    ax.set_ylabel("score (1-5)")
    ax.set_title("quality per frame (1 = bad, 5 = excellent)", loc="left", fontsize=9)
    side.legend(handles=handles, loc="center left", frameon=False, fontsize=8, borderaxespad=0.0)


def _degradation_panel(ax: Any, side: Any, result: ScoreResult, t: np.ndarray) -> None:
    types = top_types(result)
    marker = "o" if len(t) <= 120 else None
    for k, (name, probs, mean) in enumerate(types):
        ax.plot(t, probs, color=f"C{k}", linewidth=1.4, marker=marker, markersize=3, label=f"{name} (mean {mean:.2f})")
    if not types:
        ax.text(0.5, 0.5, "no degradation types: the model's type head was not trained", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("probability")
    ax.set_xlabel("time (s)")
    ax.grid(alpha=0.3)
    ax.set_title("most likely degradation types per frame", loc="left", fontsize=9)
    if types:
        side.legend(*ax.get_legend_handles_labels(), loc="center left", frameon=False, fontsize=8, borderaxespad=0.0)


def draw(result: ScoreResult, spec: Spectrogram, frame_s: float = 1.0) -> Any:
    """The three-panel matplotlib Figure of a scored file; the caller closes it."""
    plt = pyplot()
    fig = plt.figure(figsize=FIGSIZE)
    # Fixed margins, not a constrained layout: the time axes then have the same width in every
    # file's figure, whatever the length of its legend's type names, and line up in a report.
    grid = fig.add_gridspec(
        3, 2, width_ratios=(1.0, 0.3), height_ratios=(1.1, 1.0, 0.9),
        left=0.065, right=0.985, bottom=0.07, top=0.87, hspace=0.28, wspace=0.03,
    )  # fmt: skip
    ax_spec = fig.add_subplot(grid[0, 0])
    ax_score = fig.add_subplot(grid[1, 0], sharex=ax_spec)
    ax_deg = fig.add_subplot(grid[2, 0], sharex=ax_spec)
    sides = [fig.add_subplot(grid[r, 1]) for r in range(3)]
    for side in sides:
        side.axis("off")
    t = result.frame_starts_s + 0.5 * min(frame_s, result.duration_s)  # frame centres
    _spectrogram_panel(ax_spec, sides[0], spec)
    _score_panel(ax_score, sides[1], result, t)
    _degradation_panel(ax_deg, sides[2], result, t)
    for ax in (ax_spec, ax_score):
        ax.tick_params(labelbottom=False)
    ax_spec.set_xlim(0.0, max(result.duration_s, 1e-3))
    fig.suptitle(_title(result), fontsize=10)
    return fig


def figure_png(result: ScoreResult, frame_s: float = 1.0, channel: int | None = None, dpi: int = 100) -> bytes:
    """The figure of a scored file as PNG bytes; the audio is read again for the spectrogram.

    Raises AudioError naming the file when it can no longer be read, ValueError when the result has
    no score (nothing to draw a quality curve about).
    """
    if not result.scored:
        raise ValueError(f"{result.source}: no score, no figure ({'; '.join(result.warnings) or 'nothing scored'})")
    spec = spectrogram(result.source, result.duration_s, channel=channel)
    plt = pyplot()
    fig = draw(result, spec, frame_s)
    try:
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return out.getvalue()


class FigureWriter:
    """`sesqa score --plot DIR`: one `<stem>.png` per scored file, drawn as soon as it is scored.

    Call it with each batch item (`score_paths(on_item=...)`). A failed file, or one with nothing
    to score, gets no figure and a warning saying why; the batch goes on. Stems seen before in the
    run get `-1`, `-2`, ... (`a/take.wav`, `b/take.wav` -> `take.png`, `take-1.png`).
    """

    def __init__(self, directory: str | Path, frame_s: float = 1.0, channel: int | None = None, dpi: int = 100) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OSError(f"{self.directory}: cannot create the figures folder ({e.strerror or e})") from e
        self.frame_s = frame_s
        self.channel = channel
        self.dpi = dpi
        self.written: list[Path] = []
        self._stems = UniqueStems()

    def __call__(self, item: ScoreResult | FileError) -> Path | None:
        """Draw and write `item`'s figure; the path written, or None (and a warning) when there is none."""
        if is_error(item):
            log.warning("no figure for %s: %s", item.source, item.error)
            return None
        if not item.scored:
            log.warning("no figure for %s: nothing scored (%s)", item.source, "; ".join(item.warnings))
            return None
        try:
            png = figure_png(item, self.frame_s, self.channel, self.dpi)
        except AudioError as e:
            log.warning("no figure for %s: %s", item.source, e)
            return None
        path = self.directory / f"{self._stems.take(item.source)}.png"
        atomic_write_bytes(path, png, fsync=False)  # many small files; none is ever left half-written
        self.written.append(path)
        return path
