"""Score clean clips degraded by one degradation at growing strength (the paper's Fig. 4).

For every clip, degradation type and strength, the clip is degraded once, with parameters drawn
by the degradation's own `sample_params(rng, strength)` from a generator seeded by
(seed, clip, type, strength) (the strength's value, not its place in the ladder, so s=0.5 draws
the same parameters in every sweep that has it), and scored; the clip itself is scored as the clean reference. A
model that has learnt quality gives each type a curve that starts near the clean score and falls
as strength grows. `sesqa sweep` prints the mean per type and strength; the CSV keeps every
score with the parameters that made it, so any cell can be listened to again (`--save-audio`).

Clips are read as mono at the model's rate, cut to `max_seconds` and peak-normalised to 1, as
the generator prepares its frames before degrading them.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import AudioError, load
from ..data import BUNDLED_NOISE_DIR, portable_path
from ..runtime.files import AtomicFile, atomic_path
from ..generator.degradations.base import REGISTRY, AppliedDegradation, DegradationError, SamplingContext, params_to_dict
from ..generator.degradations.pools import DEFAULT_POOL, SOURCE, check_pool, pool_members
from ..generator.run import MIN_NOISE_S
from ..generator.sources import NoiseBank, peak_normalise, scan_corpus
from ..runtime.progress import progress_bar
from ..scoring.scorer import Scorer
from ..runtime.seeds import check_seed
from .plots import safe_name

log = logging.getLogger(__name__)

DEFAULT_STRENGTHS = (0.1, 0.3, 0.5, 0.7, 0.9)
"""The centres of the paper's five strength bins."""


@dataclass(frozen=True)
class SweepConfig:
    """What to sweep: clips, degradation types (default: every type of `pool`), strengths in [0, 1]."""

    clips: tuple[Path, ...]
    types: tuple[str, ...] = ()
    pool: str = DEFAULT_POOL
    """Whose types a sweep without `types` runs: paper (the 37), telephony or all."""
    strengths: tuple[float, ...] = DEFAULT_STRENGTHS
    seed: int = 0
    noise: tuple[Path, ...] = ()
    """Noise directories for the additive-noise types; default: the bundled noise."""
    max_seconds: float = 4.0
    save_audio: Path | None = None
    """Folder for every degraded clip as a 16-bit WAV (named clip__type__strength.wav)."""

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_pool(self.pool)
        if not self.clips:
            raise ValueError("clips: give at least one clean recording to degrade")
        unknown = [t for t in self.types if t not in REGISTRY]
        if unknown:
            raise ValueError(f"types: unknown degradation(s) {', '.join(unknown)}; `sesqa degradations --pool all` lists the {len(REGISTRY)}")
        if not self.strengths:
            raise ValueError("strengths: give at least one strength in [0, 1]")
        for s in self.strengths:
            if not 0.0 <= s <= 1.0:
                raise ValueError(f"strengths must each be in [0, 1], got {s!r}")
        if not self.max_seconds >= 1.0:
            raise ValueError(f"max_seconds must be >= 1 (one model frame), got {self.max_seconds!r}")

    @property
    def effective_types(self) -> tuple[str, ...]:
        return self.types or pool_members(self.pool)

    @property
    def noise_roots(self) -> tuple[Path, ...]:
        return self.noise or tuple(sorted(p for p in BUNDLED_NOISE_DIR.iterdir() if p.is_dir()))


@dataclass(frozen=True)
class SweepRow:
    """One scored signal: a clean clip (type "clean", strength 0) or one degraded copy of it."""

    clip: str
    type: str
    strength: float
    score: float
    params: dict = field(default_factory=dict)


