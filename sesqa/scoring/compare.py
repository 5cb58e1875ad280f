"""Reference-based mode (paper appendix A): how a degraded file DEG compares with its reference REF.

Both files go through the same encoder, frame by frame, and the pair of latents (z_ref, z_deg) of
each frame feeds the heads that read pairs:

- alignment: both files are decoded to mono at the model's rate (so different sample rates and
  formats are fine) and cut into the same frames: same starts (0, hop, 2 hop, ... and the tail
  frame). No delay is searched for: DEG must start when REF starts. When their lengths differ
  (by more than `LENGTH_TOLERANCE_S`, with a warning) both are cut to the shorter one, so every
  frame of one has its counterpart in the other. This costs one extra decoding pass over each file
  (to learn its decoded length), and keeps memory constant whatever the length;
- averaging: every figure is a mean over the *speech frames of REF* (the Scorer's rule: RMS above
  -70 dBFS, DC aside, and within 30 dB of REF's loudest frame; all frames if none qualifies), so that pauses
  in the reference do not dilute the comparison and both scores are taken over the same frames;
- `ref_score`, `deg_score`: the reference-free scores 1 + 4 sigmoid(l(z)) of each file over those
  frames, where l is the score head's raw (post-BatchNorm) output; `score_difference` is
  deg_score - ref_score;
- `reference_score`: appendix A's s_ij = 1 + 4 sigmoid(w'z_i - w'z_j + b) with the score head as
  the linear unit. The head is Linear(w) -> BatchNorm(gamma, beta, running mean m, var v), so
  l(z) = gamma (w.z - m) / sqrt(v + eps) + beta and l(z_deg) - l(z_ref) = w'.(z_deg - z_ref) with
  w' = gamma w / sqrt(v + eps): the BN mean and beta cancel, and beta is added back as the bias b.
  Per frame, s = 1 + 4 sigmoid(l(z_deg) - l(z_ref) + beta), then averaged like the scores. The
  order (i = DEG, j = REF) makes s fall as DEG gets worse than REF; identical inputs give exactly
  1 + 4 sigmoid(beta) (`identical_score`), a model-dependent mid-scale value, not 5; swapping the
  files mirrors the logit around beta;
- `jnd_probability`: sigmoid of the "jnd" head on |z_ref - z_deg|, averaged over the frames: the
  probability that a listener notices a difference. It is symmetric in the two files. NaN ("not
  trained") when the checkpoint says the JND loss never ran (no human JND pairs in training): an
  untrained head's number would read as a finding;
- `identical`: the two inputs decode to the same samples (to float precision), said up front;
- `metrics`: the "mr" head's estimates of the reference-based measures (PESQ, STOI, SI-SDR, ...)
  the model was trained on, for (REF, DEG) in that order, denormalised with the checkpoint's
  training statistics (value * std + mean) and averaged over the frames; the measures are never
  computed. Absent, with a note, when the model has no "mr" head, the checkpoint no statistics,
  or its loss never ran. They are estimates learnt on generated pairs, not measurements: their
  error on a held-out split is in docs/score.md.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..audio import MIN_DURATION_S, AudioStream, check_duration, open_stream
from .frames import ArrayStream, FrameIterator, batched
from .speech import SCORE_DECIMALS, SPEECH_FLOOR_DBFS, finite_or_none, frame_rms_db, speech_mask

if TYPE_CHECKING:
    from .backend import Backend

log = logging.getLogger(__name__)

LENGTH_TOLERANCE_S = 0.01
"""Files whose decoded lengths differ by more than this are reported as of different length."""
IDENTICAL_TOLERANCE = 1e-7
"""Largest |REF - DEG| sample difference of inputs reported as identical (float32 rounding of
full-scale samples is 6e-8)."""


class FrameScorer(Protocol):
    """What `compare` needs of a `sesqa.scoring.scorer.Scorer`, named here so that the two
    modules need not import each other."""

    backend: Backend
    batch_size: int
    frame_s: float
    hop_s: float

    @property
    def sample_rate(self) -> int: ...

    def prepare_array(self, audio: np.ndarray, sr: int | None, channel: int | None = None) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class CompareResult:
    """DEG judged against REF: both scores, appendix A's reference-based score, JND, metric estimates.

    Every overall figure is a mean over the speech frames of REF (see the module docstring).
    eq=False: the per-frame arrays make field-wise equality ambiguous.
    """

    ref: str
    deg: str
    ref_duration_s: float
    deg_duration_s: float
    compared_s: float
    """Length compared: the shorter of the two."""
    ref_score: float
    deg_score: float
    score_difference: float
    """deg_score - ref_score."""
    reference_score: float
    """Appendix A: mean over frames of 1 + 4 sigmoid(l(z_deg) - l(z_ref) + beta)."""
    score_bias: float
    """beta, the bias of the score head's final BatchNorm."""
    jnd_probability: float
    """Mean over frames of sigmoid(jnd head(|z_ref - z_deg|)): probability the difference is
    noticed; NaN when the model's JND head was never trained (`notes` says so)."""
    metrics: dict[str, float] = field(default_factory=dict)
    """Estimated reference-based measures for (REF, DEG), in their own units; empty when unavailable."""
    frame_starts_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    speech_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """Bool per frame: REF's speech frames, the ones averaged."""
    ref_frame_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    deg_frame_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reference_frame_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    jnd_frame_probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """Why something is absent (no metric head, no statistics, a head never trained)."""
    identical: bool = False
    """REF and DEG decode to the same samples over the compared length (to float precision)."""

    @property
    def identical_score(self) -> float:
        """The reference-based score of two identical inputs, 1 + 4 sigmoid(beta)."""
        return 1.0 + 4.0 / (1.0 + math.exp(-self.score_bias))

    def to_json(self, frames: bool = True) -> dict[str, Any]:
        """A JSON-ready dict of the overall figures and (optionally) the per-frame ones."""
        out: dict[str, Any] = {
            "ref": self.ref,
            "deg": self.deg,
            "ref_duration_s": round(self.ref_duration_s, 3),
            "deg_duration_s": round(self.deg_duration_s, 3),
            "compared_s": round(self.compared_s, 3),
            "n_frames": int(self.frame_starts_s.size),
            "n_speech_frames": int(self.speech_frames.sum()),
            "ref_score": finite_or_none(self.ref_score, SCORE_DECIMALS),
            "deg_score": finite_or_none(self.deg_score, SCORE_DECIMALS),
            "score_difference": finite_or_none(self.score_difference, SCORE_DECIMALS),
            "reference_score": finite_or_none(self.reference_score, SCORE_DECIMALS),
            "identical_score": finite_or_none(self.identical_score, SCORE_DECIMALS),
            "score_bias": finite_or_none(self.score_bias, SCORE_DECIMALS),
            "jnd_probability": finite_or_none(self.jnd_probability, SCORE_DECIMALS),
            "metrics": {k: finite_or_none(v, SCORE_DECIMALS) for k, v in self.metrics.items()},
            "identical": self.identical,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }
        if frames:
            out["frames"] = [
                {
                    "start_s": round(float(t), 3),
                    "speech": bool(v),
                    "ref_score": finite_or_none(float(a), SCORE_DECIMALS),
                    "deg_score": finite_or_none(float(b), SCORE_DECIMALS),
                    "reference_score": finite_or_none(float(c), SCORE_DECIMALS),
                    "jnd_probability": finite_or_none(float(d), SCORE_DECIMALS),
                }
                for t, v, a, b, c, d in zip(
                    self.frame_starts_s, self.speech_frames, self.ref_frame_scores, self.deg_frame_scores,
                    self.reference_frame_scores, self.jnd_frame_probabilities, strict=True,
                )
            ]  # fmt: skip
        return out


