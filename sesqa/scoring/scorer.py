"""The Scorer: a model file turns audio into quality, over time and overall.

The network runs in a backend (`backend.py`): onnxruntime for the packaged models and `.onnx`
files, without importing torch; torch for checkpoints of `sesqa train` and models in memory.

A file is cut into 1 s frames with a hop (1 s by default), laid over the recording without the
silence before and after it (`frames.py`: added silence moves no frame's audio); frames are
scored in batches, and the file's score is the mean over its speech frames (`speech.py`: frames
within 30 dB of the file's loudest and above -70 dBFS, DC aside). The model was trained on active
speech only, so pauses would otherwise pull a file's score towards whatever the model makes of
silence.

The model does not see absolute level (its front-end normalises every frame), so the level is
reported instead: each result carries the input's loudness (BS.1770), sample peak, DC offset and
clipped runs (`sesqa.audio.level`), with warnings. A file that is digital silence, only a DC
offset, or has no speech frame gets no score (NaN; empty in CSV, null in JSON) and says why in
its warnings. Errors (unreadable, too short, NaN samples) raise AudioError naming the file, and a
file failing half-way gives no partial result.

Besides the score, each frame gets the degradation-type probabilities (sigmoid of the "dt" head,
per-type as trained) and strengths (sigmoid of "ds"); the file's are the means over its speech
frames, strengths weighted by the type's probability; the per-frame probabilities stay in the
result (`frame_degradations`; JSON frames carry each frame's top 3). `precision="bf16"` runs a
torch model under autocast (faster on recent GPUs and on CPUs with bf16 support; frame scores
then move by up to ~1e-2).
The reference-based mode (paper appendix A) is `sesqa.scoring.compare.compare(scorer, ref, deg)`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import AudioError, Level, measure_level, resample
from ..model.config import ModelConfig
from .backend import Backend, FrameOutputs, open_backend
from .frames import DEFAULT_HOP_S, ArrayStream, FrameIterator, FrameStats, batched, iter_frames
from .prefetch import prefetched
from .speech import SCORE_DECIMALS, finite_or_none, frame_rms_db, no_speech_warning, speech_mask

if TYPE_CHECKING:
    from ..model import SesqaModel

log = logging.getLogger(__name__)

TOP_DEGRADATIONS = 3


@dataclass(frozen=True)
class DegradationGuess:
    """A degradation type the model sees in the audio: probability present, estimated strength in [0, 1].

    `strength` is NaN for a type without a strength (e.g. reverse: `ModelConfig.strengthless`);
    JSON writes it as null.
    """

    name: str
    probability: float
    strength: float


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Quality of one recording: overall, per frame, and what degrades it.

    eq=False: the per-frame arrays make field-wise equality ambiguous; compare fields instead.
    """

    source: str
    score: float
    """Mean frame score over speech frames, on the 1-5 scale; NaN when there is nothing to
    score (silence, DC only, no speech frame): `warnings` then says why."""
    duration_s: float
    frame_starts_s: np.ndarray
    frame_scores: np.ndarray
    speech_frames: np.ndarray
    """Bool per frame: counted in `score`."""
    clean_probability: float
    degradations: tuple[DegradationGuess, ...]
    """The most likely degradation types, most probable first."""
    warnings: tuple[str, ...] = ()
    embeddings: np.ndarray | None = None
    """(frames, latent_dim) latents, when asked for."""
    level: Level | None = None
    """Loudness, peak, DC offset and clipping of the input as given (before resampling)."""
    frame_degradations: np.ndarray | None = None
    """(frames, types) probability of each degradation type in each frame ("clean" among them);
    None when the model's type head was not trained."""
    degradation_types: tuple[str, ...] = ()
    """The model's degradation vocabulary: the names of `frame_degradations`' columns."""

    @property
    def scored(self) -> bool:
        """Whether the recording got a score (False for silence, DC only or no speech frame)."""
        return bool(np.isfinite(self.score))

    @property
    def top_degradation(self) -> DegradationGuess | None:
        """The most probable degradation type (never "clean"), if the model knows any."""
        return self.degradations[0] if self.degradations else None

    def frame_guesses(self, k: int = TOP_DEGRADATIONS) -> list[list[tuple[str, float]]]:
        """Per frame, the `k` most probable degradation types (never "clean"), most probable first."""
        if self.frame_degradations is None:
            return [[] for _ in range(self.frame_scores.size)]
        keep = [i for i, name in enumerate(self.degradation_types) if name != "clean"]
        probs = self.frame_degradations[:, keep]
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [[(self.degradation_types[keep[j]], float(probs[f, j])) for j in row] for f, row in enumerate(order)]

    def to_json(self, frames: bool = True) -> dict:
        """A JSON-ready dict: overall figures, top degradations, warnings and (optionally) frames."""
        out = {
            "path": self.source,
            "score": finite_or_none(self.score, SCORE_DECIMALS),
            "duration_s": round(self.duration_s, 3),
            "n_frames": int(self.frame_scores.size),
            "n_speech_frames": int(self.speech_frames.sum()),
            "clean_probability": finite_or_none(self.clean_probability, 4),
            "degradations": [
                {"type": d.name, "probability": finite_or_none(d.probability, 4), "strength": finite_or_none(d.strength, 4)}
                for d in self.degradations
            ],
            "warnings": list(self.warnings),
        }
        if self.level is not None:
            out["level"] = self.level.to_json()
        if frames:
            out["frames"] = [
                {
                    "start_s": round(float(t), 3), "score": finite_or_none(float(s), SCORE_DECIMALS), "speech": bool(v),
                    "degradations": [{"type": n, "probability": finite_or_none(p, 4)} for n, p in guesses],
                }  # fmt: skip
                for t, s, v, guesses in zip(
                    self.frame_starts_s, self.frame_scores, self.speech_frames, self.frame_guesses(), strict=True
                )
            ]
        return out


