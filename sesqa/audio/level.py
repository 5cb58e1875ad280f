"""The level of a recording, read as it streams: loudness, peak, DC and clipping, with warnings.

The model does not see absolute level (its front-end normalises every frame), so the level is
reported beside the score instead of hidden in it.

Loudness is ITU-R BS.1770-4 integrated loudness (LUFS): K-weighting, 400 ms blocks every 100 ms,
an absolute gate at -70 LUFS and a relative gate 10 LU below the ungated mean. The K-weighting
(`kweight.py`: the biquads pyloudnorm derives, applied by FFT with numpy alone, so scoring never
imports scipy.signal) and the gating run chunk by chunk with carried state, so a two-hour file is
measured in constant memory (pyloudnorm's `Meter` needs the whole signal in memory and loops
over blocks in Python). A test checks agreement with pyloudnorm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .kweight import KWeighting

TOO_QUIET_LUFS = -50.0
"""Below this integrated loudness a recording is "too quiet to judge": 34 LU under the -16 LUFS
of speech streaming and 27 LU under broadcast's -23, so a listener would turn it up by more than
any playback chain allows, and a 16-bit file's quantisation noise is within 50 dB of the speech."""
CLIP_LEVEL = 0.999
"""|sample| at or above this (-0.009 dBFS) counts as full scale."""
CLIP_RUN_SAMPLES = 3
"""A run of this many consecutive full-scale samples is clipping; one or two can be a peak."""
SILENCE_DBFS = -90.0
"""A signal whose RMS, DC offset aside, is below this (a 16-bit LSB) holds nothing to hear."""
DC_OFFSET_LIMIT = 0.005
"""|mean| above this (-46 dBFS) is reported as a DC offset."""
ABSOLUTE_GATE_LUFS = -70.0
BLOCK_S, STEP_S = 0.4, 0.1


def _db(power_or_amplitude: float, power: bool) -> float:
    if power_or_amplitude <= 0.0:
        return -math.inf
    return (10.0 if power else 20.0) * math.log10(power_or_amplitude)


@dataclass(frozen=True)
class Level:
    """What was measured; `warnings` says in words what a listener would notice."""

    loudness_lufs: float
    """BS.1770 integrated loudness of the mono mix; -inf when no block passes the -70 LUFS gate."""
    peak_dbfs: float
    """Largest |sample| in dB re full scale; -inf for digital silence."""
    rms_dbfs: float
    """RMS of the whole signal in dB re full scale (a full-scale sine is -3.01)."""
    ac_rms_dbfs: float
    """RMS without the DC offset: -inf, or below SILENCE_DBFS, for silence or a constant."""
    dc_offset: float
    """Mean sample value."""
    clipped_runs: int
    """Runs of at least CLIP_RUN_SAMPLES consecutive samples at full scale."""
    warnings: tuple[str, ...] = ()

    @property
    def silent(self) -> bool:
        """Digital silence, or nothing but a constant (DC) value."""
        return self.ac_rms_dbfs < SILENCE_DBFS

    def to_json(self) -> dict[str, float | int | None]:
        """Numbers for JSON: -inf becomes None (JSON has no infinity)."""

        def finite(v: float) -> float | None:
            return round(v, 2) if math.isfinite(v) else None

        return {
            "loudness_lufs": finite(self.loudness_lufs),
            "peak_dbfs": finite(self.peak_dbfs),
            "rms_dbfs": finite(self.rms_dbfs),
            "ac_rms_dbfs": finite(self.ac_rms_dbfs),
            "dc_offset": round(self.dc_offset, 6),
            "clipped_runs": self.clipped_runs,
        }