@dataclass(frozen=True, eq=False)
class MetricMap:
    """Which outputs of the "mr" head can be read as measures, and how to denormalise them."""

    indices: tuple[int, ...] = ()
    names: tuple[str, ...] = ()
    std: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    notes: tuple[str, ...] = ()
    """Why a measure (or all of them) has no estimate."""

    def denormalise(self, normalised: np.ndarray) -> np.ndarray:
        """Head outputs (..., len(indices)) -> measures in their own units: value * std + mean."""
        return normalised * self.std + self.mean


def metric_map(backend: Backend) -> MetricMap:
    """The "mr" measures that can be denormalised with the model's metric statistics (RunningStats
    JSON: {"schema", "measures": {name: {"mean", "std", ...}}}); notes say what is missing."""
    names, metric_stats, untrained = backend.config.metric_names, backend.metric_stats, backend.untrained_heads
    if not backend.has_metric_head:
        return MetricMap(notes=("no metric estimates: the model has no metric (mr) head",))
    if untrained and "mr" in untrained:
        return MetricMap(notes=(f"no metric estimates: the metric head was not trained ({untrained['mr']})",))
    measures = metric_stats.get("measures") if isinstance(metric_stats, dict) else None
    if not isinstance(measures, dict):
        return MetricMap(notes=("no metric estimates: the checkpoint holds no metric statistics to denormalise them",))
    idx, kept, stds, means, notes = [], [], [], [], []
    for i, name in enumerate(names):
        m = measures.get(name)
        mean = m.get("mean") if isinstance(m, dict) else None
        std = m.get("std") if isinstance(m, dict) else None
        usable = isinstance(mean, (int, float)) and isinstance(std, (int, float))
        if not usable or not (math.isfinite(mean) and math.isfinite(std)):
            notes.append(f"no estimate of {name}: the checkpoint's statistics lack its mean and std")
            continue
        idx.append(i)
        kept.append(name)
        stds.append(max(float(std), 1e-12))  # the trainer normalised with the same floor
        means.append(float(mean))
    return MetricMap(tuple(idx), tuple(kept), np.asarray(stds), np.asarray(means), tuple(notes))


