"""Peer predictors for `sesqa evaluate --peer`: other models scored on the same inputs.

Two peers: DNSMOS (below) and Distill-MOS (`distill_mos`, installed without dependencies).

DNSMOS P.835 (Reddy, Gopal, Cutler, ICASSP 2022) through Microsoft's ``speechmos`` package
(MIT). Its wheel ships the ONNX models (``speechmos/dnsmos_models/*.onnx``, 2.9 MB), so nothing
is downloaded at run time; it needs onnxruntime, librosa (the P.808 model's mel spectrogram) and
requests (imported, unused), none of which it declares. They are the optional extra ``peer``
(``pip install 'sesqa[peer]'``, about 350 MB installed, mostly llvmlite/numba under librosa and
onnxruntime), not core dependencies.

DNSMOS reads 16 kHz mono in [-1, 1]: files are decoded and resampled with `sesqa.audio.load`
and clipped. It scores 9.01 s windows hopped by 1 s and repeats shorter input until it is 9.01 s
long (speechmos's own behaviour). The figure compared with sesqa's score is OVRL, the overall
quality of P.835; SIG, BAK and P.808 are kept beside it. The first call of a process takes
seconds more (librosa's numba compilation and the ONNX sessions).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

log = logging.getLogger(__name__)

DnsmosRun = Callable[[np.ndarray, int], Mapping[str, Any]]
"""``speechmos.dnsmos.run(audio, sr)``: a dict with ovrl_mos, sig_mos, bak_mos, p808_mos."""


class PeerUnavailable(ImportError):
    """A peer's package is not installed; the message says how to install it."""


@dataclass(frozen=True)
class PeerScores:
    """What a peer made of some files: the main score per path, every figure, and failures."""

    name: str
    scores: dict[str, float]
    details: dict[str, dict[str, float]]
    errors: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


class Peer(Protocol):
    """A predictor scored beside sesqa: a name, a description, figure columns and a scorer."""

    name: str
    description: str
    columns: tuple[str, ...]
    main: str

    def score_file(self, path: str | Path) -> dict[str, float]:
        """Every figure of one file; raises AudioError naming the file when it cannot be read."""
        ...


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
        from ..audio import load

        return self.score_array(load(path, sr=self.sample_rate), self.sample_rate)


def _distill_mos() -> Peer:
    from .distill_mos import DistillMosPeer  # its module imports PeerUnavailable from here

    return DistillMosPeer()


PEERS: dict[str, Callable[[], Peer]] = {"dnsmos": DnsmosPeer, "distillmos": _distill_mos}
"""Peers by the name `--peer` takes: DNSMOS, and Distill-MOS (`distill_mos`)."""


def make_peer(name: str) -> Peer:
    """The peer called ``name``; ValueError for an unknown name, PeerUnavailable if not installed."""
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    return PEERS[name]()


def score_with_peer(peer: Peer, files: Mapping[str, Path] | Iterable[tuple[str, Path]]) -> PeerScores:
    """Score each (key, audio path) with ``peer``; a file that fails is logged and listed, not fatal."""
    from ..audio import AudioError

    items = files.items() if isinstance(files, Mapping) else files
    scores: dict[str, float] = {}
    details: dict[str, dict[str, float]] = {}
    errors: list[tuple[str, str]] = []
    done: dict[Path, dict[str, float] | None] = {}
    for key, path in items:
        file = Path(path).resolve()
        if file not in done:
            try:
                done[file] = peer.score_file(path)
            except AudioError as e:
                done[file] = None
                errors.append((key, str(e)))
                log.warning("%s cannot score %s", peer.name, e)
        figures = done[file]
        if figures is not None:
            details[key] = figures
            scores[key] = figures[peer.main]
    return PeerScores(peer.name, scores, details, tuple(errors))
