"""generator.sources.read_frame: a frame ending a few samples past what the decoder gives (resampling,
a codec's rounding) is padded, not refused; one ending clearly past the file is refused with the file named."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from sesqa.audio import AudioError
from sesqa.generator.sources import END_SLACK_S, SOURCE_FRAME_S, read_frame

from .helpers import speech_like

SR = 48000
N = int(round(SOURCE_FRAME_S * SR))


@pytest.fixture
def exact_frame(tmp_path):
    """A file exactly one source frame long, at 48 kHz."""
    path = tmp_path / "exact.wav"
    sf.write(path, speech_like(SOURCE_FRAME_S, SR, seed=3), SR, subtype="FLOAT")
    return path


def test_a_frame_a_few_samples_past_the_end_is_padded_with_zeros(exact_frame):
    short = 4
    frame = read_frame(str(exact_frame), short / SR, normalise=False)
    whole, _ = sf.read(exact_frame, dtype="float32")
    assert len(frame) == N
    np.testing.assert_allclose(frame[: N - short], whole[short:], atol=1e-6)
    assert not frame[N - short :].any()


def test_a_frame_clearly_past_the_end_is_refused_naming_the_file(exact_frame):
    offset_s = 2 * END_SLACK_S
    with pytest.raises(AudioError, match=rf"{exact_frame.name}: only \d+ samples from 0.004 s, need {N}"):
        read_frame(str(exact_frame), offset_s)


def test_a_file_resampled_to_48_khz_gives_a_whole_frame(tmp_path):
    path = tmp_path / "low.wav"
    sf.write(path, speech_like(SOURCE_FRAME_S, 22050, seed=4), 22050, subtype="FLOAT")
    frame = read_frame(str(path), 0.0)
    assert len(frame) == N and np.max(np.abs(frame)) == pytest.approx(1.0)