class _Truncated:
    """An AudioStream cut after `n` output samples, framed by FrameIterator like the stream itself."""

    def __init__(self, stream: AudioStream, n: int) -> None:
        self.stream = stream
        self.n = n
        self.path = stream.path
        self.sr = stream.sr
        self.native_sr = stream.native_sr
        self.channels = stream.channels
        self.out_samples = 0
        self.peak = 0.0
        self.exhausted = False
        self.level = None

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            for block in self.stream:
                block = block[: self.n - self.out_samples]
                if block.size:
                    self.out_samples += block.size
                    self.peak = max(self.peak, float(np.max(np.abs(block))))
                    yield block
                if self.out_samples >= self.n:
                    break
            self.exhausted = True
        finally:
            self.stream.close()

    def close(self) -> None:
        self.stream.close()


class _Input:
    """One side of a comparison: a file (decoded twice: length, then frames) or an array (in memory)."""

    def __init__(self, scorer: FrameScorer, audio: str | Path | np.ndarray, sr: int | None, channel: int | None, role: str) -> None:
        self.scorer = scorer
        self.channel = channel
        self.warnings: tuple[str, ...] = ()
        if isinstance(audio, (str, Path)):
            self.name = str(audio)
            self.path: Path | None = Path(audio)
            self.array: np.ndarray | None = None
            self.length = self._decoded_length()
        else:
            self.name = f"{role} array"
            self.path = None
            self.array = scorer.prepare_array(audio, sr, channel)
            self.length = self.array.size

    def _decoded_length(self) -> int:
        assert self.path is not None
        with open_stream(self.path, sr=self.scorer.sample_rate, channel=self.channel) as stream:
            self.warnings = stream.warnings  # a WAV cut short
            for _ in stream:
                pass
            return stream.out_samples

    def frames(self, n: int) -> FrameIterator:
        """Frames of the first `n` samples (at the model's rate)."""
        s = self.scorer
        if self.array is not None:
            stream: Any = ArrayStream(self.array[:n], s.sample_rate, self.name)
            return FrameIterator(stream, s.frame_s, s.hop_s, MIN_DURATION_S, owns_stream=False)
        assert self.path is not None
        stream = _Truncated(open_stream(self.path, sr=s.sample_rate, channel=self.channel), n)
        return FrameIterator(stream, s.frame_s, s.hop_s, MIN_DURATION_S, owns_stream=True)  # type: ignore[arg-type]


