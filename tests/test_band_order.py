"""benchmarks/band_order.py: full-band clips against themselves band-limited, narrow sources skipped."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from .helpers import SR, speech_like

REPO = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_band_order", REPO / "benchmarks" / "band_order.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_summary_counts_the_clips_whose_narrower_versions_score_lower() -> None:
    figures = _benchmark().summarise({"a": [3.0, 2.5, 2.0], "b": [3.0, 3.1, 2.0]}, ["full band", "8 kHz", "4 kHz"])
    assert figures["mean"] == {"full band": 3.0, "8 kHz": 2.8, "4 kHz": 2.0}
    assert figures["narrower_below"] == {"8 kHz < full band": 0.5, "4 kHz < 8 kHz": 1.0}
    assert figures["ordered"] == 0.5


def test_the_benchmark_scores_full_band_clips_and_skips_narrow_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    full = speech_like(3.0) * 0.5 + 0.05 * rng.standard_normal(3 * SR).astype(np.float32)  # energy up to 24 kHz
    sf.write(tmp_path / "full.wav", full, SR)
    sf.write(tmp_path / "narrow.wav", speech_like(3.0, sr=16_000), 16_000)
    assert _benchmark().main([str(tmp_path), "--json", str(tmp_path / "out.json")]) == 0
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["clips"] == [str(tmp_path / "full.wav")]
    scores = report["models"]["default"]["scores"][str(tmp_path / "full.wav")]
    assert len(scores) == 3 and len(set(scores)) == 3, "the band limits change what is scored"
    assert "1 full-band clip(s) of 2" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _benchmark().main([str(tmp_path), "--edges", "4000,8000"])
