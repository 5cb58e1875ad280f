"""SESQA network: shapes, size, gradients, anti-aliasing, companding, config and checkpoints."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from sesqa.model import (
    HEADS,
    Checkpoint,
    ModelConfig,
    SesqaModel,
    load_checkpoint,
    save_checkpoint,
)
from sesqa.model import checkpoint as checkpoint_module
from sesqa.model import onnx_meta
from sesqa.model.config import FORMAT_1_STRENGTHLESS_TYPES
from sesqa.model.encoder import BlurPool, MuLaw

TYPES = ("clean", "noise", "clipping")
METRICS = ("pesq", "stoi")


def tiny_config(**overrides) -> ModelConfig:
    base = {
        "pool_channels": (4, 4, 8, 8),
        "res_blocks": 2,
        "res_channels": (16, 16, 8),
        "mlp_hidden": 32,
        "latent_dim": 16,
        "head_hidden": 16,
        "frame_samples": 4800,
        "degradation_types": TYPES,
        "metric_names": METRICS,
    }
    base.update(overrides)
    return ModelConfig(**base)


def frames(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(*shape, generator=g)


def warmed_up(cfg: ModelConfig, seed: int = 0) -> SesqaModel:
    """A model whose BN running statistics have seen data, so eval-mode outputs are non-trivial."""
    torch.manual_seed(seed)
    model = SesqaModel(cfg)
    with torch.no_grad():
        for k in range(3):
            model(frames(4, cfg.frame_samples, seed=k))
    return model.eval()


@pytest.fixture(scope="module")
def default_model() -> SesqaModel:
    torch.manual_seed(0)
    return SesqaModel(ModelConfig(degradation_types=TYPES, metric_names=METRICS))


# --- shapes and size -------------------------------------------------------------------------


def test_default_shapes(default_model):
    z = default_model.encode(frames(2, 48_000))
    assert z.shape == (2, 200)
    assert z.dtype == torch.float32
    expected = {"score": (2,), "jnd": (2,), "dt": (2, 3), "sd": (2,), "ds": (2, 3), "mr": (2, 2)}
    assert set(default_model.heads) == set(expected)
    for spec in HEADS:
        other = z.flip(0) if spec.pair_input else None
        assert default_model.head(spec.name, z, other).shape == expected[spec.name], spec.name
    assert default_model.score(z).shape == (2,)


def test_encode_keeps_leading_dims():
    model = SesqaModel(tiny_config()).train()
    x = frames(3, 4, 4800)
    z = model.encode(x)
    assert z.shape == (3, 4, 16)
    model.eval()
    # one pass over the flattened frames equals encoding each frame group separately
    torch.testing.assert_close(model.encode(x)[1], model.encode(x[1]))
    pair_out = model.head("sd", z[:, 0], z[:, 1])
    assert pair_out.shape == (3,)
    assert model.head("dt", z).shape == (3, 4, len(TYPES))
    assert model(x).shape == (3, 4)


def test_default_parameter_count(default_model):
    n = sum(p.numel() for p in default_model.encoder.parameters())
    assert 7_000_000 <= n <= 7_400_000
    assert n == 7_216_905  # the figure quoted in the Encoder docstring


def test_vocabulary_heads_keep_last_dim_and_mr_absent_without_metrics():
    model = SesqaModel(tiny_config(degradation_types=("clean",), metric_names=())).train()
    z = model.encode(frames(4, 4800))
    assert "mr" not in model.heads
    assert model.head("dt", z).shape == (4, 1)
    assert model.head("ds", z).shape == (4, 1)
    with pytest.raises(ValueError, match="mr"):
        model.head("mr", z, z)


def test_head_input_checks():
    model = SesqaModel(tiny_config()).eval()
    z = torch.randn(2, 16)
    with pytest.raises(ValueError, match="z_other"):
        model.head("jnd", z)
    with pytest.raises(ValueError, match="single"):
        model.head("score", z, z)
    with pytest.raises(ValueError, match="same shape"):
        model.head("sd", z, z[:1])
    with pytest.raises(ValueError, match="latent_dim"):
        model.head("score", torch.randn(2, 15))


def test_jnd_head_is_symmetric_and_blind_to_identical_pairs():
    model = SesqaModel(tiny_config()).eval()
    zu, zv = torch.randn(5, 16), torch.randn(5, 16)
    torch.testing.assert_close(model.head("jnd", zu, zv), model.head("jnd", zv, zu))
    same = model.head("jnd", zu, zu)
    torch.testing.assert_close(same, same[:1].expand(5))


def test_score_range():
    model = SesqaModel(tiny_config()).eval()
    s = model.score(100 * torch.randn(64, 16))
    assert torch.all((s >= 1) & (s <= 5))
    assert s.max() - s.min() > 1.0  # not stuck at one value


# --- gradients ---------------------------------------------------------------------------------


def test_gates_start_near_bypass_and_gradients_reach_mu_and_gates():
    model = SesqaModel(tiny_config()).train()
    gates = model.gates()
    assert len(gates) == 2
    for a in gates:
        assert a.shape == (8,)
        torch.testing.assert_close(torch.sigmoid(a), torch.full((8,), 1 / (1 + math.exp(-3.0))))
    assert abs(1 / (1 + math.exp(-3.0)) - 0.9526) < 1e-4
    assert model.mu.item() == pytest.approx(8.0)
    model(frames(4, 4800)).sum().backward()
    mu_param = model.encoder.companding.log_mu
    assert mu_param.grad is not None and mu_param.grad.abs().item() > 0
    for a in gates:
        assert a.grad is not None and torch.all(a.grad.abs() > 0)


# --- BlurPool and mu-law -----------------------------------------------------------------------


def _rms(x: torch.Tensor) -> float:
    return x.pow(2).mean().sqrt().item()


def test_blurpool_suppresses_aliasing():
    pool = BlurPool(channels=1, factor=4, taps=7)
    n = torch.arange(4096, dtype=torch.float32)
    # 0.3 cycles/sample is far above the post-downsampling Nyquist (0.125) and folds to 0.2
    high = torch.sin(2 * math.pi * 0.3 * n + 0.4).view(1, 1, -1)
    low = torch.sin(2 * math.pi * 0.01 * n + 0.4).view(1, 1, -1)
    plain = high[..., ::4]
    blurred = pool(high)
    assert blurred.shape[-1] == math.ceil(4096 / 4)
    inner = slice(4, -4)  # away from the padded edges
    assert _rms(plain[..., inner]) > 0.6  # strided subsampling keeps the alias at full strength
    assert _rms(blurred[..., inner]) < 0.1 * _rms(plain[..., inner])
    # the passband survives
    assert _rms(pool(low)[..., inner]) > 0.9 * _rms(low[..., ::4][..., inner])


def test_blurpool_length_for_any_input():
    pool = BlurPool(channels=3, factor=4, taps=7)
    for t in (1, 2, 5, 17, 100):
        assert pool(torch.randn(2, 3, t)).shape == (2, 3, math.ceil(t / 4))


def test_mulaw_closed_form_monotonic_odd():
    mu_law = MuLaw(8.0)
    x = torch.linspace(-1.2, 1.2, 2001)
    with torch.no_grad():
        y = mu_law(x)
        expected = torch.sign(x) * torch.log(1 + 8.0 * x.abs()) / math.log(9.0)
        torch.testing.assert_close(y, expected)
        assert torch.all(y[1:] > y[:-1])
        torch.testing.assert_close(mu_law(-x), -y)
        assert mu_law(torch.tensor([1.0, -1.0, 0.0])).tolist() == pytest.approx([1.0, -1.0, 0.0])
        mu_law.log_mu.fill_(math.log(255.0))
        torch.testing.assert_close(mu_law(torch.tensor([0.5])), torch.tensor([math.log(1 + 127.5) / math.log(256.0)]))


# --- config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("res_blocks", -1),
        ("pool_kernel", 0),
        ("mu_init", 0.0),
        ("mu_init", float("nan")),
        ("gate_init", float("inf")),
        ("latent_dim", 2.5),
        ("blur_taps", 4),
        ("res_kernels", (1, 2, 1)),
        ("res_kernels", (1, 3)),
        ("res_channels", (512, 512, 128)),
        ("frame_samples", 100),
        ("pool_channels", ()),
        ("degradation_types", ("noise", "clean")),
        ("degradation_types", ("clean", "clean")),
        ("metric_names", ("pesq", "")),
        ("sample_rate", True),
    ],
)
def test_config_validation_names_field(field, value):
    with pytest.raises(ValueError, match=rf"ModelConfig\.{field} must be .*got"):
        ModelConfig(**{field: value})


def test_config_json_round_trip():
    cfg = tiny_config(mu_init=5, strengthless_types=["clipping"])
    data = cfg.to_json()
    assert isinstance(cfg.mu_init, float)
    assert data["pool_channels"] == [4, 4, 8, 8]
    assert data["degradation_types"] == list(TYPES)
    for value in data.values():
        assert isinstance(value, (int, float, str, list))
    back = ModelConfig.from_json(data)
    assert back == cfg
    assert hash(back) == hash(cfg)


def test_types_without_strength_round_trip_and_old_configs_mean_format_1():
    cfg = tiny_config(degradation_types=("clean", "reverse", "mp3"), strengthless_types=["mp3"])
    assert cfg.strengthless_types == ("mp3",) and cfg.strengthless == ("mp3",)
    assert cfg.has_strength("reverse") and not cfg.has_strength("mp3")  # the recorded list, not format 1's
    for config in (cfg, tiny_config(strengthless_types=()), tiny_config()):
        assert ModelConfig.from_json(json.loads(json.dumps(config.to_json()))) == config  # checkpoint form
        meta = onnx_meta.decode_metadata(onnx_meta.encode_metadata(config, None, {}, 0.0, "test"))  # ONNX form
        assert meta.config == config and meta.config.strengthless == config.strengthless
    old = tiny_config(degradation_types=("clean", "reverse", "mp3")).to_json()
    del old["strengthless_types"]  # saved before the field existed
    legacy = ModelConfig.from_json(old)
    assert legacy.strengthless_types is None and legacy.strengthless == FORMAT_1_STRENGTHLESS_TYPES == ("reverse",)
    assert not legacy.has_strength("reverse") and legacy.has_strength("mp3")
    assert tiny_config().strengthless == ()  # format 1's, among types that lack reverse
    for bad in (("clean",), ("vinyl_crackle",), ("clipping", "clipping"), "clipping"):
        with pytest.raises(ValueError, match=r"ModelConfig\.strengthless_types must be .*got"):
            tiny_config(strengthless_types=bad)


def test_config_from_json_rejects_unknown_and_missing():
    data = tiny_config().to_json()
    with pytest.raises(ValueError, match="unknown field.*dropout"):
        ModelConfig.from_json({**data, "dropout": 0.1})
    del data["latent_dim"]
    with pytest.raises(ValueError, match="missing field.*latent_dim"):
        ModelConfig.from_json(data)


def test_model_package_does_not_pull_the_generator():
    code = "import sys, sesqa.model; print('sesqa.generator' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path):
    model = warmed_up(tiny_config())
    x = frames(3, 4800, seed=7)
    opt = torch.optim.Adam(model.parameters())
    model.train()
    model(frames(4, 4800)).sum().backward()
    opt.step()
    opt.zero_grad()
    model.eval()
    with torch.no_grad():
        before = model(x)
    stats = {"pesq": {"mean": 2.5, "std": 0.7}, "stoi": {"mean": 0.9, "std": 0.05}}
    extra = {"step": 12, "optimizer": opt.state_dict()}
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, metric_stats=stats, extra=extra)

    ckpt = load_checkpoint(path)
    assert isinstance(ckpt, Checkpoint)
    assert not ckpt.model.training
    assert ckpt.config == model.config
    assert ckpt.metric_stats == stats
    assert ckpt.extra["step"] == 12
    restored = torch.optim.Adam(ckpt.model.parameters())
    restored.load_state_dict(ckpt.extra["optimizer"])
    with torch.no_grad():
        assert torch.equal(ckpt.model(x), before)
    assert ckpt.model.mu.item() == pytest.approx(model.mu.item())


def test_checkpoint_fp16_is_close_and_half_size(tmp_path):
    # large enough that tensor data, not the archive overhead, dominates the file size
    cfg = tiny_config(pool_channels=(8, 16, 32, 64), res_channels=(128, 128, 64), mlp_hidden=256,
                      latent_dim=64, head_hidden=64)
    model = warmed_up(cfg)
    x = frames(3, 4800, seed=3)
    with torch.no_grad():
        before = model(x)
    full, half = tmp_path / "full.pt", tmp_path / "half.pt"
    save_checkpoint(full, model)
    save_checkpoint(half, model, weights_dtype=torch.float16)
    ratio = os.path.getsize(half) / os.path.getsize(full)
    assert 0.45 < ratio < 0.6
    ckpt = load_checkpoint(half)
    assert all(p.dtype == torch.float32 for p in ckpt.model.parameters())
    with torch.no_grad():
        after = ckpt.model(x)
    torch.testing.assert_close(after, before, atol=2e-2, rtol=0)
    assert not torch.equal(after, before)  # it really was stored at lower precision


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    model = SesqaModel(tiny_config())
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, extra={"step": 1})
    assert os.listdir(tmp_path) == ["model.pt"]
    original = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, extra={"step": 2})
    assert os.listdir(tmp_path) == ["model.pt"]
    assert path.read_bytes() == original


def test_checkpoint_refuses_unstorable_side_data(tmp_path):
    model = SesqaModel(tiny_config())
    with pytest.raises(TypeError, match=r"extra\['when'\]"):
        save_checkpoint(tmp_path / "m.pt", model, extra={"when": object()})
    assert os.listdir(tmp_path) == []


def test_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_checkpoint(missing)
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="notes.txt"):
        load_checkpoint(text)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match="other.pt.*format"):
        load_checkpoint(other)


class _Payload:
    """Stands for an arbitrary pickled object that must never be unpickled."""


def test_load_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "sesqa.checkpoint/1", "thing": _Payload()}, path)
    with pytest.raises(ValueError, match=r"evil.pt.*refuses to load.*test_model\._Payload"):
        load_checkpoint(path)


class _RunsACommand:
    """Pickles as a call of os.system, as a tampered checkpoint would; weights-only loading never calls it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_load_says_the_file_holds_code_and_names_the_global_without_running_it(tmp_path):
    from .helpers import run_cli

    marker, path = tmp_path / "it-ran", tmp_path / "tampered.ckpt"
    save_checkpoint(path, SesqaModel(tiny_config()))
    data = torch.load(path, weights_only=True)
    data["extra"] = {"hook": _RunsACommand(marker)}
    torch.save(data, path)
    with pytest.raises(ValueError) as raised:
        load_checkpoint(path)
    message = str(raised.value)
    assert "tampered.ckpt" in message and "holds code or objects that sesqa refuses to load" in message
    assert f"{os.system.__module__}.system" in message, message  # the global, e.g. posix.system
    assert "arbitrary code" in message, message
    result = run_cli("export", path, tmp_path / "out.ckpt")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"{os.system.__module__}.system" in result.output
    assert not marker.exists() and not (tmp_path / "out.ckpt").exists()
    text = tmp_path / "notes.txt"  # refused by the same unpickler, but it names no code
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match=r"notes.txt' is not a readable sesqa checkpoint.*Unsupported operand"):
        load_checkpoint(text)


