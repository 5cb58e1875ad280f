"""Hyper-parameters of the SESQA network (paper section 2.2), validated and JSON-serialisable.

A checkpoint stores `ModelConfig.to_json()` next to the weights, so this module must stay light:
it imports nothing from the rest of sesqa (the scorer loads it without the corpus generator).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

_INT_TUPLES = ("pool_channels", "res_channels", "res_kernels")
_STR_TUPLES = ("degradation_types", "metric_names")
_FLOATS = ("mu_init", "gate_init", "dc_cutoff_hz")
LEGACY_FRONT_END = {"dc_cutoff_hz": 0.0, "frame_level_dbfs": None, "canonical_polarity": False}
"""Front-end fields as a checkpoint saved before the front-end existed means them: all off, so
such a checkpoint loads and scores exactly as it did."""
LEGACY_STRENGTHLESS = {"strengthless_types": None}
"""`strengthless_types` as a checkpoint saved before the field existed means it: unknown, resolved
to `FORMAT_1_STRENGTHLESS_TYPES` among its degradation types."""
FORMAT_1_STRENGTHLESS_TYPES: tuple[str, ...] = ("reverse",)
"""The degradation types without a strength before models recorded them. A copy of
`sesqa.shards.manifest.FORMAT_1_STRENGTHLESS_TYPES` (frozen): sesqa.model imports nothing from
the rest of sesqa."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem(name: str, allowed: str, value: Any) -> ValueError:
    return ValueError(f"ModelConfig.{name} must be {allowed}, got {value!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the encoder and heads; the defaults are the paper's.

    `blur_taps` is the length of the BlurPool low-pass, a binomial filter as in Zhang 2019
    ("Making convolutional networks shift-invariant again"). The default 7 = 2 * pool_factor - 1
    gives the response cos(pi f / fs)^6: -4 dB at the new Nyquist fs/8, -18 dB at fs/4 and
    -50 dB at 3 fs/8, i.e. most of what strided subsampling would fold back is removed.

    `degradation_types` is the vocabulary of the DT and DS heads, index 0 being "clean";
    `metric_names` are the targets of the MR head, which is absent when the tuple is empty.
    `strengthless_types` are the degradation types without a strength (e.g. reverse): the DS
    head learns nothing for them (their label is noise), so the scorer reports no strength. None (a model
    saved before the field) means `FORMAT_1_STRENGTHLESS_TYPES`; `strengthless` resolves it.

    `dc_cutoff_hz`, `frame_level_dbfs` and `canonical_polarity` configure the input front-end
    (`sesqa.model.frontend`): sub-audio removal below the cutoff (0 = off), every frame scaled
    to this RMS level (None = off), and each frame's polarity fixed by its third moment.
    """

    sample_rate: int = 48_000
    frame_samples: int = 48_000
    mu_init: float = 8.0
    pool_channels: tuple[int, ...] = (32, 64, 128, 256)
    pool_kernel: int = 4
    pool_factor: int = 4
    blur_taps: int = 7
    res_blocks: int = 6
    res_channels: tuple[int, ...] = (512, 512, 256)
    res_kernels: tuple[int, ...] = (1, 3, 1)
    gate_init: float = 3.0
    mlp_hidden: int = 1024
    latent_dim: int = 200
    head_hidden: int = 400
    degradation_types: tuple[str, ...] = ("clean",)
    metric_names: tuple[str, ...] = ()
    strengthless_types: tuple[str, ...] | None = None
    dc_cutoff_hz: float = 20.0
    frame_level_dbfs: float | None = -16.0
    canonical_polarity: bool = True

    def __post_init__(self) -> None:
        self._normalise()
        self._check_scalars()
        self._check_sequences()

    def _normalise(self) -> None:
        """Lists (as read from JSON) become tuples and ints become floats, keeping the config hashable."""
        for name in _INT_TUPLES + _STR_TUPLES:
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.strengthless_types, list):
            object.__setattr__(self, "strengthless_types", tuple(self.strengthless_types))
        for name in _FLOATS:
            value = getattr(self, name)
            if _is_int(value):
                object.__setattr__(self, name, float(value))
        if _is_int(self.frame_level_dbfs):
            object.__setattr__(self, "frame_level_dbfs", float(self.frame_level_dbfs))

    def _check_scalars(self) -> None:
        minimums = {
            "sample_rate": 8_000,
            "pool_kernel": 1,
            "pool_factor": 1,
            "blur_taps": 1,
            "res_blocks": 0,
            "mlp_hidden": 1,
            "latent_dim": 1,
            "head_hidden": 1,
        }
        for name, low in minimums.items():
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                raise _problem(name, f"an integer >= {low}", value)
        if self.sample_rate > 384_000:
            raise _problem("sample_rate", "an integer in [8000, 384000]", self.sample_rate)
        if self.blur_taps % 2 == 0:
            raise _problem("blur_taps", "an odd integer >= 1 (a centred filter)", self.blur_taps)
        if not isinstance(self.mu_init, float) or not math.isfinite(self.mu_init) or self.mu_init <= 0:
            raise _problem("mu_init", "a finite number > 0", self.mu_init)
        if not isinstance(self.gate_init, float) or not math.isfinite(self.gate_init):
            raise _problem("gate_init", "a finite number", self.gate_init)
        self._check_front_end()

    def _check_front_end(self) -> None:
        if not isinstance(self.dc_cutoff_hz, float) or not 0.0 <= self.dc_cutoff_hz <= 200.0:
            raise _problem("dc_cutoff_hz", "a number in [0, 200] Hz (0 = no high-pass)", self.dc_cutoff_hz)
        level = self.frame_level_dbfs
        if level is not None and (not isinstance(level, float) or not -60.0 <= level <= 0.0):
            raise _problem("frame_level_dbfs", "None (off) or a number in [-60, 0] dBFS", level)
        if not isinstance(self.canonical_polarity, bool):
            raise _problem("canonical_polarity", "true or false", self.canonical_polarity)

    def _check_sequences(self) -> None:
        for name in _INT_TUPLES:
            value = getattr(self, name)
            if not isinstance(value, tuple) or not value or not all(_is_int(v) and v >= 1 for v in value):
                raise _problem(name, "a non-empty sequence of integers >= 1", value)
        if len(self.res_kernels) != len(self.res_channels):
            raise _problem(
                "res_kernels", f"as long as res_channels ({len(self.res_channels)} entries)", self.res_kernels
            )
        if any(k % 2 == 0 for k in self.res_kernels):
            raise _problem("res_kernels", "odd integers (symmetric 'same' padding)", self.res_kernels)
        if self.res_channels[-1] != self.pool_channels[-1]:
            raise _problem(
                "res_channels",
                f"a sequence ending in pool_channels[-1] = {self.pool_channels[-1]} (the residual sum needs it)",
                self.res_channels,
            )
        min_frame = self.pool_factor ** len(self.pool_channels)
        if not _is_int(self.frame_samples) or self.frame_samples < min_frame:
            raise _problem("frame_samples", f"an integer >= pool_factor ** len(pool_channels) = {min_frame}",
                           self.frame_samples)
        for name in _STR_TUPLES:
            value = getattr(self, name)
            if (
                not isinstance(value, tuple)
                or not all(isinstance(v, str) and v for v in value)
                or len(set(value)) != len(value)
            ):
                raise _problem(name, "a sequence of distinct non-empty strings", value)
        if not self.degradation_types or self.degradation_types[0] != "clean":
            raise _problem("degradation_types", 'a sequence whose first entry is "clean"', self.degradation_types)
        names = self.strengthless_types
        if names is not None and (
            not isinstance(names, tuple)
            or len(set(names)) != len(names)
            or not all(isinstance(v, str) and v in self.degradation_types[1:] for v in names)
        ):
            raise _problem("strengthless_types", "None or distinct degradation_types other than \"clean\"", names)

    @property
    def strengthless(self) -> tuple[str, ...]:
        """The degradation types without a strength: `strengthless_types`, or for a model saved
        before that field, `FORMAT_1_STRENGTHLESS_TYPES` among `degradation_types`."""
        if self.strengthless_types is not None:
            return self.strengthless_types
        return tuple(t for t in self.degradation_types if t in FORMAT_1_STRENGTHLESS_TYPES)

    def has_strength(self, name: str) -> bool:
        """Whether the DS head estimates a strength for degradation type `name`."""
        return name not in self.strengthless

    def to_json(self) -> dict[str, Any]:
        """The config as a dict of ints, floats, strs and lists of those."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelConfig:
        """Rebuild a config from `to_json()` output; every field must be present and no other.

        The front-end fields alone may be absent (checkpoints saved before them): they then
        take `LEGACY_FRONT_END`, the front-end off, so old models behave as they did; so may
        `strengthless_types` (None: `LEGACY_STRENGTHLESS`).
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"ModelConfig.from_json needs a mapping, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"ModelConfig.from_json: unknown field(s) {unknown}")
        data = {**LEGACY_FRONT_END, **LEGACY_STRENGTHLESS, **data}
        missing = sorted(names - set(data))
        if missing:
            raise ValueError(f"ModelConfig.from_json: missing field(s) {missing}")
        return cls(**data)