@dataclass
class _Frames:
    starts: list[np.ndarray] = field(default_factory=list)
    rms_db: list[np.ndarray] = field(default_factory=list)
    deg_rms_db: list[np.ndarray] = field(default_factory=list)
    l_ref: list[np.ndarray] = field(default_factory=list)
    l_deg: list[np.ndarray] = field(default_factory=list)
    jnd: list[np.ndarray] = field(default_factory=list)
    mr: list[np.ndarray] = field(default_factory=list)

    def cat(self, name: str) -> np.ndarray:
        return np.concatenate(getattr(self, name))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, overflow-free (scipy.special.expit without importing scipy)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def compare(
    scorer: FrameScorer,
    ref: str | Path | np.ndarray,
    deg: str | Path | np.ndarray,
    sr: int | None = None,
    channel: int | None = None,
) -> CompareResult:
    """Compare DEG with its reference REF (files or arrays at `sr`); see the module docstring.

    Raises AudioError naming the file when either cannot be read or is too short.
    """
    backend = scorer.backend
    a, b = _Input(scorer, ref, sr, channel, "REF"), _Input(scorer, deg, sr, channel, "DEG")
    rate = scorer.sample_rate
    warnings: list[str] = []
    n = min(a.length, b.length)
    if abs(a.length - b.length) > LENGTH_TOLERANCE_S * rate:
        warnings.append(
            f"lengths differ (REF {a.length / rate:.2f} s, DEG {b.length / rate:.2f} s): "
            f"compared over the first {n / rate:.2f} s"
        )
    check_duration((a if a.length <= b.length else b).name, n, rate)  # blame the short file, not both
    warnings += [f"{side.name}: {w}" for side in (a, b) for w in side.warnings]
    beta = backend.score_bias
    mr = metric_map(backend)
    jnd_trained = "jnd" not in backend.untrained_heads
    identical = True
    acc = _Frames()
    with a.frames(n) as fa, b.frames(n) as fb:
        for (starts, x_ref), (starts_deg, x_deg) in zip(batched(fa, scorer.batch_size), batched(fb, scorer.batch_size), strict=True):
            if not np.array_equal(starts, starts_deg):  # same length, same framing: cannot happen
                raise RuntimeError(f"frames of {a.name} and {b.name} do not line up")
            k = len(starts)
            identical = identical and bool(np.max(np.abs(x_ref - x_deg)) <= IDENTICAL_TOLERANCE)
            out = backend.frames(np.concatenate([x_ref, x_deg]))
            acc.l_ref.append(out.score_logit[:k])
            acc.l_deg.append(out.score_logit[k:])
            pairs = backend.pairs(out.z[:k], out.z[k:])
            acc.jnd.append(pairs.jnd)
            if mr.indices and pairs.mr is not None:
                acc.mr.append(pairs.mr[:, list(mr.indices)])
            acc.starts.append(starts)
            acc.rms_db.append(frame_rms_db(x_ref))
            acc.deg_rms_db.append(frame_rms_db(x_deg))
        ref_stats = fa.stats
    l_ref, l_deg = acc.cat("l_ref").astype(np.float64), acc.cat("l_deg").astype(np.float64)
    speech = speech_mask(acc.cat("rms_db"))
    if ref_stats.all_zero:
        warnings.append(f"{a.name}: all samples are zero (digital silence): the comparison is meaningless")
    elif not speech.any():
        warnings.append(f"{a.name}: no frame above {SPEECH_FLOOR_DBFS:g} dBFS: averaged over all frames")
    if not speech_mask(acc.cat("deg_rms_db")).any():  # a DEG that is silence or DC only: say so
        warnings.append(f"{b.name}: no frame above {SPEECH_FLOOR_DBFS:g} dBFS (silence or only a DC offset): nothing to hear")
    use = speech if speech.any() else np.ones_like(speech)
    ref_frames, deg_frames = 1 + 4 * _sigmoid(l_ref), 1 + 4 * _sigmoid(l_deg)
    reference_frames = 1 + 4 * _sigmoid(l_deg - l_ref + beta)
    jnd = acc.cat("jnd").astype(np.float64)
    notes = list(mr.notes)
    if not jnd_trained:
        jnd[:] = np.nan
        notes.append(f"JND probability: not trained ({backend.untrained_heads['jnd']})")
    metrics: dict[str, float] = {}
    if mr.indices:
        estimates = mr.denormalise(acc.cat("mr").astype(np.float64)[use].mean(axis=0))
        metrics = {name: float(v) for name, v in zip(mr.names, estimates, strict=True)}
    ref_score, deg_score = float(ref_frames[use].mean()), float(deg_frames[use].mean())
    for w in warnings:
        log.debug("%s vs %s: %s", a.name, b.name, w)
    return CompareResult(
        ref=a.name,
        deg=b.name,
        ref_duration_s=a.length / rate,
        deg_duration_s=b.length / rate,
        compared_s=n / rate,
        ref_score=ref_score,
        deg_score=deg_score,
        score_difference=deg_score - ref_score,
        reference_score=float(reference_frames[use].mean()),
        score_bias=beta,
        jnd_probability=float(jnd[use].mean()),
        metrics=metrics,
        frame_starts_s=acc.cat("starts"),
        speech_frames=speech,
        ref_frame_scores=ref_frames,
        deg_frame_scores=deg_frames,
        reference_frame_scores=reference_frames,
        jnd_frame_probabilities=jnd,
        warnings=tuple(warnings),
        notes=tuple(notes),
        identical=identical,
    )


