"""The SESQA network (encoder + task heads), its config and its checkpoint files.

The names below are imported on first use (module `__getattr__`), so that importing a torch-free
submodule (`sesqa.model.config`, `sesqa.model.onnx_meta`) does not import torch through this
package's `__init__`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sesqa.model.checkpoint import Checkpoint, export_checkpoint, load_checkpoint, save_checkpoint
    from sesqa.model.config import ModelConfig
    from sesqa.model.heads import HEADS, HeadSpec
    from sesqa.model.network import SesqaModel

_HOMES = {
    "HEADS": "heads",
    "Checkpoint": "checkpoint",
    "HeadSpec": "heads",
    "ModelConfig": "config",
    "SesqaModel": "network",
    "export_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """The public name `name`, imported from its submodule when first asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sesqa.model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sesqa.model.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
