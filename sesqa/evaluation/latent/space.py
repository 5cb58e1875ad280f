"""The latent space z of a model on generated quadruples: the paper's appendix E, Fig. 2 and Fig. 3.

`sesqa latent` embeds the four frames of test quadruples (x_ik, x_il, x_jk, x_jl) and draws:

- **distances** (Fig. 2): Euclidean distances between latent vectors for three kinds of pairs,
  two pairs per quadruple each: the same utterance in the same condition ((ik, il) and (jk, jl):
  one signal a few ms apart), the same utterance in a different condition ((ik, jk) and (il, jl):
  x_j is x_i degraded further), and different utterances (a random frame of the quadruple
  against a random frame of another quadruple cut from another source file, drawn with the seed);
- **t-SNE** (Fig. 3): 2-D projections of z at perplexities 30, 80 and 200, each frame coloured by
  its degradation type and lighter the weaker the degradation.

Labels: an x_i frame is "clean" when chain_i is empty, else the type and strength of chain_i's
first step; an x_j frame gets the first step of chain_j (what x_j got on top of x_i), as the
strength figure of `evaluate --shards` does. `steps` counts every degradation a frame's signal
carries (len(chain_i), plus len(chain_j) for x_j), so the coordinates CSV can be filtered to
single-degradation frames.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ...runtime.seeds import check_seed
from ...shards.schema import SPLITS
from ..run.results import csv_text, write_atomic

log = logging.getLogger(__name__)

FRAMES = ("ik", "il", "jk", "jl")
"""The four frames of a quadruple, in the order `QuadrupleSample.frames()` gives them."""
CLEAN = "clean"
PERPLEXITIES = (30.0, 80.0, 200.0)
"""The paper's Fig. 3 panels."""
TOP_TYPES = 8
"""Degradation types drawn by default: the most frequent ones, plus clean."""
MAX_TSNE_POINTS = 4000
"""Frames projected at most (a seeded random subset beyond): t-SNE's time grows with them."""
EXACT_TSNE_BELOW = 500
"""Fewer points than this get exact t-SNE: O(n^2) is cheap there and Barnes-Hut's set-up dominates."""
MIN_QUADRUPLES = 2
MIN_TSNE_POINTS = 5
BATCH_QUADRUPLES = 32
"""Quadruples per forward pass (4 frames each)."""

KINDS = (
    ("same_condition", "same utterance, same condition"),
    ("different_condition", "same utterance, different condition"),
    ("different_utterance", "different utterances"),
)
"""(name, description) of the distance kinds, from closest expected to farthest."""


class LatentBackend(Protocol):
    """What embedding needs of a `scoring.backend.Backend`: its frame size and `frames(x).z`."""

    config: Any

    def frames(self, x: np.ndarray) -> Any: ...


@dataclass(frozen=True)
class LatentConfig:
    """The options of `sesqa latent`, checked before any work."""

    shards: Path
    out: Path
    split: str = "test"
    max_quadruples: int | None = 1000
    types: tuple[str, ...] = ()
    """Degradation types to project ("clean" included); empty: the TOP_TYPES most frequent plus clean."""
    seed: int = 0
    perplexities: tuple[float, ...] = PERPLEXITIES
    max_points: int = MAX_TSNE_POINTS

    def __post_init__(self) -> None:
        check_seed(self.seed)
        if self.split not in SPLITS:
            raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.max_quadruples is not None and self.max_quadruples < MIN_QUADRUPLES:
            raise ValueError(f"--max-quadruples must be >= {MIN_QUADRUPLES}, got {self.max_quadruples}")
        if not self.perplexities or any(not (math.isfinite(p) and p > 0) for p in self.perplexities):
            raise ValueError(f"perplexities must be positive numbers, got {self.perplexities}")
        if self.max_points < MIN_TSNE_POINTS:
            raise ValueError(f"max_points must be >= {MIN_TSNE_POINTS}, got {self.max_points}")


@dataclass(frozen=True)
class ShardLatents:
    """Latent vectors of the four frames of generated quadruples, and what was done to each frame."""

    z: np.ndarray
    """(Q, 4, D): x_ik, x_il, x_jk, x_jl."""
    keys: tuple[str, ...]
    sources: tuple[str, ...]
    """The source file each quadruple was cut from (different utterances: different files)."""
    types: np.ndarray
    """(Q, 4) degradation type per frame ("clean" for an undegraded x_i)."""
    strengths: np.ndarray
    """(Q, 4) strength of that step (0 for clean)."""
    steps: np.ndarray
    """(Q, 4) degradations the frame's signal carries in all."""
    n_shards: int