@dataclass
class SweepResult:
    """Every scored signal, and the errors met on the way (messages naming the clip, type and strength)."""

    rows: list[SweepRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def clean_scores(self) -> np.ndarray:
        return np.asarray([r.score for r in self.rows if r.type == "clean"], dtype=np.float64)

    def degraded(self) -> list[SweepRow]:
        return [r for r in self.rows if r.type != "clean"]

    def means(self) -> dict[str, dict[float, float]]:
        """Mean score per degradation type and strength (clips pooled), types in sweep order."""
        cells: dict[str, dict[float, list[float]]] = {}
        for r in self.degraded():
            cells.setdefault(r.type, {}).setdefault(r.strength, []).append(r.score)
        return {t: {s: float(np.mean(v)) for s, v in sorted(by.items())} for t, by in cells.items()}

    def spearman(self) -> dict[str, float]:
        """Per type, the mean over clips of each clip's Spearman correlation of score against
        strength: -1 when every clip's score falls at every step up in strength. A clip whose
        scores do not vary (or that has fewer than two strengths) has no correlation and is left
        out; a type with no such clip gets NaN."""
        from scipy.stats import spearmanr

        cells: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for r in self.degraded():
            cells.setdefault(r.type, {}).setdefault(r.clip, []).append((r.strength, r.score))
        out = {}
        for name, by_clip in cells.items():
            rhos = [
                float(spearmanr(*zip(*points)).statistic)
                for points in by_clip.values()
                if len(points) > 1 and len({score for _, score in points}) > 1 and len({strength for strength, _ in points}) > 1
            ]
            out[name] = float(np.mean(rhos)) if rhos else math.nan
        return out

    def falling_types(self) -> list[str]:
        """Types whose mean score at the highest strength is below the clean mean."""
        scores = self.clean_scores()
        clean = float(np.mean(scores)) if scores.size else math.nan
        return [t for t, by in self.means().items() if by and by[max(by)] < clean]

    def table(self) -> str:
        """The means as a fixed-width table: one row per type, one column per strength."""
        means = self.means()
        strengths = sorted({s for by in means.values() for s in by})
        clean = self.clean_scores()
        width = max([len("degradation"), *map(len, means)]) + 2
        rhos = self.spearman()
        head = f"{'degradation':<{width}}" + "".join(f"{f's={s:g}':>8}" for s in strengths) + f"{'drop':>8}{'rho':>8}"
        lines = [f"clean: {np.mean(clean):.3f} (mean of {clean.size} clip(s))" if clean.size else "clean: no clip scored", head]
        for name, by in means.items():
            cells = "".join(f"{by[s]:>8.3f}" if s in by else f"{'-':>8}" for s in strengths)
            drop = float(np.mean(clean)) - by[max(by)] if clean.size else math.nan
            lines.append(f"{name:<{width}}{cells}{drop:>8.3f}{rhos[name]:>8.2f}")
        falling = self.falling_types()
        lines.append(f"{len(falling)} of {len(means)} types score below clean at their highest strength (drop = clean - that score)")
        lines.append("rho: Spearman of score against strength per clip, mean over clips (-1: every step up in strength scores lower)")
        return "\n".join(lines)

    def plot(self, path: Path) -> Path:
        """Score against strength, one panel per type, clean mean dashed."""
        from .plots import plot_strength

        rows = self.degraded()
        return plot_strength(
            [r.type for r in rows], np.asarray([r.strength for r in rows]), np.asarray([r.score for r in rows]),
            self.clean_scores(), path, "sesqa sweep",
        )

    def write_csv(self, path: str | Path) -> None:
        """clip,type,strength,score,params (JSON), written atomically."""
        with AtomicFile(path, newline="") as w:
            out = csv.writer(w.file)
            out.writerow(["clip", "type", "strength", "score", "params"])
            for r in self.rows:
                out.writerow([r.clip, r.type, f"{r.strength:g}", f"{r.score:.4f}", json.dumps(r.params, sort_keys=True)])


@contextlib.contextmanager
def sweep_progress(config: SweepConfig, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A tqdm bar over every signal to score (stderr), yielding its update function."""
    total = len(config.clips) * (1 + len(config.effective_types) * len(config.strengths))
    if not enabled:
        yield lambda n: None
        return
    with progress_bar(total, unit="signal", desc="sweep") as bar:
        yield bar.update


def _read_clip(path: Path, sr: int, max_seconds: float) -> np.ndarray:
    x = load(path, sr, 0.0, max_seconds)
    if len(x) < sr:
        raise AudioError(f"{path}: {len(x) / sr:.2f} s long; a sweep needs at least 1 s")
    return peak_normalise(x)


def _write_wav(path: Path, y: np.ndarray, sr: int) -> None:
    """16-bit WAV under a temporary name, renamed into place: no half-written file is left."""
    with atomic_path(path) as tmp:
        sf.write(tmp, np.clip(y, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")


def noise_bank(roots: Sequence[Path]) -> NoiseBank:
    """Every usable noise file under `roots`, for the additive-noise degradations."""
    corpus, report = scan_corpus(list(roots), {"train": 1.0}, MIN_NOISE_S)
    if report.usable == 0:
        raise ValueError(f"no usable noise in {', '.join(map(str, roots))} (every file was skipped)")
    return NoiseBank(corpus.files("train"))


@dataclass(frozen=True)
class OtherClips:
    """competing_talker's source in a sweep: another of the sweep's clips, from its start (looped
    when shorter than the clip it goes under)."""

    clips: tuple[Path, ...]
    own: Path

    def sample(self, rng: np.random.Generator, duration_s: float) -> tuple[str, float] | None:
        others = [c for c in self.clips if c != self.own]
        return (portable_path(others[int(rng.integers(len(others)))]), 0.0) if others else None


def strength_key(strength: float) -> int:
    """The strength as a seed word: millionths, so 0.5 is 500000 whatever ladder it sits in."""
    return round(strength * 1_000_000)


def run_sweep(scorer: Scorer, config: SweepConfig, progress: Callable[[int], None] | None = None) -> SweepResult:
    """Degrade and score every (clip, type, strength); a failing clip or cell is logged and skipped.

    `progress(n)` is called after each clip with the number of signals it scored.
    """
    sr = scorer.sample_rate
    types = config.effective_types
    # seeds by registry position, without the source properties (band_limit, registered among the
    # paper's 37 since), so a type draws what it drew before they came
    drawn_types = [name for name, deg in REGISTRY.items() if deg.pool != SOURCE] + [name for name, deg in REGISTRY.items() if deg.pool == SOURCE]
    type_index = {name: i for i, name in enumerate(drawn_types)}
    noise = noise_bank(config.noise_roots)
    if config.save_audio is not None:
        config.save_audio.mkdir(parents=True, exist_ok=True)
    result = SweepResult()
    for c, path in enumerate(config.clips):
        try:
            x = _read_clip(path, sr, config.max_seconds)
            result.rows.append(SweepRow(str(path), "clean", 0.0, scorer.score(x, sr=sr).score))
        except AudioError as e:
            log.error("%s", e)
            result.errors.append(str(e))
            if progress:
                progress(1)
            continue
        ctx = SamplingContext(n_samples=len(x), sr=sr, noise=noise, talkers=OtherClips(tuple(config.clips), path))
        for name in types:
            for strength in config.strengths:
                rng = np.random.default_rng([config.seed, c, type_index[name], strength_key(strength)])
                where = f"{path}: {name} at strength {strength:g}"
                try:
                    step = AppliedDegradation(name, strength, REGISTRY[name].sample_params(rng, strength, ctx))
                    y = step.apply(x, sr)
                    score = scorer.score(y, sr=sr).score
                except (DegradationError, AudioError) as e:
                    log.warning("%s: %s", where, e)
                    result.errors.append(f"{where}: {e}")
                    continue
                result.rows.append(SweepRow(str(path), name, strength, score, params_to_dict(step.params)))
                if config.save_audio is not None:
                    _write_wav(config.save_audio / f"{safe_name(f'{path.stem}__{name}__{strength:g}')}.wav", y, sr)
        if progress:
            progress(1 + len(types) * len(config.strengths))
    return result
