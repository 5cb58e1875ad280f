"""Reference-based measures on (reference, degraded) pairs: the 11 regression targets of SESQA.

Each measure is a pure function ``(ref, deg, sr) -> float`` in its own module (``pesq``,
``csig``, ``cbak``, ``covl``, ``segsnr``, ``llr``, ``wss``, ``stoi``, ``si_sdr``, ``mcd``,
``log_mel_distortion``), NaN where undefined. ``METRICS`` declares each one's unit, direction
and reference in the fixed target order; ``compute`` evaluates several on one pair, sharing
intermediates and saying why each NaN is one. The normalisation statistics (``RunningStats``)
belong to the shard format: ``sesqa.shards.moments``.
"""

from ._analysis import PROCESSING_SR, SILENCE_PEAK, MetricUndefined, PairAnalysis
from .registry import METRIC_NAMES, METRICS, MetricSpec, compute

__all__ = [
    "METRICS",
    "METRIC_NAMES",
    "PROCESSING_SR",
    "SILENCE_PEAK",
    "MetricSpec",
    "MetricUndefined",
    "PairAnalysis",
    "compute",
]