def format_compare(result: CompareResult) -> str:
    """The terminal report of `sesqa compare`."""
    lines = []
    if result.identical:
        lines.append("REF and DEG are identical (to float precision): there is no difference to hear")
    jnd = (
        "not trained" if math.isnan(result.jnd_probability)
        else f"{result.jnd_probability:.3f}  (a listener notices a difference)"
    )
    lines += [
        f"REF  {result.ref}: score {result.ref_score:.3f}  ({result.ref_duration_s:.2f} s)",
        f"DEG  {result.deg}: score {result.deg_score:.3f}  ({result.deg_duration_s:.2f} s)",
        f"compared over {result.compared_s:.2f} s, {int(result.speech_frames.sum())} speech frame(s) of REF out of {result.speech_frames.size}",
        f"score difference (DEG - REF):  {result.score_difference:+.3f}",
        (
            f"reference-based score:         {result.reference_score:.3f}  (1 + 4 sigmoid(l(DEG) - l(REF) + beta), "
            f"beta {result.score_bias:+.3f}; identical files give {result.identical_score:.3f})"
        ),
        f"JND probability:               {jnd}",
    ]
    if result.metrics:
        lines.append(
            "estimated measures (REF, DEG):  " + ", ".join(f"{k} {v:.3f}" for k, v in result.metrics.items())
            + "  (estimates learnt on generated pairs: docs/score.md gives their error)"
        )
    lines += [f"note: {n}" for n in result.notes]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)