def frame_labels(chain_i: Sequence[Any], chain_j: Sequence[Any]) -> tuple[list[str], list[float], list[int]]:
    """(types, strengths, steps) of x_ik, x_il, x_jk, x_jl from a record's chains (module docstring)."""
    i_type, i_strength = (chain_i[0].type, float(chain_i[0].strength)) if chain_i else (CLEAN, 0.0)
    j_type, j_strength = chain_j[0].type, float(chain_j[0].strength)
    n_i, n_j = len(chain_i), len(chain_i) + len(chain_j)
    return [i_type, i_type, j_type, j_type], [i_strength, i_strength, j_strength, j_strength], [n_i, n_i, n_j, n_j]


def embed_shards(backend: LatentBackend, directory: Path, split: str = "test", max_quadruples: int | None = None) -> ShardLatents:
    """Latent vectors z of the four frames of the quadruples in ``<directory>/<split>-*.tar`` (shard order)."""
    from ..run.shard_scores import quadruple_batches, split_shards

    directory = Path(directory)
    shards = split_shards(directory, split)
    frame_samples = backend.config.frame_samples
    out: list[np.ndarray] = []
    keys: list[str] = []
    sources: list[str] = []
    labels: list[tuple[list[str], list[float], list[int]]] = []
    for records, x in quadruple_batches(shards, frame_samples, backend.config.sample_rate, max_quadruples, BATCH_QUADRUPLES):
        z = np.asarray(backend.frames(x.reshape(-1, frame_samples)).z, dtype=np.float64)
        out.append(z.reshape(len(records), 4, -1))
        keys += [r.key for r in records]
        sources += [r.source.path for r in records]
        labels += [frame_labels(r.chain_i, r.chain_j) for r in records]
    if len(keys) < MIN_QUADRUPLES:
        raise ValueError(f"{directory}: {len(keys)} quadruple(s) in {split}-*.tar shards; the latent figures need at least {MIN_QUADRUPLES}")
    log.info("embedded %d quadruples from %d %s shards in %s", len(keys), len(shards), split, directory)
    return ShardLatents(
        z=np.concatenate(out),
        keys=tuple(keys),
        sources=tuple(sources),
        types=np.asarray([t for t, _, _ in labels], dtype=object),
        strengths=np.asarray([s for _, s, _ in labels], dtype=np.float64),
        steps=np.asarray([n for _, _, n in labels], dtype=np.int64),
        n_shards=len(shards),
    )


@dataclass(frozen=True)
class DistanceKind:
    """The distances of one kind of frame pair; ``pairs`` index frames of z flattened to (4Q, D)."""

    name: str
    description: str
    distances: np.ndarray
    pairs: np.ndarray

    @property
    def n(self) -> int:
        return len(self.distances)

    @property
    def mean(self) -> float:
        return float(self.distances.mean()) if self.n else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1); NaN below two distances."""
        return float(self.distances.std(ddof=1)) if self.n > 1 else math.nan


def latent_distances(z: np.ndarray, sources: Sequence[str], rng: np.random.Generator) -> tuple[DistanceKind, ...]:
    """Euclidean distances between latent vectors of the three kinds of `KINDS`, 2 pairs per quadruple each.

    ``z`` is (Q, 4, D) in frame order ik, il, jk, jl. Different-utterance pairs join a random frame
    of each quadruple with a random frame of a random quadruple from another source file (two draws
    per quadruple); quadruples with no such partner get none.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 3 or z.shape[1] != 4:
        raise ValueError(f"z must be (quadruples, 4, latent_dim), got shape {z.shape}")
    q = len(z)
    if len(sources) != q:
        raise ValueError(f"sources must name one file per quadruple ({q}), got {len(sources)}")
    flat = z.reshape(4 * q, -1)
    base = 4 * np.arange(q)
    within = {
        "same_condition": ((0, 1), (2, 3)),
        "different_condition": ((0, 2), (1, 3)),
    }
    pairs: dict[str, np.ndarray] = {
        name: np.concatenate([np.stack([base + a, base + b], axis=1) for a, b in frames]) for name, frames in within.items()
    }
    _, codes = np.unique(np.asarray(sources, dtype=object).astype(str), return_inverse=True)
    other: list[tuple[int, int]] = []
    for n in range(q):
        candidates = np.flatnonzero(codes != codes[n])
        if not candidates.size:
            continue
        partners = rng.choice(candidates, size=2)
        mine, theirs = rng.integers(0, 4, size=2), rng.integers(0, 4, size=2)
        other.extend((4 * n + int(a), 4 * int(p) + int(b)) for p, a, b in zip(partners, mine, theirs, strict=True))
    pairs["different_utterance"] = np.asarray(other, dtype=np.int64).reshape(-1, 2)
    if not len(other):
        log.warning("every quadruple comes from one source file: no different-utterance pairs")
    kinds = []
    for name, description in KINDS:
        p = pairs[name].astype(np.int64)
        d = np.linalg.norm(flat[p[:, 0]] - flat[p[:, 1]], axis=1) if len(p) else np.zeros(0)
        kinds.append(DistanceKind(name, description, d, p))
    return tuple(kinds)


