"""Training: data streams, the eight losses, RangerQH with SWA, one loop for 1 to N processes."""

from .config import MODEL_PRESETS, TrainConfig
from .loop import TrainSummary, train

__all__ = ["MODEL_PRESETS", "TrainConfig", "TrainSummary", "train"]
