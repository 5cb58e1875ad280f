"""Distill-MOS (Stahl, Gamper, ICASSP 2025) as a peer: `sesqa evaluate --peer distillmos`, benchmarks.

Microsoft's ``distillmos`` package (MIT) ships its weights inside the wheel
(``distillmos/weights/distill_mos_v7.pt``, 17 MB), so nothing is downloaded at run time. Its
declared dependencies cannot install beside sesqa's torch: it wants torchaudio (no build matches
torch 2.13) and xls-r-sqa, which wants transformers and librosa it never uses here. So it is an
optional extra installed without dependencies, never a dependency of sesqa:

    pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0

``distillmos`` imports torchaudio at the top of its module but calls it only to read and resample
files in its own command line; sesqa decodes and resamples (`sesqa.audio.load`, 16 kHz) and hands
the model samples, so when torchaudio is absent an empty stand-in module is put in its place for
the import alone (`load_distillmos`) and removed again. The model cuts input into 7.68 s windows
hopped by at most 1 s (shorter input is zero-padded), normalises each window's peak, and averages
the windows' MOS (1-5).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import logging
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import PeerUnavailable

log = logging.getLogger(__name__)

INSTALL = "pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0"
"""How to install the peer beside sesqa (see the module docstring for why without dependencies)."""

DistillMosModel = Callable[[Any], Any]
"""``distillmos.ConvTransformerSQAModel()`` in eval mode: (batch, samples) float tensor -> (batch, 1) MOS."""


def _import_without_torchaudio() -> Any:
    """``distillmos``, imported with an empty stand-in for torchaudio when torchaudio is missing."""
    if importlib.util.find_spec("torchaudio") is not None:
        return importlib.import_module("distillmos")
    sys.modules["torchaudio"] = types.ModuleType("torchaudio")
    try:
        return importlib.import_module("distillmos")
    finally:
        del sys.modules["torchaudio"]


def load_distillmos() -> DistillMosModel:
    """Distill-MOS with its packaged weights, in eval mode; PeerUnavailable saying how to install it."""
    try:
        distillmos = _import_without_torchaudio()
    except ImportError as e:
        raise PeerUnavailable(f"--peer distillmos needs the distillmos package ({e}); install it with: {INSTALL}") from e
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # it prints where it loaded its weights from
        model = distillmos.ConvTransformerSQAModel()
    log.debug("%s", printed.getvalue().strip())
    return model.eval()


class DistillMosPeer:
    """Distill-MOS's MOS of a file; ``model`` replaces the packaged network (tests)."""

    name = "distillmos"
    description = "Distill-MOS (distillmos 0.9.1)"
    columns = ("mos",)
    main = "mos"
    sample_rate = 16_000

    def __init__(self, model: DistillMosModel | None = None) -> None:
        self._model = model if model is not None else load_distillmos()

    def score_array(self, x: np.ndarray, sr: int) -> dict[str, float]:
        """Distill-MOS of a mono signal at 16 kHz."""
        import torch

        if sr != self.sample_rate:
            raise ValueError(f"Distill-MOS reads {self.sample_rate} Hz audio, got {sr} Hz")
        samples = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None]
        with torch.inference_mode():
            mos = self._model(samples)
        return {"mos": float(mos.reshape(-1)[0])}

    def score_file(self, path: str | Path) -> dict[str, float]:
        """Distill-MOS of one file (any format sesqa reads, resampled to 16 kHz)."""
        from ...audio import load

        return self.score_array(load(path, sr=self.sample_rate), self.sample_rate)


__all__ = ["INSTALL", "DistillMosPeer", "load_distillmos"]
