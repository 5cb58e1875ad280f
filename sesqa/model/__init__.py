"""The SESQA network (encoder + task heads), its config and its checkpoint files."""

from sesqa.model.checkpoint import Checkpoint, export_checkpoint, load_checkpoint, save_checkpoint
from sesqa.model.config import ModelConfig
from sesqa.model.heads import HEADS, HeadSpec
from sesqa.model.network import SesqaModel

__all__ = [
    "HEADS",
    "Checkpoint",
    "HeadSpec",
    "ModelConfig",
    "SesqaModel",
    "export_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
]
