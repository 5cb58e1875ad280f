"""Physical tests of the additive family: the measured SNR is the asked SNR."""

from __future__ import annotations

import numpy as np
import pytest

from sesqa.generator.degradations import REGISTRY, SamplingContext
from sesqa.generator.degradations.coloured_noise import coloured_noise

from .helpers import SR

ADDITIVE = ["additive_noise", "coloured_noise", "hum", "tonal_noise"]


@pytest.mark.parametrize("name", ADDITIVE)
@pytest.mark.parametrize("strength", [0.0, 0.37, 1.0])
def test_measured_snr_equals_asked(name, strength, speech, noise_source):
    deg = REGISTRY[name]
    ctx = SamplingContext(n_samples=len(speech), sr=SR, noise=noise_source)
    for seed in range(6):  # covers whole-frame and partial regions
        params = deg.sample_params(np.random.default_rng(seed), strength, ctx)
        y = deg.apply(speech, SR, params)
        added = (y - speech).astype(np.float64)
        region = slice(params.start_sample, params.stop_sample)
        assert np.all(added[: params.start_sample] == 0) and np.all(added[params.stop_sample :] == 0)
        measured = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(added[region] ** 2))
        assert measured == pytest.approx(params.snr_db, abs=0.5), (name, seed)


def test_partial_regions_are_drawn_and_last_at_least_300_ms(speech, noise_source):
    ctx = SamplingContext(n_samples=len(speech), sr=SR, noise=noise_source)
    lengths = []
    for seed in range(400):
        p = REGISTRY["coloured_noise"].sample_params(np.random.default_rng(seed), 0.5, ctx)
        lengths.append(p.stop_sample - p.start_sample)
    partial = [n for n in lengths if n < len(speech)]
    assert 0.18 < len(partial) / len(lengths) < 0.32
    assert min(partial) >= 0.3 * SR


@pytest.mark.parametrize("exponent", [0.0, 0.7])
def test_coloured_noise_spectral_slope(exponent):
    n = coloured_noise(2**18, exponent, np.random.default_rng(0))
    power = np.abs(np.fft.rfft(n)) ** 2
    f = np.fft.rfftfreq(len(n), 1 / SR)
    low = power[(f > 100) & (f < 200)].mean()
    high = power[(f > 10_000) & (f < 20_000)].mean()
    slope = np.log10(low / high) / np.log10(15_000 / 150)  # power ~ f^-exponent
    assert slope == pytest.approx(exponent, abs=0.1)


def test_hum_is_at_mains_frequency(speech):
    ctx = SamplingContext(n_samples=len(speech), sr=SR)
    params = REGISTRY["hum"].sample_params(np.random.default_rng(3), 1.0, ctx)
    params = REGISTRY["hum"].Params(**{**params.__dict__, "waveform": "sine", "start_sample": 0, "stop_sample": len(speech)})
    added = REGISTRY["hum"].apply(speech, SR, params) - speech
    spectrum = np.abs(np.fft.rfft(added * np.hanning(len(added))))
    peak_hz = np.fft.rfftfreq(len(added), 1 / SR)[np.argmax(spectrum)]
    assert abs(peak_hz - params.frequency_hz) < 1.5
    assert min(abs(params.frequency_hz - 50), abs(params.frequency_hz - 60)) <= 1.0


def test_invalid_snr_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="snr_db"):
        REGISTRY["hum"].Params(snr_db=float("nan"), frequency_hz=50.0, waveform="sine", phase_rad=0.0, start_sample=0, stop_sample=10)
    with pytest.raises(ValueError, match="waveform"):
        REGISTRY["hum"].Params(snr_db=0.0, frequency_hz=50.0, waveform="triangle", phase_rad=0.0, start_sample=0, stop_sample=10)