def test_load_refuses_mismatched_state_dict(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, SesqaModel(tiny_config()))
    data = torch.load(path, weights_only=True)
    data["model_config"]["latent_dim"] = 12
    torch.save(data, path)
    with pytest.raises(ValueError, match="model.pt.*does not match"):
        load_checkpoint(path)

    save_checkpoint(path, SesqaModel(tiny_config()))
    data = torch.load(path, weights_only=True)
    data["model_config"]["metric_names"] = []  # the saved "mr" head is now unexpected
    torch.save(data, path)
    with pytest.raises(ValueError, match="does not match"):
        load_checkpoint(path)

    data["model_config"]["res_blocks"] = -3
    torch.save(data, path)
    with pytest.raises(ValueError, match="res_blocks"):
        load_checkpoint(path)


def test_fused_batchnorm_model_gives_the_same_outputs_and_leaves_the_original_alone():
    from sesqa.model.fuse import fuse_batchnorm

    model = warmed_up(tiny_config())
    with torch.no_grad():  # affine BN parameters away from their (1, 0) start
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fused = fuse_batchnorm(model)

    def count_bn(m: torch.nn.Module) -> int:
        return sum(isinstance(x, torch.nn.BatchNorm1d) for x in m.modules())

    # Only the pre-activation BN of each residual block and the one opening the MLP stay.
    assert count_bn(fused) == model.config.res_blocks + 1 < count_bn(model)
    x = frames(5, model.config.frame_samples, seed=7)
    with torch.no_grad():
        z, zf = model.encode(x), fused.encode(x)
        torch.testing.assert_close(zf, z, rtol=1e-5, atol=1e-5)
        for name in model.heads:
            other = z.flip(0) if model.heads[name].spec.pair_input else None
            other_f = zf.flip(0) if other is not None else None
            torch.testing.assert_close(fused.head(name, zf, other_f), model.head(name, z, other), rtol=1e-4, atol=1e-4)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert count_bn(model) > count_bn(fused)


def test_export_drops_resume_state_and_keeps_what_scoring_needs(tmp_path):
    from sesqa.model import export_checkpoint

    model = warmed_up(tiny_config())
    stats = {"schema": "sesqa.metric_stats/1", "measures": {}}
    extra = {"step": 40, "best": {"e_gen": 0.5}, "optimizer": {"state": {0: torch.zeros(200_000)}}, "ranks": [{"quad": None}], "swa": None}
    src, dst = tmp_path / "last.ckpt", tmp_path / "shared.ckpt"
    save_checkpoint(src, model, metric_stats=stats, extra=extra)
    shipped = export_checkpoint(src, dst, notes={"data": "test corpus"})
    assert shipped.extra == {"step": 40, "best": {"e_gen": 0.5}, "export": {"data": "test corpus"}}
    assert shipped.metric_stats == stats and shipped.config == model.config
    assert os.path.getsize(dst) < 0.2 * os.path.getsize(src)  # the 800 kB of optimizer state is gone
    x = frames(2, model.config.frame_samples, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(shipped.model(x), model(x), atol=2e-2, rtol=0)
