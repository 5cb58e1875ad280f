"""The two figures of `sesqa latent` (`space` computes what they show).

- `plot_distances` (the paper's Fig. 2): one density per kind of frame pair over common bins,
  its mean dashed, and mean, standard deviation and count in the legend;
- `plot_tsne` (Fig. 3): one panel per perplexity, each frame a dot coloured by degradation type,
  the colour blended towards white the weaker the degradation (clean frames in black).

matplotlib comes from `sesqa.runtime.plotting` (Agg, imported on first use); each PNG is written under
a temporary name and renamed when complete (`sesqa.runtime.files.atomic_path`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...runtime.files import atomic_path
from ...runtime.plotting import pyplot

if TYPE_CHECKING:
    from .space import DistanceKind, ShardLatents, TsneResult

_DPI = 100
DISTANCE_BINS = 50
MIN_INTENSITY = 0.25
"""Colour weight of a strength-0 degradation (1 at strength 1): weaker is lighter."""
_CLEAN_RGB = (0.1, 0.1, 0.1)


def _save(fig: Any, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=_DPI, format="png")
    finally:
        pyplot().close(fig)
    return path


def plot_distances(kinds: Sequence[DistanceKind], path: Path, title: str) -> Path:
    """Densities of the latent distances of each kind (Fig. 2), mean and std written in the legend."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    values = [k.distances for k in kinds if k.n]
    high = max((float(v.max()) for v in values), default=1.0)
    edges = np.linspace(0.0, high * 1.02 if high > 0 else 1.0, DISTANCE_BINS + 1)
    for n, kind in enumerate(kinds):
        colour = f"C{n}"
        if not kind.n:
            ax.plot([], [], color=colour, label=f"{kind.description}: no pairs")
            continue
        label = f"{kind.description}: mean {kind.mean:.2f}, std {_number(kind.std)} (n={kind.n})"
        ax.hist(kind.distances, bins=edges, density=True, histtype="stepfilled", alpha=0.3, color=colour)
        ax.hist(kind.distances, bins=edges, density=True, histtype="step", linewidth=1.2, color=colour, label=label)
        ax.axvline(kind.mean, color=colour, linestyle="--", linewidth=1)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("Euclidean distance between latent vectors z")
    ax.set_ylabel("density")
    ax.set_title(f"Latent distances: {title}\n(dashed: means)", fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _number(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"


def type_colours(types: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """An RGB colour per type: near-black for clean, the others from tab10 without its grey (tab20
    without its greys past nine types, then cycling), so no degradation looks like clean."""
    plt = pyplot()
    degraded = [t for t in types if t != "clean"]
    name, greys = ("tab10", {7}) if len(degraded) <= 9 else ("tab20", {14, 15})
    cmap = plt.get_cmap(name)
    palette = [tuple(float(c) for c in cmap(k)[:3]) for k in range(cmap.N) if k not in greys]
    colours = {t: palette[n % len(palette)] for n, t in enumerate(degraded)}
    if "clean" in types:
        colours["clean"] = _CLEAN_RGB
    return colours  # type: ignore[return-value]


def shaded(rgb: Sequence[float], strength: np.ndarray) -> np.ndarray:
    """(n, 3) colours: ``rgb`` blended with white, weight MIN_INTENSITY at strength 0 up to 1 at strength 1."""
    weight = MIN_INTENSITY + (1.0 - MIN_INTENSITY) * np.clip(np.asarray(strength, dtype=np.float64), 0.0, 1.0)
    return 1.0 - weight[:, None] * (1.0 - np.asarray(rgb, dtype=np.float64)[None, :])


def plot_tsne(latents: ShardLatents, result: TsneResult, path: Path, title: str) -> Path:
    """One t-SNE panel per perplexity (Fig. 3): colour by type, intensity by strength."""
    plt = pyplot()
    from matplotlib.lines import Line2D

    panels = len(result.projections)
    fig, axes = plt.subplots(1, panels, figsize=(5.0 * panels, 5.6), squeeze=False)
    types = latents.types.ravel()[result.frames].astype(str)
    strengths = latents.strengths.ravel()[result.frames]
    colours = type_colours(result.types)
    size = float(np.clip(4000.0 / max(len(result.frames), 1), 3.0, 25.0))
    for ax, projection in zip(axes[0], result.projections, strict=True):
        for name in result.types:  # clean first: degraded frames are drawn over it
            mine = types == name
            rgb = np.tile(colours[name], (int(mine.sum()), 1)) if name == "clean" else shaded(colours[name], strengths[mine])
            ax.scatter(projection.xy[mine, 0], projection.xy[mine, 1], s=size, c=rgb, edgecolors="none")
        asked = "" if projection.perplexity == projection.perplexity_asked else f" (asked {projection.perplexity_asked:g})"
        ax.set_title(f"perplexity {projection.perplexity:g}{asked}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [
        Line2D([], [], marker="o", linestyle="", color=colours[name], label=f"{name} ({int((types == name).sum())})")
        for name in result.types
    ]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    fig.suptitle(f"t-SNE of latent vectors z: {title}; colour: degradation type, lighter: weaker", fontsize=10)
    rows = math.ceil(len(handles) / 5)
    fig.tight_layout(rect=(0, 0.04 + 0.035 * rows, 1, 1))
    return _save(fig, path)


__all__ = ["DISTANCE_BINS", "MIN_INTENSITY", "plot_distances", "plot_tsne", "shaded", "type_colours"]
