"""Checkpoint files that rebuild a scorer on their own: config, weights and side data in one file.

The file is a torch.save of plain data only (dicts, lists, numbers, strings, tensors), so it is
read back with torch.load(weights_only=True) and never unpickles arbitrary objects.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from sesqa.runtime.files import AtomicFile
from sesqa.model.config import ModelConfig
from sesqa.model.heads import HEADS
from sesqa.model.network import SesqaModel

log = logging.getLogger(__name__)

FORMAT = "sesqa.checkpoint/1"
"""Value of the "format" entry; bumped when the layout changes incompatibly."""

_WEIGHT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
# What torch.load raises on files that are not (intact) torch files, or hold forbidden objects.
_LOAD_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, ValueError, TypeError, IndexError)


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """What `load_checkpoint` returns: the model (in eval mode) and the data saved with it."""

    model: SesqaModel
    config: ModelConfig
    metric_stats: dict[str, Any] | None
    extra: dict[str, Any] | None

    @property
    def untrained_heads(self) -> dict[str, str]:
        """Heads whose losses never ran in training, with why: their outputs are not to be shown."""
        return untrained_heads(self.extra)


UNTRAINED_HEADS = "untrained_heads"
"""Entry of `extra` in which the trainer records {head: why} for heads no loss trained."""


def untrained_heads(extra: Mapping[str, Any] | None) -> dict[str, str]:
    """{head: why} for the heads a checkpoint's training never trained.

    Checkpoints from before the trainer recorded it are read from their train config: the only
    head whose loss needs data that a run may lack is "jnd" (human JND pairs), and any head's
    loss can be switched off with --without.
    """
    extra = extra or {}
    recorded = extra.get(UNTRAINED_HEADS)
    if isinstance(recorded, Mapping):
        return {str(k): str(v) for k, v in recorded.items()}
    config = extra.get("train_config")
    if not isinstance(config, Mapping):
        return {}
    heads = {spec.name for spec in HEADS}
    out = {str(n): "its loss was switched off (--without)" for n in config.get("without") or () if n in heads}
    if not config.get("jnd"):
        out["jnd"] = "no human JND pairs in training (--jnd)"
    return out


_OBJECT_REFUSALS = ("unrecognized function", "Can only create new object", "Can only build", "unsupported class")
"""Phrases of torch's weights-only unpickler that name a function or class it would have to call."""


def _weights_only_refusal(error: BaseException) -> tuple[str, bool] | None:
    """(torch's reason, whether it names code or an object to build) for a weights-only refusal; else None.

    torch's message is long (advice on weights_only=False first), so the offending global, e.g.
    "global posix.system", or the unpickler's own reason is picked out of it. Text or other
    non-pickle bytes are refused too ("Unsupported operand 110"): those name no code.
    """
    message = str(error)
    if not isinstance(error, pickle.UnpicklingError) or "Weights only load failed" not in message:
        return None
    if found := re.search(r"GLOBAL (\S+)", message):
        return f"global {found.group(1)}", True
    reason = message.split("WeightsUnpickler error:")[-1].split("Check the documentation")[0]
    lines = [s.strip() for s in reason.replace("Weights only load failed.", "").splitlines()]
    lines = [s for s in lines if s and "weights_only" not in s]  # torch's advice, not the reason
    if not lines:
        return None
    return lines[0][:200], any(phrase in lines[0] for phrase in _OBJECT_REFUSALS)