class LevelMeter:
    """Feed chunks of one recording in order (`update`), then read `result()`.

    Chunks are float samples at `sample_rate`, shaped (n,) or (n, channels); loudness is taken
    of the channel mean (the mono mix the model scores), peak and clipping of every channel.
    """

    def __init__(self, sample_rate: int) -> None:
        if not isinstance(sample_rate, int) or not 8_000 <= sample_rate <= 384_000:
            raise ValueError(f"sample_rate must be an integer in [8000, 384000] Hz, got {sample_rate!r}")
        self.sample_rate = sample_rate
        self._k_weighting = KWeighting(sample_rate)
        self._step = int(round(STEP_S * sample_rate))
        self._samples = 0
        self._sum = self._sum_squares = self._peak = 0.0
        self._clip_runs = self._clip_run = 0
        self._sub_energy: list[np.ndarray] = []
        """K-weighted energy of each complete 100 ms step, in chunks."""
        self._tail = np.zeros(0)
        """K-weighted squared samples of the step not yet complete."""

    def update(self, chunk: np.ndarray) -> None:
        """Account for the next samples of the recording."""
        x = np.asarray(chunk, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise ValueError(f"chunk must be shaped (n,) or (n, channels), got {x.shape}")
        if not len(x):
            return
        magnitude = np.max(np.abs(x), axis=1)
        self._count_clipping(magnitude)
        self._peak = max(self._peak, float(magnitude.max()))
        mono = x.mean(axis=1)
        self._samples += len(mono)
        self._sum += float(mono.sum())
        self._sum_squares += float(np.einsum("i,i->", mono, mono))  # not np.dot: BLAS would wake its threads for a sum
        self._k_weighted_energy(mono)

    def _count_clipping(self, magnitude: np.ndarray) -> None:
        at_full_scale = magnitude >= CLIP_LEVEL
        if not at_full_scale.any():
            self._clip_run = 0
            return
        # run lengths of full-scale samples, the first continuing the previous chunk's run
        edges = np.diff(np.concatenate(([0], at_full_scale.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        runs = ends - starts
        if starts[0] == 0:
            runs[0] += self._clip_run
            if self._clip_run >= CLIP_RUN_SAMPLES:
                self._clip_runs -= 1  # already counted: it goes on
        self._clip_runs += int(np.sum(runs >= CLIP_RUN_SAMPLES))
        self._clip_run = int(runs[-1]) if ends[-1] == len(magnitude) else 0

    def _k_weighted_energy(self, mono: np.ndarray) -> None:
        y = self._k_weighting.filter(mono)
        energy = np.concatenate([self._tail, y * y])
        whole = len(energy) // self._step * self._step
        self._sub_energy.append(energy[:whole].reshape(-1, self._step).sum(axis=1))
        self._tail = energy[whole:]

    def loudness_lufs(self) -> float:
        """BS.1770 integrated loudness of what was fed so far."""
        sub = np.concatenate(self._sub_energy) if self._sub_energy else np.zeros(0)
        per_block = int(round(BLOCK_S / STEP_S))
        if len(sub) < per_block:
            return -math.inf
        window = np.lib.stride_tricks.sliding_window_view(sub, per_block).sum(axis=1)
        z = window / (BLOCK_S * self.sample_rate)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10.0 * np.log10(z)
        gated = z[loudness >= ABSOLUTE_GATE_LUFS]
        if not len(gated):
            return -math.inf
        relative_gate = -0.691 + 10.0 * math.log10(float(gated.mean())) - 10.0
        kept = z[(loudness > relative_gate) & (loudness > ABSOLUTE_GATE_LUFS)]
        return -0.691 + 10.0 * math.log10(float(kept.mean())) if len(kept) else -math.inf

    def result(self) -> Level:
        """The measurements and their warnings."""
        n = max(self._samples, 1)
        mean = self._sum / n
        level = Level(
            loudness_lufs=self.loudness_lufs(),
            peak_dbfs=_db(self._peak, power=False),
            rms_dbfs=_db(self._sum_squares / n, power=True),
            ac_rms_dbfs=_db(max(self._sum_squares / n - mean * mean, 0.0), power=True),
            dc_offset=mean,
            clipped_runs=self._clip_runs,
        )
        return replace(level, warnings=level_warnings(level))


def level_warnings(level: Level) -> tuple[str, ...]:
    """Plain-words warnings for a measured level (empty when nothing is wrong)."""
    if level.silent:
        if level.peak_dbfs == -math.inf:
            return ("digital silence",)
        if abs(level.dc_offset) > 10.0 ** (SILENCE_DBFS / 20.0):
            return (f"no signal but a DC offset of {level.dc_offset:+.4g}",)
        return (f"near-silence (RMS {level.ac_rms_dbfs:.1f} dBFS, below {SILENCE_DBFS:g} dBFS)",)
    out = []
    if level.loudness_lufs < TOO_QUIET_LUFS:
        loud = "below the -70 LUFS gate" if level.loudness_lufs == -math.inf else f"{level.loudness_lufs:.1f} LUFS"
        out.append(f"too quiet to judge ({loud}; threshold {TOO_QUIET_LUFS:g} LUFS)")
    if level.clipped_runs:
        out.append(f"clipped ({level.clipped_runs} run(s) of >= {CLIP_RUN_SAMPLES} full-scale samples)")
    if abs(level.dc_offset) > DC_OFFSET_LIMIT:
        out.append(f"DC offset {level.dc_offset:+.4f}")
    return tuple(out)


def measure_level(x: np.ndarray, sample_rate: int) -> Level:
    """The Level of a whole signal in memory."""
    meter = LevelMeter(sample_rate)
    meter.update(x)
    return meter.result()
