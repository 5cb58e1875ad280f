"""Level readout: BS.1770 loudness against pyloudnorm, calibrated peak and RMS, and the warnings."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest

from sesqa.audio.kweight import KWeighting
from sesqa.audio.level import CLIP_RUN_SAMPLES, LevelMeter, measure_level

SR = 48_000


def _sine(freq_hz: float, seconds: float, amplitude: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return amplitude * np.sin(2 * np.pi * freq_hz * t)


def test_full_scale_sine_is_calibrated():
    level = measure_level(_sine(1000.0, 2.0), SR)
    assert level.rms_dbfs == pytest.approx(-3.01, abs=0.01)
    assert level.peak_dbfs == pytest.approx(0.0, abs=0.01)
    # BS.1770-4: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS
    assert measure_level(_sine(997.0, 2.0), SR).loudness_lufs == pytest.approx(-3.01, abs=0.05)


@pytest.mark.parametrize("sr", [16_000, 44_100, 48_000])
def test_loudness_agrees_with_pyloudnorm(sr, speech):
    rng = np.random.default_rng(0)
    x = np.concatenate([0.3 * np.tile(speech, 3)[: 3 * sr], 0.01 * rng.standard_normal(sr)])
    x = x[: len(x) // (sr // 10) * (sr // 10)]  # whole 100 ms steps: pyloudnorm's last block is then complete
    expected = pyloudnorm.Meter(sr).integrated_loudness(x)
    assert measure_level(x, sr).loudness_lufs == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("sr", [8_000, 48_000])
@pytest.mark.parametrize("chunk", [1_000_000, 7_777, 300])
def test_k_weighting_equals_the_recursive_filters(sr, chunk):
    """The FFT blocks, their overlaps and the chunks' overlaps add up to pyloudnorm's two biquads."""
    from scipy.signal import lfilter

    x = np.random.default_rng(1).standard_normal(3 * sr + 11)
    expected = x
    for stage in pyloudnorm.Meter(sr)._filters.values():
        expected = lfilter(stage.b, stage.a, expected)
    k_weighting = KWeighting(sr)
    got = np.concatenate([k_weighting.filter(x[i : i + chunk]) for i in range(0, len(x), chunk)])
    assert np.max(np.abs(got - expected)) < 1e-9


def test_streaming_in_odd_chunks_equals_one_call(speech):
    x = 0.2 * np.tile(speech, 4)
    meter = LevelMeter(SR)
    for start in range(0, len(x), 7_777):
        meter.update(x[start : start + 7_777])
    streamed, whole = meter.result(), measure_level(x, SR)
    assert streamed.loudness_lufs == pytest.approx(whole.loudness_lufs, abs=1e-9)
    assert streamed.peak_dbfs == whole.peak_dbfs


def test_clipping_runs_are_counted_across_chunks():
    x = 0.5 * _sine(200.0, 1.0)
    x[1000:1010] = 1.0  # one run of 10
    x[5000:5002] = -1.0  # two samples: a peak, not clipping
    x[9998:10003] = -1.0  # one run across the chunk boundary below
    meter = LevelMeter(SR)
    meter.update(x[:10_000])
    meter.update(x[10_000:])
    level = meter.result()
    assert level.clipped_runs == 2
    assert any("clipped" in w for w in level.warnings)
    assert CLIP_RUN_SAMPLES == 3


def test_silence_dc_and_quiet_are_named():
    silence = measure_level(np.zeros(SR), SR)
    assert silence.silent and silence.warnings == ("digital silence",)
    assert silence.loudness_lufs == -math.inf and silence.to_json()["loudness_lufs"] is None
    dc = measure_level(np.full(SR, 0.2), SR)
    assert dc.silent and "DC offset" in dc.warnings[0]
    quiet = measure_level(_sine(1000.0, 2.0, amplitude=10 ** (-60 / 20)), SR)
    assert not quiet.silent and any("too quiet" in w for w in quiet.warnings)
    offset = measure_level(_sine(1000.0, 2.0, amplitude=0.3) + 0.01, SR)
    assert any("DC offset +0.0100" in w for w in offset.warnings)
    assert measure_level(_sine(1000.0, 2.0, amplitude=0.3), SR).warnings == ()


def test_bad_rate_is_refused():
    with pytest.raises(ValueError, match="sample_rate"):
        LevelMeter(1_000)
