"""The encoder's front-end: gain, polarity, DC and sub-audio never reach the network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sesqa.model import ModelConfig, SesqaModel
from sesqa.model.config import LEGACY_FRONT_END
from sesqa.model.frontend import FrontEnd, canonical_polarity, normalise_level, remove_subaudio

from .helpers import tiny_config, warmed_up

SR = 48_000


@pytest.fixture(scope="module")
def model() -> SesqaModel:
    return warmed_up(tiny_config())


def _frames(speech: np.ndarray, n: int = 3) -> torch.Tensor:
    x = torch.from_numpy(np.tile(speech, n)[: SR * n].copy()).reshape(n, SR)
    return 0.5 * x


def _rms_db(x: torch.Tensor) -> float:
    return float(10 * torch.log10(torch.mean(x.double().square())))


@pytest.mark.parametrize("gain_db", [-30.0, -20.0, 6.0])
def test_gain_does_not_move_the_score(model, speech, gain_db):
    x = _frames(speech)
    with torch.no_grad():
        ref, moved = model(x), model(x * 10 ** (gain_db / 20))
    assert torch.max(torch.abs(ref - moved)) < 1e-4


def test_polarity_and_dc_do_not_move_the_score(model, speech):
    x = _frames(speech)
    with torch.no_grad():
        ref = model(x)
        assert torch.max(torch.abs(model(-x) - ref)) < 1e-5
        assert torch.max(torch.abs(model(x + 0.01) - ref)) < 1e-3


def test_highpass_removes_dc_and_subaudio_and_keeps_speech_band():
    t = torch.arange(SR, dtype=torch.float64) / SR
    middle = slice(SR // 4, 3 * SR // 4)  # away from the frame edges

    def gain_db(freq_hz: float) -> float:
        x = torch.sin(2 * torch.pi * freq_hz * t)[None]
        y = remove_subaudio(x, SR, 20.0)
        return _rms_db(y[:, middle]) - _rms_db(x[:, middle])

    assert float(remove_subaudio(torch.full((1, SR), 0.3, dtype=torch.float64), SR, 20.0).abs().max()) < 1e-12
    assert gain_db(5.0) < -12.0
    assert -6.0 < gain_db(10.0) < -3.0
    for f in (20.0, 100.0, 1000.0, 10_000.0):
        assert abs(gain_db(f)) < 0.5, f


def test_level_is_fixed_and_near_silence_is_not_amplified_to_speech_level():
    x = 0.3 * torch.randn(2, SR, generator=torch.Generator().manual_seed(0))
    assert abs(_rms_db(normalise_level(x, -16.0)) - -16.0) < 1e-3
    assert abs(_rms_db(normalise_level(1e-3 * x, -16.0)) - -16.0) < 1e-3
    whisper = 1e-6 * x  # about -130 dBFS: below the floor
    assert _rms_db(normalise_level(whisper, -16.0)) < -60.0


def test_canonical_polarity_is_an_even_map():
    x = torch.randn(5, 1000, generator=torch.Generator().manual_seed(3)) ** 3
    assert torch.equal(canonical_polarity(x), canonical_polarity(-x))
    assert bool((torch.sum(canonical_polarity(x) ** 3, dim=-1) >= 0).all())


def test_legacy_config_has_the_front_end_off_and_passes_frames_through(speech):
    data = tiny_config().to_json()
    for name in LEGACY_FRONT_END:
        data.pop(name)
    legacy = ModelConfig.from_json(data)
    assert (legacy.dc_cutoff_hz, legacy.frame_level_dbfs, legacy.canonical_polarity) == (0.0, None, False)
    x = _frames(speech)
    front = FrontEnd(legacy)
    assert not front.active
    assert torch.equal(front(x), x)


@pytest.mark.parametrize(
    ("field", "value"),
    [("dc_cutoff_hz", -1.0), ("dc_cutoff_hz", 500.0), ("frame_level_dbfs", 3.0), ("canonical_polarity", 1)],
)
def test_front_end_fields_are_validated(field, value):
    with pytest.raises(ValueError, match=rf"ModelConfig\.{field} must be .*got"):
        tiny_config(**{field: value})


# --- the Scorer on a real recording: level invariance, level readout, nothing to score -------


@pytest.fixture(scope="module")
def scorer():
    from sesqa.scoring.scorer import Scorer

    return Scorer(warmed_up(tiny_config()))


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    from sesqa.audio import load
    from sesqa.data import BUNDLED_SPEECH_DIR

    x = load(BUNDLED_SPEECH_DIR / "ro" / "ro_01.flac", SR)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.mark.parametrize(
    "change",
    [lambda x: x * np.float32(10 ** (-20 / 20)), lambda x: x * np.float32(10 ** (-30 / 20)), lambda x: -x,
     lambda x: x + np.float32(0.01)],
    ids=["gain -20 dB", "gain -30 dB", "polarity", "DC 0.01"],
)
def test_inaudible_changes_do_not_move_a_recordings_score(scorer, clip, change):
    before, after = scorer.score(clip, sr=SR), scorer.score(change(clip), sr=SR)
    assert before.scored and after.scored
    np.testing.assert_array_equal(before.speech_frames, after.speech_frames)
    assert abs(after.score - before.score) < 0.02


@pytest.mark.parametrize(("before_s", "after_s"), [(0.0, 0.02), (0.0, 1.37), (0.0, 30.0), (0.37, 0.0), (2.61, 0.5)])
@pytest.mark.parametrize("dc", [0.0, 0.01])
def test_added_silence_does_not_move_a_recordings_score(scorer, clip, before_s, after_s, dc):
    """Digital silence before or after a recording (any length, with or without a DC offset on the
    whole file) leaves every frame's audio as it was: the frames cover the recording alone."""
    plain = scorer.score(clip + np.float32(dc), sr=SR)
    padded = [np.zeros(round(before_s * SR), np.float32), clip, np.zeros(round(after_s * SR), np.float32)]
    added = scorer.score(np.concatenate(padded) + np.float32(dc), sr=SR)
    np.testing.assert_allclose(added.frame_starts_s[added.speech_frames], plain.frame_starts_s[plain.speech_frames] + before_s, atol=1e-9)
    assert added.score == pytest.approx(plain.score, abs=1e-6)


