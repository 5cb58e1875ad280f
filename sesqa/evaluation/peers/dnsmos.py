"""DNSMOS P.835 (Reddy, Gopal, Cutler, ICASSP 2022) as a peer: `sesqa evaluate --peer dnsmos`, benchmarks.

DNSMOS goes through Microsoft's ``speechmos`` package (MIT). Its wheel ships the ONNX models
(``speechmos/dnsmos_models/*.onnx``, 2.9 MB), so nothing is downloaded at run time; it needs
onnxruntime, librosa (the P.808 model's mel spectrogram) and requests (imported, unused), none of
which it declares. They are the optional extra ``peer`` (``pip install 'sesqa[peer]'``, about
350 MB installed, mostly llvmlite/numba under librosa and onnxruntime), not core dependencies.

DNSMOS reads 16 kHz mono in [-1, 1]: files are decoded and resampled with `sesqa.audio.load`
and clipped. It scores 9.01 s windows hopped by 1 s and repeats shorter input until it is 9.01 s
long (speechmos's own behaviour). The figure compared with sesqa's score is OVRL, the overall
quality of P.835; SIG, BAK and P.808 are kept beside it. The first call of a process takes
seconds more (librosa's numba compilation and the ONNX sessions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .base import PeerUnavailable

DnsmosRun = Callable[[np.ndarray, int], Mapping[str, Any]]
"""``speechmos.dnsmos.run(audio, sr)``: a dict with ovrl_mos, sig_mos, bak_mos, p808_mos."""


def load_speechmos() -> DnsmosRun:
    """``speechmos.dnsmos.run``, or PeerUnavailable telling the user what to install."""
    try:
        from speechmos import dnsmos
    except ImportError as e:
        raise PeerUnavailable(
            f"--peer dnsmos needs the speechmos package with onnxruntime and librosa ({e}); "
            "install them with: pip install 'sesqa[peer]'"
        ) from e
    return dnsmos.run


class DnsmosPeer:
    """DNSMOS P.835 (OVRL as the score) via speechmos; ``run`` replaces speechmos (tests)."""

    name = "dnsmos"
    description = "DNSMOS P.835 OVRL (speechmos)"
    columns = ("ovrl", "sig", "bak", "p808")
    main = "ovrl"
    sample_rate = 16_000
    _KEYS: ClassVar[dict[str, str]] = {"ovrl": "ovrl_mos", "sig": "sig_mos", "bak": "bak_mos", "p808": "p808_mos"}

    def __init__(self, run: DnsmosRun | None = None) -> None:
        self._run = run if run is not None else load_speechmos()

    def score_array(self, x: np.ndarray, sr: int) -> dict[str, float]:
        """Every DNSMOS figure of a mono signal at 16 kHz (clipped to [-1, 1] as DNSMOS requires)."""
        if sr != self.sample_rate:
            raise ValueError(f"DNSMOS reads {self.sample_rate} Hz audio, got {sr} Hz")
        clipped = np.clip(np.asarray(x, dtype=np.float32), -1.0, 1.0)
        raw = self._run(clipped, self.sample_rate)
        missing = [key for key in self._KEYS.values() if key not in raw]
        if missing:
            raise ValueError(f"DNSMOS returned no {missing} (got {sorted(raw)})")
        return {column: float(raw[key]) for column, key in self._KEYS.items()}

    def score_file(self, path: str | Path) -> dict[str, float]:
        """Every DNSMOS figure of one file (any format sesqa reads, resampled to 16 kHz)."""
        from ...audio import load

        return self.score_array(load(path, sr=self.sample_rate), self.sample_rate)


__all__ = ["DnsmosPeer", "DnsmosRun", "load_speechmos"]
