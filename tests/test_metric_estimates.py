"""benchmarks/metric_estimates.py: the metric head's estimates against the shards' true measures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARDS = Path(__file__).parent / "fixtures" / "shards-v1"


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_metric_estimates", REPO / "benchmarks" / "metric_estimates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_compares_the_packaged_models_estimates_with_the_measures_the_shards_hold(capsys: pytest.CaptureFixture[str]) -> None:
    assert _benchmark().main([str(SHARDS), "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert "1 test quadruples" in out and "default.onnx" in out, "the packaged model, through the backend compare uses"
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in out.splitlines() if line.startswith("| ") and "measure" not in line}
    assert set(rows) == {"pesq", "stoi", "si_sdr"}, "only the measures these shards recorded"
    pesq_mae = float(rows["pesq"][1])
    assert 0.0 <= pesq_mae < 1.5, "a denormalised PESQ estimate (1-4.5 scale) near the true one"
    assert "not measured in these shards" in out and "csig" in out