def distances_csv(kinds: Sequence[DistanceKind]) -> str:
    """kind,description,n,mean,std per kind (empty mean/std where undefined)."""

    def number(x: float) -> str:
        return "" if math.isnan(x) else f"{x:.6f}"

    return csv_text(("kind", "description", "n", "mean", "std"), ((k.name, k.description, k.n, number(k.mean), number(k.std)) for k in kinds))


def pick_types(types: np.ndarray, wanted: Sequence[str] = (), top: int = TOP_TYPES) -> tuple[str, ...]:
    """The types to project: ``wanted`` (those that label some frame; a warning names the others),
    else the ``top`` most frequent degradation types (ties by name) plus clean when present."""
    counts = Counter(str(t) for t in np.asarray(types).ravel())
    if wanted:
        absent = [t for t in wanted if t not in counts]
        present = tuple(dict.fromkeys(t for t in wanted if t in counts))
        if absent:
            log.warning("--types: no frame is labelled %s", ", ".join(absent))
        if not present:
            raise ValueError(f"--types: no frame is labelled {', '.join(wanted)}; the frames read are labelled {', '.join(sorted(counts))}")
        return present
    degraded = sorted((t for t in counts if t != CLEAN), key=lambda t: (-counts[t], t))[:top]
    return ((CLEAN,) if CLEAN in counts else ()) + tuple(degraded)


def usable_perplexity(perplexity: float, n_points: int) -> float:
    """``perplexity``, or ``n_points - 1`` with a warning when it is not below the number of points (t-SNE's rule)."""
    if perplexity < n_points:
        return float(perplexity)
    used = float(max(1, n_points - 1))
    log.warning("perplexity %g is not below the %d points projected: using perplexity %g", perplexity, n_points, used)
    return used


@dataclass(frozen=True)
class Projection:
    """One t-SNE projection of the chosen frames."""

    perplexity_asked: float
    perplexity: float
    xy: np.ndarray
    """(n, 2)."""


def tsne(points: np.ndarray, perplexities: Sequence[float], seed: int) -> tuple[Projection, ...]:
    """scikit-learn's t-SNE of ``points`` at each perplexity (clamped below the number of points), PCA-initialised;
    exact below EXACT_TSNE_BELOW points, Barnes-Hut above."""
    from sklearn.manifold import TSNE

    points = np.asarray(points, dtype=np.float64)
    if len(points) < MIN_TSNE_POINTS:
        raise ValueError(f"t-SNE needs at least {MIN_TSNE_POINTS} points, got {len(points)}")
    state = int(np.random.default_rng(seed).integers(2**31 - 1))
    method = "exact" if len(points) < EXACT_TSNE_BELOW else "barnes_hut"
    out = []
    for asked in perplexities:
        used = usable_perplexity(asked, len(points))
        xy = TSNE(n_components=2, perplexity=used, init="pca", method=method, random_state=state).fit_transform(points)
        out.append(Projection(float(asked), used, np.asarray(xy, dtype=np.float64)))
    return tuple(out)


@dataclass(frozen=True)
class TsneResult:
    """The projected frames (flat indices into the (4Q) frames) and their projections."""

    frames: np.ndarray
    types: tuple[str, ...]
    """The types drawn, in legend order."""
    projections: tuple[Projection, ...]