def test_result_carries_the_level_of_a_calibrated_sine(scorer):
    t = np.arange(2 * SR) / SR
    result = scorer.score(np.sin(2 * np.pi * 1000 * t).astype(np.float32), sr=SR)
    assert result.level is not None
    assert result.level.rms_dbfs == pytest.approx(-3.01, abs=0.01)
    assert result.level.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert result.to_json(frames=False)["level"]["rms_dbfs"] == pytest.approx(-3.01, abs=0.01)


@pytest.mark.parametrize(
    ("signal", "reason"),
    [(np.zeros(2 * SR, np.float32), "digital silence"), (np.full(2 * SR, 0.2, np.float32), "DC offset of +0.2")],
    ids=["silence", "DC only"],
)
def test_silence_and_dc_only_get_no_score_and_say_why(scorer, signal, reason):
    result = scorer.score(signal, sr=SR)
    assert not result.scored and np.isnan(result.score) and result.to_json()["score"] is None
    assert any(reason in w for w in result.warnings), result.warnings
    assert result.degradations == ()


def test_a_head_no_loss_trained_gives_no_number(clip):
    from sesqa.scoring.scorer import Scorer

    untrained = {"score": "L_RANK, L_CONS switched off (--without)", "dt": "L_DT switched off (--without)"}
    result = Scorer(warmed_up(tiny_config()), untrained_heads=untrained).score(clip, sr=SR)
    assert not result.scored and result.degradations == () and np.isnan(result.clean_probability)
    assert any("score head was not trained" in w for w in result.warnings)
    assert any("type head was not trained" in w for w in result.warnings)


def test_switch_on_front_end_keeps_the_weights_and_turns_the_front_end_on(tmp_path) -> None:
    """scripts/switch_on_front_end.py made the packaged file: same weights (fp16), front-end on, refuses twice."""
    import importlib.util
    from pathlib import Path

    from sesqa.model.checkpoint import load_checkpoint, save_checkpoint

    script = Path(__file__).resolve().parents[1] / "scripts" / "switch_on_front_end.py"
    spec = importlib.util.spec_from_file_location("switch_on_front_end", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    legacy = warmed_up(tiny_config(**LEGACY_FRONT_END))
    src, dst = tmp_path / "old.ckpt", tmp_path / "new.ckpt"
    save_checkpoint(src, legacy, extra={"train_config": {"jnd": [], "without": []}})
    module.switch_on_front_end(src, dst)
    new = load_checkpoint(dst)
    assert (new.config.dc_cutoff_hz, new.config.frame_level_dbfs, new.config.canonical_polarity) == (20.0, -16.0, True)
    assert new.extra["train_config"] == {"jnd": [], "without": []}
    for name, value in legacy.state_dict().items():
        expected = value.half().float() if value.is_floating_point() else value
        assert torch.equal(new.model.state_dict()[name], expected), name
    with pytest.raises(SystemExit, match="already on"):
        module.switch_on_front_end(dst, tmp_path / "again.ckpt")
