"""What a sesqa ONNX file holds besides its graph, read without torch (onnxruntime only).

`sesqa.model.onnx_export` writes one .onnx file per checkpoint: the fused fp32 network as a graph
and, in the model's metadata_props, everything `score` and `compare` print that is not a network
output (the ModelConfig, the metric statistics, the heads never trained, the score head's BN
bias beta). This module names the graph's inputs, outputs and metadata keys, and reads the
metadata back through onnxruntime's `get_modelmeta().custom_metadata_map`, so that a scorer
needs neither torch nor the `onnx` package. It must not import torch (checked by the tests).

The graph (batch and pairs are dynamic; T = config.frame_samples, D = config.latent_dim):

- inputs: "frames" float32 [batch, T]; "z_ref", "z_deg" float32 [pairs, D];
- outputs of "frames": "score" [batch] (1 + 4 sigmoid(score logit)), "score_logit" [batch],
  "dt", "ds" [batch, n_types] (sigmoid probabilities), "z" [batch, D];
- outputs of ("z_ref", "z_deg"): "jnd" [pairs] (sigmoid of the JND head on |z_ref - z_deg|) and,
  when the model has an MR head, "mr" [pairs, n_metrics] (raw, normalised with metric_stats).

Every input must be fed on each run (onnxruntime refuses a missing input); asking only for the
outputs of one group still runs only the nodes they need, so the other group may be fed a
[0, ...] array (see `empty_frames` / `empty_latents`).
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from sesqa.model.config import ModelConfig

if TYPE_CHECKING:
    import onnxruntime

FORMAT = "sesqa.onnx/1"
"""Value of the FORMAT_KEY entry; bumped when inputs, outputs or metadata change incompatibly."""

FORMAT_KEY = "sesqa.format"
VERSION_KEY = "sesqa.version"
CONFIG_KEY = "sesqa.model_config"
METRIC_STATS_KEY = "sesqa.metric_stats"
UNTRAINED_HEADS_KEY = "sesqa.untrained_heads"
SCORE_BIAS_KEY = "sesqa.score_bias"
SOURCE_SHA256_KEY = "sesqa.source_sha256"
"""SHA-256 of the checkpoint file the graph was exported from (tells a stale export apart)."""
METADATA_KEYS = (FORMAT_KEY, VERSION_KEY, CONFIG_KEY, METRIC_STATS_KEY, UNTRAINED_HEADS_KEY, SCORE_BIAS_KEY, SOURCE_SHA256_KEY)

FRAMES = "frames"
Z_REF = "z_ref"
Z_DEG = "z_deg"
INPUTS = (FRAMES, Z_REF, Z_DEG)
FRAME_OUTPUTS = ("score", "score_logit", "dt", "ds", "z")
"""Outputs computed from "frames"."""
PAIR_OUTPUTS = ("jnd", "mr")
"""Outputs computed from ("z_ref", "z_deg"); "mr" only when the model has a metric head."""


class OnnxMetadata(NamedTuple):
    """The side data of a sesqa ONNX file, as `load_checkpoint` gives it for a checkpoint."""

    config: ModelConfig
    metric_stats: dict[str, Any] | None
    untrained_heads: dict[str, str]
    score_bias: float


def encode_metadata(
    config: ModelConfig,
    metric_stats: dict[str, Any] | None,
    untrained_heads: dict[str, str],
    score_bias: float,
    version: str,
    source_sha256: str = "",
) -> dict[str, str]:
    """The metadata_props entries (all strings, JSON where structured) for one exported model."""
    if not math.isfinite(score_bias):
        raise ValueError(f"score_bias must be finite, got {score_bias!r}")
    try:
        stats = json.dumps(metric_stats, sort_keys=True)
    except TypeError as e:
        raise ValueError(f"metric_stats must be JSON-serialisable (dicts, lists, numbers, strings): {e}") from e
    return {
        FORMAT_KEY: FORMAT,
        VERSION_KEY: version,
        CONFIG_KEY: json.dumps(config.to_json(), sort_keys=True),
        METRIC_STATS_KEY: stats,
        UNTRAINED_HEADS_KEY: json.dumps(dict(untrained_heads), sort_keys=True),
        SCORE_BIAS_KEY: repr(float(score_bias)),
        SOURCE_SHA256_KEY: source_sha256,
    }


def decode_metadata(props: dict[str, str], where: str = "ONNX model") -> OnnxMetadata:
    """Rebuild the side data from metadata_props entries; ValueError naming `where` if they are not sesqa's."""
    found = props.get(FORMAT_KEY)
    if found != FORMAT:
        said = repr(found) if found is not None else f"no {FORMAT_KEY!r} entry"
        raise ValueError(f"{where} is not a sesqa ONNX model: expected format {FORMAT!r}, found {said}")
    missing = [k for k in (CONFIG_KEY, METRIC_STATS_KEY, UNTRAINED_HEADS_KEY, SCORE_BIAS_KEY) if k not in props]
    if missing:
        raise ValueError(f"{where}: metadata lacks {missing}")
    try:
        config = ModelConfig.from_json(json.loads(props[CONFIG_KEY]))
        stats = json.loads(props[METRIC_STATS_KEY])
        untrained = json.loads(props[UNTRAINED_HEADS_KEY])
        bias = float(props[SCORE_BIAS_KEY])
    except (ValueError, TypeError) as e:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{where}: unreadable sesqa metadata: {e}") from e
    if stats is not None and not isinstance(stats, dict):
        raise ValueError(f"{where}: {METRIC_STATS_KEY} must be a JSON object or null, got {type(stats).__name__}")
    if not isinstance(untrained, dict):
        raise ValueError(f"{where}: {UNTRAINED_HEADS_KEY} must be a JSON object, got {type(untrained).__name__}")
    if not math.isfinite(bias):
        raise ValueError(f"{where}: {SCORE_BIAS_KEY} must be finite, got {bias!r}")
    return OnnxMetadata(config, stats, {str(k): str(v) for k, v in untrained.items()}, bias)


def read_onnx_metadata(source: str | os.PathLike[str] | onnxruntime.InferenceSession) -> OnnxMetadata:
    """(ModelConfig, metric_stats, untrained_heads, score_bias) of a sesqa ONNX file or open session.

    Pass the session a scorer already holds to avoid loading the graph twice; a path opens a
    CPU session just for its metadata.
    """
    import onnxruntime as ort  # only here: importing this module stays cheap

    if isinstance(source, ort.InferenceSession):
        return decode_metadata(dict(source.get_modelmeta().custom_metadata_map))
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ONNX model file {path!r} does not exist")
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph/... types, not subclasses of one base
        raise ValueError(f"{path!r} is not a readable ONNX model: {str(e)[:200]}") from e
    return decode_metadata(dict(session.get_modelmeta().custom_metadata_map), repr(path))


def empty_frames(config: ModelConfig) -> np.ndarray:
    """A [0, frame_samples] float32 array to feed "frames" when only pair outputs are asked for."""
    return np.zeros((0, config.frame_samples), np.float32)


def empty_latents(config: ModelConfig) -> np.ndarray:
    """A [0, latent_dim] float32 array to feed "z_ref"/"z_deg" when only frame outputs are asked for."""
    return np.zeros((0, config.latent_dim), np.float32)
