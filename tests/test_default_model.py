"""The packaged default model: it loads with no argument and hears degradation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sesqa.audio import SAMPLE_RATE, load
from sesqa.generator.degradations.base import REGISTRY, SamplingContext
from sesqa.generator.degradations.pools import pool_members
from sesqa.generator.sources import peak_normalise
from sesqa.scoring.default import DEFAULT_MODEL, packaged_checkpoint, packaged_onnx, resolve_model
from sesqa.scoring.scorer import Scorer
from sesqa.evaluation.sweep import SweepConfig, noise_bank

from .helpers import run_cli

SPEECH = Path(__file__).resolve().parents[1] / "sesqa" / "data" / "speech"
# A bundled full-band clip: the default model trained on this speaker (ktuberling's ro words are in the corpus's
# train split). Held-out speech is measured by benchmarks/ (docs/model-card.md).
CLIP = SPEECH / "ro" / "ro_01.flac"
# A speaker the model never heard: the corpus leaves out ktuberling's 8 kHz languages, es among them
# (sesqa/corpora/ktuberling.py), so this clip is narrow band.
UNHEARD_CLIP = SPEECH / "es" / "es_01.flac"
MAX_FILE_MB = 20


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer()


def first_seconds(clip: Path) -> np.ndarray:
    return peak_normalise(load(clip, SAMPLE_RATE, 0.0, 4.0))


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return first_seconds(CLIP)


def test_the_default_model_ships_small_and_loads_without_arguments(scorer: Scorer) -> None:
    assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.stat().st_size < MAX_FILE_MB * 1e6
    assert scorer.config.degradation_types[0] == "clean"
    types = scorer.config.degradation_types[1:]
    assert set(pool_members("paper")) <= set(types) <= set(REGISTRY), "it knows the paper's 37, and no unknown type"


@pytest.mark.parametrize("clip", [CLIP, UNHEARD_CLIP], ids=["trained-speaker", "unheard-speaker"])
@pytest.mark.parametrize(("kind", "strength"), [("additive_noise", 0.7), ("low_pass", 0.9), ("clipping", 0.9), ("mp3", 0.9)])
def test_a_clean_clip_scores_above_its_degraded_copy(scorer: Scorer, clip: Path, kind: str, strength: float) -> None:
    clean = first_seconds(clip)
    noise = noise_bank(SweepConfig(clips=(clip,)).noise_roots)
    ctx = SamplingContext(n_samples=len(clean), sr=SAMPLE_RATE, noise=noise)
    params = REGISTRY[kind].sample_params(np.random.default_rng(0), strength, ctx)
    degraded = REGISTRY[kind].apply(clean, SAMPLE_RATE, params)
    s_clean, s_degraded = scorer.score(clean, sr=SAMPLE_RATE).score, scorer.score(degraded, sr=SAMPLE_RATE).score
    assert s_clean > s_degraded + 0.3, f"{kind} at strength {strength}: clean {s_clean:.2f}, degraded {s_degraded:.2f}"


def test_sesqa_score_without_model_uses_the_packaged_one(scorer: Scorer, tmp_path: Path) -> None:
    result = run_cli("score", CLIP, "--quiet", "--json", tmp_path / "out.json")
    assert result.exit_code == 0, result.output
    scored = json.loads((tmp_path / "out.json").read_text())
    assert scored[0]["score"] == pytest.approx(scorer.score(CLIP).score, abs=1e-3)


@pytest.mark.parametrize(
    ("variant", "change"),
    [
        ("gain -20 dB", lambda x: x * 10 ** (-20 / 20)),
        ("gain -30 dB", lambda x: x * 10 ** (-30 / 20)),
        ("polarity", lambda x: -x),
        ("DC offset 0.01", lambda x: x + np.float32(0.01)),
    ],
)
def test_the_default_model_does_not_hear_gain_polarity_or_dc(scorer: Scorer, clean: np.ndarray, variant: str, change) -> None:
    """The packaged model has the input front-end on, so no listener-inaudible change moves its score."""
    assert scorer.config.frame_level_dbfs is not None and scorer.config.canonical_polarity
    moved = abs(scorer.score(change(clean).astype(np.float32), sr=SAMPLE_RATE).score - scorer.score(clean, sr=SAMPLE_RATE).score)
    assert moved < 0.02, f"{variant} moves the score by {moved:.3f}"


def test_the_retired_telephony_name_says_what_replaced_it(tmp_path: Path, monkeypatch) -> None:
    """`telephony` was the second packaged model: its name must not fall through to a missing file called telephony."""
    result = run_cli("score", CLIP, "--model", "telephony")
    assert result.exit_code != 0
    message = " ".join(result.output.split())  # rich wraps the error box
    for said in ("packaged `telephony` model was retired", "trained on the telephony pool too", "serves calls", "not comparable", "./telephony"):
        assert said in message, f"{said!r} not in {result.output}"
    for call in (lambda: resolve_model("telephony"), lambda: resolve_model(Path("telephony")), lambda: packaged_onnx("telephony")):
        with pytest.raises(ValueError, match="retired"):
            call()
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(DEFAULT_MODEL, tmp_path / "telephony")
    assert resolve_model("./telephony") == Path("telephony"), "a file of that name is still reachable"
    result = run_cli("score", CLIP, "--model", "./telephony")
    assert result.exit_code == 0, result.output
    assert "model: telephony\n" in result.output, "scored by the file, not as a packaged model"
    assert resolve_model("telephony.ckpt") == Path("telephony.ckpt"), "anything but a name is a path"
    assert resolve_model("default") == packaged_checkpoint("default") and resolve_model(None) == DEFAULT_MODEL


def test_score_names_the_packaged_model_it_used() -> None:
    result = run_cli("score", CLIP, "--model", "default")
    assert result.exit_code == 0, result.output
    assert f"model: {packaged_onnx('default')} (packaged default model" in result.output