def project(latents: ShardLatents, config: LatentConfig, rng: np.random.Generator) -> TsneResult:
    """t-SNE of the frames whose type is among the chosen ones (a seeded subset past ``config.max_points``)."""
    types = latents.types.ravel()
    chosen = pick_types(types, config.types)
    frames = np.flatnonzero(np.isin(types.astype(str), np.asarray(chosen, dtype=str)))
    if len(frames) > config.max_points:
        log.info("projecting a random %d of %d frames", config.max_points, len(frames))
        frames = np.sort(rng.choice(frames, size=config.max_points, replace=False))
    if len(frames) < MIN_TSNE_POINTS:
        raise ValueError(
            f"{config.shards}: {len(frames)} frame(s) of type {', '.join(chosen)} in {config.split}-*.tar shards; "
            f"t-SNE needs at least {MIN_TSNE_POINTS} (more quadruples, or other --types)"
        )
    z = latents.z.reshape(-1, latents.z.shape[-1])
    return TsneResult(frames, chosen, tsne(z[frames], config.perplexities, int(rng.integers(2**63))))


def tsne_csv(latents: ShardLatents, result: TsneResult) -> str:
    """One row per projected frame and perplexity: where it landed and what it is."""
    rows = []
    for p in result.projections:
        for n, (x, y) in zip(result.frames, p.xy, strict=True):
            q, f = divmod(int(n), 4)
            rows.append((
                f"{p.perplexity_asked:g}", f"{p.perplexity:g}", latents.keys[q], FRAMES[f], latents.types[q, f],
                f"{latents.strengths[q, f]:.4f}", int(latents.steps[q, f]), f"{x:.4f}", f"{y:.4f}",
            ))  # fmt: skip
    return csv_text(("perplexity_asked", "perplexity", "key", "frame", "type", "strength", "steps", "x", "y"), rows)


@dataclass(frozen=True)
class LatentRun:
    """What `run_latent` found and wrote."""

    n_quadruples: int
    n_shards: int
    distances: tuple[DistanceKind, ...]
    tsne: TsneResult
    written: tuple[Path, ...]

    def table(self) -> str:
        """The distance kinds as a plain-text table (what latent-distances.csv holds)."""
        lines = [f"{self.n_quadruples} quadruples from {self.n_shards} shard(s); Euclidean distances between latent vectors z:"]
        lines.append(f"{'pairs':<38}{'n':>7}{'mean':>10}{'std':>10}")
        for k in self.distances:
            lines.append(f"{k.description:<38}{k.n:>7}{k.mean:>10.3f}{k.std:>10.3f}")
        used = ", ".join(f"{p.perplexity:g}" for p in self.tsne.projections)
        lines.append(f"t-SNE of {len(self.tsne.frames)} frames ({', '.join(self.tsne.types)}) at perplexities {used}")
        return "\n".join(lines)


def run_latent(backend: LatentBackend, config: LatentConfig) -> LatentRun:
    """Embed the quadruples, measure the distances, project, and write the figures and their numbers into ``config.out``.

    Writes latent-distances.png/.csv and latent-tsne.png/.csv. Raises ValueError for unusable
    shards (none, too few quadruples or frames), PlotsUnavailable without matplotlib.
    """
    from .plots import plot_distances, plot_tsne

    latents = embed_shards(backend, config.shards, config.split, config.max_quadruples)
    rng = np.random.default_rng(config.seed)
    distance_rng, tsne_rng = rng.spawn(2)
    kinds = latent_distances(latents.z, latents.sources, distance_rng)
    projected = project(latents, config, tsne_rng)
    out = Path(config.out)
    title = f"{len(latents.keys)} {config.split} quadruples of {config.shards.name or config.shards}"
    written = [
        plot_distances(kinds, out / "latent-distances.png", title),
        _write(out / "latent-distances.csv", distances_csv(kinds)),
        plot_tsne(latents, projected, out / "latent-tsne.png", title),
        _write(out / "latent-tsne.csv", tsne_csv(latents, projected)),
    ]
    return LatentRun(len(latents.keys), latents.n_shards, kinds, projected, tuple(written))


def _write(path: Path, text: str) -> Path:
    write_atomic(path, text)
    return path


__all__ = [
    "CLEAN", "EXACT_TSNE_BELOW", "FRAMES", "KINDS", "MAX_TSNE_POINTS", "PERPLEXITIES", "TOP_TYPES", "DistanceKind", "LatentConfig",
    "LatentRun", "Projection", "ShardLatents", "TsneResult", "embed_shards", "frame_labels", "latent_distances",
    "pick_types", "project", "run_latent", "tsne", "tsne_csv", "usable_perplexity",
]  # fmt: skip