def _check_storable(value: Any, where: str) -> None:
    """Refuse anything that torch.load(weights_only=True) would not read back."""
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"{where}: keys must be str or int, got {type(key).__name__} {key!r}")
            _check_storable(item, f"{where}[{key!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_storable(item, f"{where}[{i}]")
        return
    raise TypeError(
        f"{where}: cannot store a {type(value).__name__}; use dicts, lists, numbers, strings or tensors"
    )


def _stored_weights(model: SesqaModel, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The model's state_dict on the CPU with floating tensors cast to `dtype`."""
    out: dict[str, torch.Tensor] = {}
    for key, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            cast = tensor.to(dtype)
            if torch.isfinite(tensor).all() and not torch.isfinite(cast).all():
                raise ValueError(f"weights_dtype={dtype}: {key} overflows; save in float32")
            tensor = cast
        out[key] = tensor
    return out


def save_checkpoint(
    path: str | os.PathLike[str],
    model: SesqaModel,
    *,
    metric_stats: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    weights_dtype: torch.dtype = torch.float32,
) -> None:
    """Write `model` with its config (and optional side data) to `path`, atomically.

    The file is written under a temporary name in the same directory and then renamed over
    `path`, so a crash never leaves a half-written checkpoint. weights_dtype=torch.float16
    halves the file (for shipping); loading converts back to float32.
    """
    if weights_dtype not in _WEIGHT_DTYPES:
        raise ValueError(f"weights_dtype must be one of {_WEIGHT_DTYPES}, got {weights_dtype}")
    _check_storable(metric_stats, "metric_stats")
    _check_storable(extra, "extra")
    payload = {
        "format": FORMAT,
        "model_config": model.config.to_json(),
        "state_dict": _stored_weights(model, weights_dtype),
        "metric_stats": metric_stats,
        "extra": extra,
    }
    target = Path(path)
    with AtomicFile(target, "wb") as f:
        torch.save(payload, f.file)
    log.debug("saved checkpoint %s (%s weights)", target, weights_dtype)


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model saved by `save_checkpoint`, in eval mode, on `map_location`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except _LOAD_ERRORS as e:
        reason, names_code = _weights_only_refusal(e) or (f"{type(e).__name__}: {str(e)[:200]}", False)
        if names_code:
            raise ValueError(
                f"{str(path)!r} holds code or objects that sesqa refuses to load ({reason}); a sesqa "
                "checkpoint holds plain data only, and unpickling anything else could execute arbitrary code"
            ) from e
        raise ValueError(f"{str(path)!r} is not a readable sesqa checkpoint (not a torch file, or damaged): {reason}") from e
    if not isinstance(data, dict):
        # A ValueError: the file's content is wrong, not the type of an argument.
        kind = type(data).__name__
        raise ValueError(f"{str(path)!r} is not a sesqa checkpoint: it holds a {kind}, not a dict")  # noqa: TRY004
    if data.get("format") != FORMAT:
        found = repr(data["format"]) if "format" in data else "no 'format' entry"
        raise ValueError(f"{str(path)!r} is not a sesqa checkpoint: expected format {FORMAT!r}, found {found}")
    for key in ("model_config", "state_dict"):
        if key not in data:
            raise ValueError(f"{str(path)!r}: checkpoint has no {key!r} entry")
    try:
        config = ModelConfig.from_json(data["model_config"])
    except (ValueError, TypeError) as e:
        raise ValueError(f"{str(path)!r}: invalid model_config: {e}") from e
    state = data["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{str(path)!r}: state_dict must map names to tensors")
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model = SesqaModel(config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{str(path)!r}: state_dict does not match its model_config: {e}") from e
    model.to(map_location).eval()
    return Checkpoint(model=model, config=config, metric_stats=data.get("metric_stats"), extra=data.get("extra"))


TRAINING_STATE = ("optimizer", "scheduler", "swa", "ranks")
"""Entries of a training checkpoint's `extra` that only resuming needs."""


def export_checkpoint(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    weights_dtype: torch.dtype = torch.float16,
    notes: dict[str, Any] | None = None,
) -> Checkpoint:
    """Write `src` again as a file for sharing: weights in `weights_dtype`, no resume state.

    The config, metric statistics and the run's description (train config, step, validation
    figures) are kept; `notes` (provenance, evaluation results) is added as extra["export"].
    Returns the exported checkpoint as loaded back from `dst`.
    """
    loaded = load_checkpoint(src)
    extra = {k: v for k, v in (loaded.extra or {}).items() if k not in TRAINING_STATE}
    if notes is not None:
        extra["export"] = notes
    save_checkpoint(dst, loaded.model, metric_stats=loaded.metric_stats, extra=extra, weights_dtype=weights_dtype)
    return load_checkpoint(dst)
