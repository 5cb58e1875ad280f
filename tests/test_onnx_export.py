"""ONNX export of a checkpoint: the graph gives the Scorer's numbers, its metadata the rest, without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from sesqa.audio import load
from sesqa.model import load_checkpoint
from sesqa.model import onnx_export, onnx_meta
from sesqa.model.fuse import fuse_batchnorm

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT = REPO / "sesqa" / "data" / "models" / "default.ckpt"
CLIPS = sorted((REPO / "sesqa" / "data" / "speech" / "ro").glob("*.flac"))
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    return onnx_export.export_onnx(CHECKPOINT, tmp_path_factory.mktemp("onnx") / "default.onnx")


@pytest.fixture(scope="module")
def session(exported: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def checkpoint():
    return load_checkpoint(CHECKPOINT)


@pytest.fixture(scope="module")
def frames(checkpoint) -> np.ndarray:
    """7 frames of 1 s: four of the bundled clips, near-silence, speech loud and clipped, speech on a DC offset.

    No symmetric test tone: its third moment is zero to float rounding, so the front-end's
    polarity is a coin toss that torch and onnxruntime may call differently (module docstring
    of sesqa.model.onnx_export).
    """
    cfg = checkpoint.config
    n = cfg.frame_samples
    speech = [load(p, cfg.sample_rate) for p in CLIPS]
    cut = [a[k * n : (k + 1) * n] for a in speech for k in (1, 2) if a.size >= (k + 1) * n]
    silence = 1e-6 * np.random.default_rng(0).standard_normal(n)
    clipped = np.clip(30.0 * cut[0], -1.0, 1.0)
    dc = 0.3 + 0.5 * cut[1]
    out = np.stack([*cut[:4], silence, clipped, dc]).astype(np.float32)
    assert out.shape == (7, n)
    return out


def _scorer_outputs(checkpoint, x: np.ndarray, z_ref: np.ndarray, z_deg: np.ndarray) -> dict[str, np.ndarray]:
    """What the Scorer and compare compute, on the fused fp32 model the Scorer runs."""
    model = fuse_batchnorm(checkpoint.model)
    with torch.inference_mode():
        z = model.encode(torch.from_numpy(x))
        a, b = torch.from_numpy(z_ref), torch.from_numpy(z_deg)
        return {
            "score": model.score(z).numpy(),
            "score_logit": model.head("score", z).numpy(),
            "dt": torch.sigmoid(model.head("dt", z)).numpy(),
            "ds": torch.sigmoid(model.head("ds", z)).numpy(),
            "z": z.numpy(),
            "jnd": torch.sigmoid(model.head("jnd", a, b)).numpy(),
            "mr": model.head("mr", a, b).numpy(),
        }


def _feed(x: np.ndarray, z_ref: np.ndarray, z_deg: np.ndarray) -> dict[str, np.ndarray]:
    return {onnx_meta.FRAMES: x, onnx_meta.Z_REF: z_ref, onnx_meta.Z_DEG: z_deg}


@pytest.mark.parametrize("batch", [1, 7])
def test_the_graph_gives_the_scorers_numbers(session, checkpoint, frames, batch: int) -> None:
    x = frames[:batch]
    z = np.random.default_rng(batch).standard_normal((2, batch, checkpoint.config.latent_dim)).astype(np.float32)
    want = _scorer_outputs(checkpoint, x, z[0], z[1])
    names = [o.name for o in session.get_outputs()]
    assert names == list(onnx_meta.FRAME_OUTPUTS + onnx_meta.PAIR_OUTPUTS)
    got = dict(zip(names, session.run(names, _feed(x, z[0], z[1])), strict=True))
    for name, value in want.items():
        assert got[name].shape == value.shape and got[name].dtype == np.float32, name
        scale = np.maximum(1.0, np.abs(value))  # z and mr are not bounded: relative above 1
        assert np.max(np.abs(got[name] - value) / scale) < TOLERANCE, name
    assert np.all((got["score"] >= 1) & (got["score"] <= 5))


def test_compare_pairs_the_frames_latents(session, checkpoint, frames) -> None:
    """compare's path: one pass over REF and DEG frames, then the pair heads on their latents."""
    cfg = checkpoint.config
    both = session.run(["score_logit", "z"], _feed(frames[:6], onnx_meta.empty_latents(cfg), onnx_meta.empty_latents(cfg)))
    z_ref, z_deg = both[1][:3], both[1][3:]
    jnd, mr = session.run(["jnd", "mr"], _feed(onnx_meta.empty_frames(cfg), z_ref, z_deg))
    want = _scorer_outputs(checkpoint, frames[:6], z_ref, z_deg)
    assert np.max(np.abs(both[0] - want["score_logit"])) < TOLERANCE
    assert np.max(np.abs(jnd - want["jnd"])) < TOLERANCE
    assert np.max(np.abs(mr - want["mr"]) / np.maximum(1.0, np.abs(want["mr"]))) < TOLERANCE
    same = session.run(["jnd"], _feed(onnx_meta.empty_frames(cfg), z_ref, z_ref))[0]
    assert np.allclose(same, same[0])  # |z - z| = 0: one value whatever the latents


