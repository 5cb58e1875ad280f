"""The 11 reference-based measures of SESQA (spec section 5), declared as data, and `compute`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from . import (
    cbak,
    covl,
    csig,
    llr,
    log_mel_distortion,
    mcd,
    pesq,
    segsnr,
    si_sdr,
    stoi,
    wss,
)
from ._analysis import MetricUndefined, PairAnalysis

MetricFn = Callable[[np.ndarray, np.ndarray, int], float]


@dataclass(frozen=True)
class MetricSpec:
    """What one measure is: name, unit, direction, where it is defined, and how to compute it."""

    name: str
    unit: str
    higher_is_better: bool
    reference: str
    fn: MetricFn = field(repr=False)
    """Public pure function (ref, deg, sr) -> float; NaN where undefined."""
    from_analysis: Callable[[PairAnalysis], float] = field(repr=False)
    """The same measure on a shared PairAnalysis; raises MetricUndefined with the reason."""
    value_range: tuple[float, float] = (-math.inf, math.inf)
    """Closed range every defined value lies in."""


_LOIZOU = 'P. C. Loizou, "Speech Enhancement: Theory and Practice", 2nd ed., CRC Press, 2013'
_HU_LOIZOU = (
    'Y. Hu, P. C. Loizou, "Evaluation of objective quality measures for speech enhancement", '
    "IEEE TASLP 16(1), 2008; " + _LOIZOU + ", composite.m"
)

_SPECS = (
    MetricSpec(
        name="pesq", unit="MOS-LQO", higher_is_better=True,
        reference="ITU-T P.862 / P.862.2 (wideband); `pesq` package",
        fn=pesq.pesq, from_analysis=pesq.from_analysis, value_range=(1.0, 4.7),
    ),
    MetricSpec(
        name="csig", unit="MOS (1-5)", higher_is_better=True, reference=_HU_LOIZOU,
        fn=csig.csig, from_analysis=csig.from_analysis, value_range=(1.0, 5.0),
    ),
    MetricSpec(
        name="cbak", unit="MOS (1-5)", higher_is_better=True, reference=_HU_LOIZOU,
        fn=cbak.cbak, from_analysis=cbak.from_analysis, value_range=(1.0, 5.0),
    ),
    MetricSpec(
        name="covl", unit="MOS (1-5)", higher_is_better=True, reference=_HU_LOIZOU,
        fn=covl.covl, from_analysis=covl.from_analysis, value_range=(1.0, 5.0),
    ),
    MetricSpec(
        name="segsnr", unit="dB", higher_is_better=True, reference=_LOIZOU + ", composite.m / comp_snr.m",
        fn=segsnr.segsnr, from_analysis=segsnr.from_analysis, value_range=(segsnr.MIN_DB, segsnr.MAX_DB),
    ),
    MetricSpec(
        name="llr", unit="nats", higher_is_better=False,
        reference='Quackenbush, Barnwell, Clements, "Objective Measures of Speech Quality", 1988, eq. 2.18; '
        + _LOIZOU + ", comp_llr.m",
        fn=llr.llr, from_analysis=llr.from_analysis, value_range=(0.0, llr.FRAME_MAX),
    ),
    MetricSpec(
        name="wss", unit="dB^2", higher_is_better=False,
        reference='D. H. Klatt, "Prediction of perceived phonetic distance from critical-band spectra", '
        "ICASSP 1982; " + _LOIZOU + ", comp_wss.m",
        fn=wss.wss, from_analysis=wss.from_analysis, value_range=(0.0, math.inf),
    ),
    MetricSpec(
        name="stoi", unit="correlation", higher_is_better=True,
        reference="C. H. Taal, R. C. Hendriks, R. Heusdens, J. Jensen, IEEE TASLP 19(7), 2011; `pystoi` package",
        fn=stoi.stoi, from_analysis=stoi.from_analysis, value_range=(-1.0, 1.0),
    ),
    MetricSpec(
        name="si_sdr", unit="dB", higher_is_better=True,
        reference='J. Le Roux, S. Wisdom, H. Erdogan, J. R. Hershey, "SDR - half-baked or well done?", ICASSP 2019',
        fn=si_sdr.si_sdr, from_analysis=si_sdr.from_analysis, value_range=(si_sdr.MIN_DB, si_sdr.MAX_DB),
    ),
    MetricSpec(
        name="mcd", unit="dB", higher_is_better=False,
        reference='R. F. Kubichek, "Mel-cepstral distance measure for objective speech quality assessment", '
        "IEEE PACRIM 1993",
        fn=mcd.mcd, from_analysis=mcd.from_analysis, value_range=(0.0, math.inf),
    ),
    MetricSpec(
        name="log_mel_distortion", unit="dB", higher_is_better=False,
        reference='log-spectral distance (A. H. Gray, J. D. Markel, "Distance measures for speech processing", '
        "IEEE TASSP 24(5), 1976) on 80 mel bands",
        fn=log_mel_distortion.log_mel_distortion, from_analysis=log_mel_distortion.from_analysis,
        value_range=(0.0, math.inf),
    ),
)

METRICS: dict[str, MetricSpec] = {s.name: s for s in _SPECS}
"""The measures in their fixed order (the order of the model's regression targets)."""

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)


def compute(
    ref: np.ndarray, deg: np.ndarray, sr: int, names: Iterable[str] | None = None
) -> tuple[dict[str, float], dict[str, str]]:
    """Measures `names` (default: all, in METRIC_NAMES order) on one pair, sharing intermediates.

    Returns (values, errors): values has every requested name, NaN where the measure is
    undefined, and errors[name] says why for each NaN. The 16 kHz resampling, PESQ, LLR,
    WSS, segSNR and the mel spectrogram are each computed at most once. Raises ValueError
    for a bad pair (shape, length, non-finite samples, rate) or an unknown name.
    """
    wanted = METRIC_NAMES if names is None else tuple(names)
    unknown = [n for n in wanted if n not in METRICS]
    if unknown:
        raise ValueError(f"names: unknown measure(s) {unknown}; known: {list(METRIC_NAMES)}")
    analysis = PairAnalysis(ref, deg, sr)
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    for name in wanted:
        try:
            values[name] = float(METRICS[name].from_analysis(analysis))
        except MetricUndefined as e:
            values[name] = float("nan")
            errors[name] = str(e)
    return values, errors
