"""Training: data streams, the eight losses, RangerQH with SWA, one loop for 1 to N processes."""

from .config import MODEL_PRESETS, TrainConfig
from .loop import TrainSummary, train
from ..runtime.pause import PAUSED_EXIT, TrainingPaused

__all__ = ["MODEL_PRESETS", "PAUSED_EXIT", "TrainConfig", "TrainSummary", "TrainingPaused", "train"]