@dataclass(frozen=True)
class FileError:
    """A file that could not be scored, and why; a batch goes on without it."""

    source: str
    error: str

    def to_json(self) -> dict:
        """{"path", "error"}, as in the JSON output of `sesqa score`."""
        return {"path": self.source, "error": self.error}


@dataclass
class FrameAccumulator:
    """A file's network outputs as its batches come, until `Scorer.result` turns them into a ScoreResult."""

    starts: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)
    rms_db: list[np.ndarray] = field(default_factory=list)
    dt: list[np.ndarray] = field(default_factory=list)
    ds: list[np.ndarray] = field(default_factory=list)
    z: list[np.ndarray] = field(default_factory=list)


class Scorer:
    """Scores audio with a trained SESQA model; `Scorer.from_checkpoint(path).score("a.wav")`.

    The network runs in a `Backend` (`backend.py`): onnxruntime for `.onnx` files and the
    packaged models (no torch import), torch for checkpoints and models in memory.
    """

    def __init__(
        self,
        model: SesqaModel | Backend | None = None,
        *,
        metric_stats: dict | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        hop_s: float = DEFAULT_HOP_S,
        precision: str = "fp32",
        untrained_heads: dict[str, str] | None = None,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if model is None:
            backend = open_backend(None, device=device, precision=precision)
        elif isinstance(model, Backend):
            backend = model
        else:  # a SesqaModel in memory (training's validation, tests)
            from .torch_backend import TorchBackend

            backend = TorchBackend(model, device=device, precision=precision, metric_stats=metric_stats, untrained_heads=untrained_heads)
        frame_s = backend.config.frame_samples / backend.config.sample_rate
        if not 0 < hop_s <= frame_s:
            raise ValueError(f"hop_s must be in (0, {frame_s:g}] s, got {hop_s}")
        self.backend = backend
        self.batch_size = batch_size
        self.hop_s = hop_s
        self.frame_s = frame_s

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, device: str = "cpu", precision: str = "fp32", **kwargs: Any) -> Scorer:
        """A Scorer for the model in a file: a checkpoint of `sesqa train` or its `.onnx` export
        (the file alone rebuilds it), or a packaged model's name."""
        return cls(open_backend(path, device=device, precision=precision), **kwargs)

    @property
    def config(self) -> ModelConfig:
        return self.backend.config

    @property
    def model(self) -> SesqaModel:
        """The torch network (a torch backend only: an ONNX model has none)."""
        model = getattr(self.backend, "model", None)
        if model is None:
            raise AttributeError(f"this Scorer runs {self.backend.source} in onnxruntime: it has no torch model (use .config, or a .ckpt)")
        return model

    @property
    def metric_stats(self) -> dict | None:
        return self.backend.metric_stats

    @property
    def untrained_heads(self) -> dict[str, str]:
        """{head: why} for heads no loss trained (from the model file): their outputs are withheld."""
        return self.backend.untrained_heads

    @property
    def device(self) -> str:
        return self.backend.device

    @property
    def precision(self) -> str:
        return self.backend.precision

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"Scorer(model={self.backend.source!r}, latent_dim={cfg.latent_dim}, sample_rate={cfg.sample_rate}, "
            f"device={self.device!r}, batch_size={self.batch_size}, hop_s={self.hop_s}, precision={self.precision})"
        )

    def frames(self, audio: str | Path | np.ndarray, sr: int | None = None, channel: int | None = None) -> FrameIterator:
        """The frames of a file or an array (resampled to the model's rate), its level metered."""
        if isinstance(audio, (str, Path)):
            return iter_frames(
                audio, frame_s=self.frame_s, hop_s=self.hop_s, sr=self.sample_rate, channel=channel, measure_level=True,
                trim_silence=True,
            )
        mono = self.mono_array(audio, sr, channel)
        stream = ArrayStream(resample(mono, sr, self.sample_rate), self.sample_rate, level=measure_level(mono, sr))
        return iter_frames(stream, frame_s=self.frame_s, hop_s=self.hop_s, sr=self.sample_rate, trim_silence=True)

    def prepare_array(self, audio: np.ndarray, sr: int | None, channel: int | None = None) -> np.ndarray:
        """An in-memory signal (n,) or (n, channels) -> mono float32 at the model's rate; AudioError if unusable."""
        return resample(self.mono_array(audio, sr, channel), sr, self.sample_rate)

    @staticmethod
    def mono_array(audio: np.ndarray, sr: int | None, channel: int | None = None) -> np.ndarray:
        """An in-memory signal (n,) or (n, channels) -> mono float32 at its own rate; AudioError if unusable."""
        if sr is None or sr <= 0:
            raise ValueError(f"scoring an array needs its sample rate: score(x, sr=...), got sr={sr!r}")
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim == 2:
            if channel is not None and not 0 <= channel < x.shape[1]:
                raise AudioError(f"array: channel {channel} out of range, the array has {x.shape[1]} channel(s)")
            x = x[:, channel] if channel is not None else x.mean(axis=1)
        if x.ndim != 1:
            raise AudioError(f"array: expected samples shaped (n,) or (n, channels), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise AudioError(f"array: NaN or infinite sample at {int(np.argmin(np.isfinite(x))) / sr:.3f} s")
        return x

    def score(
        self,
        audio: str | Path | np.ndarray,
        sr: int | None = None,
        channel: int | None = None,
        embeddings: bool = False,
    ) -> ScoreResult:
        """Score one file or array; raises AudioError naming the file when it cannot be scored.

        Nothing partial comes out: an error found late in a file (a NaN after an hour) raises,
        and the frames scored so far are dropped with it.
        """
        source = str(audio) if isinstance(audio, (str, Path)) else "array"
        acc = FrameAccumulator()
        with self.frames(audio, sr, channel) as frames:
            for starts, batch in batched(frames, self.batch_size):
                self.keep(acc, starts, batch, self.backend.frames(batch), embeddings)
            stats = frames.stats
        return self.result(source, acc, stats, embeddings)

    def keep(self, acc: FrameAccumulator, starts: np.ndarray, batch: np.ndarray, out: FrameOutputs, embeddings: bool) -> None:
        """Keep in `acc` the network's outputs `out` for frames `batch` starting at `starts` (s)."""
        acc.scores.append(out.score)
        acc.dt.append(out.dt)
        acc.ds.append(out.ds)
        acc.starts.append(starts)
        acc.rms_db.append(frame_rms_db(batch))
        if embeddings:
            acc.z.append(out.z)

    def result(self, source: str, acc: FrameAccumulator, stats: FrameStats, embeddings: bool) -> ScoreResult:
        """The ScoreResult of a file read to its end (`stats`), from the outputs kept in `acc`."""
        starts, scores, rms_db = (np.concatenate(a) for a in (acc.starts, acc.scores, acc.rms_db))
        dt, ds = np.concatenate(acc.dt), np.concatenate(acc.ds)
        level: Level | None = stats.level  # always metered: `frames` asks for it
        warnings = list(stats.warnings) + (list(level.warnings) if level is not None else [])  # a WAV cut short first
        speech = speech_mask(rms_db)
        if level is not None and level.silent:
            speech[:] = False  # nothing to hear: the warning from the level says what it is
        elif not speech.any():
            warnings.append(no_speech_warning())
        types = self.config.degradation_types
        duration = stats.duration_s
        if "dt" in self.untrained_heads:
            warnings.append(f"no degradation types: the model's type head was not trained ({self.untrained_heads['dt']})")
        if speech.any():
            probs = dt[speech].mean(axis=0)
            strengths = (ds[speech] * dt[speech]).sum(axis=0) / np.maximum(dt[speech].sum(axis=0), 1e-9)
            order = [i for i in np.argsort(-probs) if types[i] != "clean"][:TOP_DEGRADATIONS]
            score, clean = float(scores[speech].mean()), float(probs[types.index("clean")])
            guesses = tuple(
                DegradationGuess(types[i], float(probs[i]), float(strengths[i]) if self.config.has_strength(types[i]) else math.nan)
                for i in order
            )
            if "dt" in self.untrained_heads:
                clean, guesses = math.nan, ()
            if "score" in self.untrained_heads:
                score = math.nan
                warnings.append(f"no score: the model's score head was not trained ({self.untrained_heads['score']})")
        else:
            score, clean, guesses = math.nan, math.nan, ()
        return ScoreResult(
            source=source,
            score=score,
            duration_s=float(duration),
            frame_starts_s=starts,
            frame_scores=scores,
            speech_frames=speech,
            clean_probability=clean,
            degradations=guesses,
            warnings=tuple(warnings),
            embeddings=np.concatenate(acc.z) if embeddings else None,
            level=level,
            frame_degradations=None if "dt" in self.untrained_heads else dt,
            degradation_types=tuple(types),
        )

    def score_files(self, paths: Iterable[str | Path], channel: int | None = None, embeddings: bool = False) -> Iterator[ScoreResult | FileError]:
        """Score each file in turn; a file that fails gives a FileError and the batch goes on.

        The files are read, resampled and metered in a thread a couple of batches ahead of the
        network (`prefetch.py`), so the two overlap; the results are those of `score`, in order.
        """
        acc = FrameAccumulator()
        for path, item in prefetched(self.read_files(paths, channel)):
            if isinstance(item, FrameBatch):
                self.keep(acc, item.starts, item.frames, self.backend.frames(item.frames), embeddings)
                continue
            if isinstance(item, AudioError):
                log.debug("%s", item)
                yield FileError(str(path), str(item))
            else:
                yield self.result(str(path), acc, item, embeddings)
            acc = FrameAccumulator()

    def read_files(self, paths: Iterable[str | Path], channel: int | None) -> Iterator[tuple[str | Path, FrameBatch | FrameStats | AudioError]]:
        """Per file: its batches of frames, then its FrameStats, or an AudioError once it fails."""
        for path in paths:
            try:
                with self.frames(path, channel=channel) as frames:
                    for starts, batch in batched(frames, self.batch_size):
                        yield path, FrameBatch(starts, batch)
                    stats = frames.stats
            except AudioError as e:
                yield path, e
                continue
            yield path, stats


@dataclass(frozen=True)
class FrameBatch:
    """Frames read ahead of the network: their start times (s) and samples (batch, samples)."""

    starts: np.ndarray
    frames: np.ndarray


def open_scorer(
    model: str | Path | None = None, *, device: str = "auto", precision: str = "fp32", threads: int | None = None, **kwargs: Any
) -> Scorer:
    """A Scorer for a --model value: None or a packaged model's name ("default"), a
    `.onnx` file or a checkpoint path (`backend.open_backend`; `threads` caps its intra-op threads).

    FileNotFoundError says what to pass when no such model ships with this install;
    ValueError names the file when it is not a sesqa model, the name when it is a retired packaged
    model (`default.RETIRED_MODELS`), or an option out of range.
    """
    try:
        return Scorer(open_backend(model, device=device, precision=precision, threads=threads), **kwargs)
    except IndexError as e:  # torch.load on some non-checkpoints (a WAV: "RIFF"), not caught by load_checkpoint
        raise ValueError(f"{str(model)!r} is not a readable sesqa checkpoint ({type(e).__name__}: {e})") from e
