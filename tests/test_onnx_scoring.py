"""Scoring through onnxruntime: the packaged models' ONNX twins, in step with their checkpoints,
give the torch path's numbers, and scoring with them never imports torch."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sesqa.model import onnx_meta
from sesqa.scoring.backend import open_backend
from sesqa.scoring.compare import compare
from sesqa.scoring.default import PACKAGED_MODELS, packaged_checkpoint, packaged_onnx
from sesqa.scoring.onnx_backend import OnnxBackend
from sesqa.scoring.scorer import Scorer

from .helpers import run_cli

REPO = Path(__file__).resolve().parents[1]
CLIPS = sorted((REPO / "sesqa" / "data" / "speech" / "ro").glob("*.flac"))
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def onnx_scorer() -> Scorer:
    return Scorer()


@pytest.fixture(scope="module")
def torch_scorer() -> Scorer:
    return Scorer.from_checkpoint(packaged_checkpoint("default"))


@pytest.mark.parametrize("name", sorted(PACKAGED_MODELS))
def test_each_packaged_onnx_file_is_the_export_of_its_checkpoint(name: str) -> None:
    """Kept in step: the ONNX file records the SHA-256 of the checkpoint it was exported from.
    After retraining, refresh it with `sesqa export NAME sesqa/data/models/NAME.onnx --onnx`."""
    onnx = packaged_onnx(name)
    assert onnx.is_file(), f"{onnx} is missing: sesqa export {name} {onnx} --onnx"
    session = OnnxBackend(onnx).session
    recorded = dict(session.get_modelmeta().custom_metadata_map)[onnx_meta.SOURCE_SHA256_KEY]
    actual = hashlib.sha256(packaged_checkpoint(name).read_bytes()).hexdigest()
    assert recorded == actual, f"{onnx} was exported from another {packaged_checkpoint(name).name}: sesqa export {name} {onnx} --onnx"


def test_the_packaged_model_runs_in_onnxruntime_and_agrees_with_torch(onnx_scorer: Scorer, torch_scorer: Scorer) -> None:
    assert isinstance(onnx_scorer.backend, OnnxBackend) and onnx_scorer.backend.source.endswith("default.onnx")
    assert onnx_scorer.config == torch_scorer.config
    assert onnx_scorer.untrained_heads == torch_scorer.untrained_heads and onnx_scorer.metric_stats == torch_scorer.metric_stats
    for clip in CLIPS:
        a, b = onnx_scorer.score(clip, embeddings=True), torch_scorer.score(clip, embeddings=True)
        assert a.score == pytest.approx(b.score, abs=TOLERANCE)
        np.testing.assert_allclose(a.frame_scores, b.frame_scores, atol=TOLERANCE)
        np.testing.assert_allclose(a.frame_degradations, b.frame_degradations, atol=TOLERANCE)
        np.testing.assert_allclose(a.embeddings, b.embeddings, atol=TOLERANCE, rtol=TOLERANCE)
        assert [g.name for g in a.degradations] == [g.name for g in b.degradations]


def test_compare_agrees_between_the_engines(onnx_scorer: Scorer, torch_scorer: Scorer) -> None:
    ref, deg = CLIPS[0], CLIPS[1]
    a, b = compare(onnx_scorer, ref, deg), compare(torch_scorer, ref, deg)
    for field in ("ref_score", "deg_score", "reference_score", "jnd_probability", "score_bias"):
        assert getattr(a, field) == pytest.approx(getattr(b, field), abs=TOLERANCE, nan_ok=True), field
    assert a.metrics.keys() == b.metrics.keys() and a.metrics
    for name in a.metrics:
        assert a.metrics[name] == pytest.approx(b.metrics[name], rel=TOLERANCE, abs=TOLERANCE), name


def test_scoring_with_the_packaged_model_never_imports_torch_or_scipy(tmp_path: Path) -> None:
    """`score` and `compare` with the packaged model load neither torch (2.4 s) nor scipy (1.1 s)."""
    code = "\n".join([
        "import sys",
        "from sesqa.cli import app",
        f"for args in (['score', {str(CLIPS[0])!r}, '--quiet', '--json', {str(tmp_path / 'out.json')!r}],",
        f"             ['compare', {str(CLIPS[0])!r}, {str(CLIPS[1])!r}]):",
        "    try:",
        "        app(args, prog_name='sesqa')",
        "    except SystemExit as e:",
        "        assert not e.code, e.code",
        "print('torch' in sys.modules, 'scipy' in sys.modules)",
    ])  # fmt: skip
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "False False", "scoring with the packaged model imported torch or scipy"
    assert json.loads((tmp_path / "out.json").read_text())[0]["score"] is not None


def test_a_gpu_or_bf16_takes_the_torch_checkpoint_and_an_onnx_file_refuses_them(tmp_path: Path) -> None:
    from sesqa.scoring.torch_backend import TorchBackend

    assert isinstance(open_backend(None, device="cpu", precision="bf16"), TorchBackend)
    with pytest.raises(ValueError, match="bf16 needs its torch checkpoint"):
        open_backend(packaged_onnx("default"), precision="bf16")
    with pytest.raises(ValueError, match="for a GPU, score with its torch checkpoint"):
        open_backend(packaged_onnx("default"), device="cuda")
    not_a_model = tmp_path / "x.onnx"
    not_a_model.write_bytes(b"RIFF....WAVE")
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        open_backend(not_a_model)


def test_export_onnx_from_the_cli_scores_like_its_checkpoint(tmp_path: Path, ckpt: Path) -> None:
    out = tmp_path / "tiny.onnx"
    result = run_cli("export", ckpt, out, "--onnx")
    assert result.exit_code == 0, result.output
    assert "ONNX" in result.output and out.is_file()
    x = 0.3 * np.sin(2 * np.pi * 187.0 * np.arange(48_000 * 2) / 48_000).astype(np.float32)
    x += 0.01 * np.random.default_rng(0).standard_normal(x.size).astype(np.float32)
    a, b = Scorer.from_checkpoint(out).score(x, sr=48_000), Scorer.from_checkpoint(ckpt).score(x, sr=48_000)
    assert a.score == pytest.approx(b.score, abs=TOLERANCE)
    bad = run_cli("export", tmp_path / "missing.ckpt", tmp_path / "m.onnx", "--onnx")
    assert bad.exit_code == 2 and "missing.ckpt" in bad.output