def test_shapes_are_dynamic_in_batch_only(session, checkpoint) -> None:
    cfg = checkpoint.config
    inputs = {i.name: i.shape for i in session.get_inputs()}
    assert inputs == {"frames": ["batch", cfg.frame_samples], "z_ref": ["pairs", cfg.latent_dim], "z_deg": ["pairs", cfg.latent_dim]}
    outputs = {o.name: o.shape for o in session.get_outputs()}
    n_types, n_metrics = len(cfg.degradation_types), len(cfg.metric_names)
    assert outputs == {
        "score": ["batch"], "score_logit": ["batch"], "dt": ["batch", n_types], "ds": ["batch", n_types],
        "z": ["batch", cfg.latent_dim], "jnd": ["pairs"], "mr": ["pairs", n_metrics],
    }  # fmt: skip


def test_metadata_rebuilds_what_score_and_compare_print(exported, session, checkpoint) -> None:
    for source in (exported, session):
        config, stats, untrained, bias = onnx_meta.read_onnx_metadata(source)
        assert config == checkpoint.config
        assert stats == checkpoint.metric_stats
        assert untrained == checkpoint.untrained_heads
        assert bias == checkpoint.model.score_bias
    props = session.get_modelmeta().custom_metadata_map
    assert set(props) == set(onnx_meta.METADATA_KEYS)
    assert props[onnx_meta.FORMAT_KEY] == onnx_meta.FORMAT


def test_weights_are_fp32_and_batchnorm_is_folded(exported) -> None:
    import onnx

    proto = onnx.load(str(exported))
    kinds = {init.data_type for init in proto.graph.initializer if init.dims and np.prod(init.dims) > 1}
    assert kinds == {onnx.TensorProto.FLOAT}
    batchnorms = sum(node.op_type == "BatchNormalization" for node in proto.graph.node)
    assert batchnorms == 5  # the residual blocks' pre-activation BNs and the MLP's first: nothing to fold into
    assert {o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")} == {onnx_export.OPSET}


def test_reading_the_metadata_does_not_import_torch(exported) -> None:
    code = (
        "import json, sys; from sesqa.model.onnx_meta import read_onnx_metadata; "
        f"m = read_onnx_metadata({str(exported)!r}); "
        "print(json.dumps({'torch': 'torch' in sys.modules, 'latent_dim': m.config.latent_dim}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60, check=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"torch": False, "latent_dim": 128}


def test_not_sesqa_metadata_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError, match="not a sesqa ONNX model"):
        onnx_meta.decode_metadata({"producer": "x"})
    with pytest.raises(ValueError, match="metadata lacks"):
        onnx_meta.decode_metadata({onnx_meta.FORMAT_KEY: onnx_meta.FORMAT})


def test_a_failed_export_leaves_nothing_behind(tmp_path, monkeypatch) -> None:
    with pytest.raises(ValueError, match="out_path must end in .onnx"):
        onnx_export.export_onnx(CHECKPOINT, tmp_path / "model.bin")
    monkeypatch.setattr(onnx_export, "VERIFY_TOLERANCE", -1.0)  # every output "differs"
    with pytest.raises(RuntimeError, match="differs from torch"):
        onnx_export.export_onnx(CHECKPOINT, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []
