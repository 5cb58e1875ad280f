"""Physical checks of the effect and filter degradations (14 echo .. 24 tremolo).

Filter responses are measured with steady sines (Hann-windowed lock-in on the second half of
the output, after the transients); time effects with cross-correlations and envelopes.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import signal

from sesqa.generator.degradations import REGISTRY, SamplingContext
from sesqa.generator.degradations._filters import band_edges_hz, q_from_bandwidth
from sesqa.generator.degradations.band_pass import BandPass
from sesqa.generator.degradations.band_reject import BandReject
from sesqa.generator.degradations.chorus import Chorus
from sesqa.generator.degradations.echo import Echo
from sesqa.generator.degradations.extreme_eq import ExtremeEq
from sesqa.generator.degradations.high_pass import HighPass
from sesqa.generator.degradations.low_pass import LowPass
from sesqa.generator.degradations.overdrive import Overdrive
from sesqa.generator.degradations.phaser import Phaser
from sesqa.generator.degradations.reverb import Reverb
from sesqa.generator.degradations.tremolo import SHAPES, Tremolo

from .helpers import SR

N = int(1.1 * SR)
EFFECTS = (
    "echo", "extreme_eq", "band_pass", "band_reject", "high_pass", "low_pass",
    "chorus", "overdrive", "phaser", "reverb", "tremolo",
)  # fmt: skip


def sine(freq_hz: float, amplitude: float = 0.5, n: int = N) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq_hz * np.arange(n) / SR)).astype(np.float32)


def white_noise(seed: int = 0, n: int = N) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def amplitude_at(y: np.ndarray, freq_hz: float) -> float:
    """Amplitude of the `freq_hz` component over the second half of `y` (Hann lock-in)."""
    tail = np.asarray(y[len(y) // 2 :], dtype=np.float64)
    t = np.arange(len(y) // 2, len(y)) / SR
    w = np.hanning(len(tail))
    return float(2 * abs(np.sum(w * tail * np.exp(-2j * np.pi * freq_hz * t))) / np.sum(w))


def gain_db(deg, params, freq_hz: float) -> float:
    """Steady-state gain of a (linear) degradation at one frequency."""
    x = sine(freq_hz)
    return 20 * math.log10(amplitude_at(deg.apply(x, SR, params), freq_hz) / amplitude_at(x, freq_hz))


def energy_db(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.sum(np.square(x, dtype=np.float64))))


@pytest.mark.parametrize("cutoff_hz, order", [(150.0, 2), (1000.0, 4), (4000.0, 6)])
def test_high_pass_is_3db_down_at_cutoff_and_rolls_off_below(cutoff_hz, order):
    p = HighPass.Params(cutoff_hz=cutoff_hz, order=order)
    assert gain_db(HighPass, p, cutoff_hz) == pytest.approx(-3.0, abs=1.0)
    assert gain_db(HighPass, p, cutoff_hz * 4) == pytest.approx(0.0, abs=0.5)
    assert gain_db(HighPass, p, cutoff_hz / 2) < -(6.0 * order - 1.0)


@pytest.mark.parametrize("cutoff_hz, order", [(8000.0, 2), (1000.0, 4), (250.0, 6)])
def test_low_pass_is_3db_down_at_cutoff_and_rolls_off_above(cutoff_hz, order):
    p = LowPass.Params(cutoff_hz=cutoff_hz, order=order)
    assert gain_db(LowPass, p, cutoff_hz) == pytest.approx(-3.0, abs=1.0)
    assert gain_db(LowPass, p, cutoff_hz / 4) == pytest.approx(0.0, abs=0.5)
    assert gain_db(LowPass, p, cutoff_hz * 2) < -(6.0 * order - 1.0)


def test_low_pass_cutoff_on_white_noise_by_welch():
    x = white_noise()
    p = LowPass.Params(cutoff_hz=2000.0, order=4)
    f, pxx = signal.welch(x, SR, nperseg=8192)
    _, pxy = signal.csd(x, LowPass.apply(x, SR, p), SR, nperseg=8192)
    response_db = 20 * np.log10(np.abs(pxy / pxx))
    assert np.interp(2000.0, f, response_db) == pytest.approx(-3.0, abs=1.0)
    assert np.interp(4000.0, f, response_db) < -20.0


@pytest.mark.parametrize("centre_hz", [100.0, 1000.0, 4000.0])
def test_band_pass_passes_its_centre_and_attenuates_octaves_away(centre_hz):
    p = BandPass.Params(bandwidth_octaves=1.0 / 3.0, centre_hz=centre_hz, order=2)
    low, high = band_edges_hz(centre_hz, 1.0 / 3.0)
    assert gain_db(BandPass, p, centre_hz) == pytest.approx(0.0, abs=0.5)
    assert gain_db(BandPass, p, low) == pytest.approx(-3.0, abs=1.0)
    assert gain_db(BandPass, p, high) == pytest.approx(-3.0, abs=1.0)
    assert gain_db(BandPass, p, centre_hz * 2) < -20.0
    assert gain_db(BandPass, p, centre_hz / 2) < -20.0


def test_band_pass_q_follows_bandwidth():
    low, high = band_edges_hz(1000.0, 1.0)
    assert 1000.0 / (high - low) == pytest.approx(q_from_bandwidth(1.0))
    assert q_from_bandwidth(1.0) == pytest.approx(1.414, abs=0.01)


@pytest.mark.parametrize("centre_hz", [100.0, 1000.0, 4000.0])
def test_band_reject_notches_its_centre_and_keeps_far_frequencies(centre_hz):
    p = BandReject.Params(bandwidth_octaves=1.0, centre_hz=centre_hz, order=2)
    assert gain_db(BandReject, p, centre_hz) < -30.0
    assert gain_db(BandReject, p, centre_hz * 4) == pytest.approx(0.0, abs=0.5)
    assert gain_db(BandReject, p, centre_hz / 4) == pytest.approx(0.0, abs=0.5)


@pytest.mark.parametrize(
    "magnitude_db, boost, centre_hz, q",
    [
        (30.0, True, 1000.0, 2.0),
        (40.0, False, 300.0, 1.0),
        (20.0, True, 4000.0, 0.5),
        (25.0, False, 150.0, 4.0),
    ],
)
def test_extreme_eq_reaches_its_gain_at_the_centre(magnitude_db, boost, centre_hz, q):
    p = ExtremeEq.Params(gain_magnitude_db=magnitude_db, boost=boost, centre_hz=centre_hz, q=q)
    expected = magnitude_db if boost else -magnitude_db
    assert gain_db(ExtremeEq, p, centre_hz) == pytest.approx(expected, abs=1.0)
    assert abs(gain_db(ExtremeEq, p, centre_hz * 16)) < 0.3 * magnitude_db


@pytest.mark.parametrize("snr_db", [-5.0, 2.5, 10.0])
def test_reverb_dry_to_wet_energy_ratio_is_the_asked_snr(snr_db, speech):
    p = Reverb.Params(snr_db=snr_db, room_size=0.7, damping=0.4, width=0.6, pre_delay_ms=20.0)
    y = Reverb.apply(speech, SR, p)
    assert energy_db(speech) - energy_db(y - speech) == pytest.approx(snr_db, abs=0.5)


def test_reverb_pre_delay_and_room_size_shape_the_tail():
    impulse = np.zeros(N, dtype=np.float32)
    impulse[0] = 1.0

    def tail(room_size: float, pre_delay_ms: float) -> np.ndarray:
        p = Reverb.Params(snr_db=0.0, room_size=room_size, damping=0.3, width=1.0, pre_delay_ms=pre_delay_ms)
        return Reverb.apply(impulse, SR, p) - impulse

    def decay_20db_s(wet: np.ndarray) -> float:
        remaining = np.cumsum(np.square(wet[::-1], dtype=np.float64))[::-1]
        return float(np.argmax(remaining < remaining[0] / 100.0)) / SR

    wet = tail(0.5, 40.0)
    onset = int(0.040 * SR)
    assert np.all(wet[:onset] == 0.0)
    assert np.any(wet[onset : onset + int(0.05 * SR)] != 0.0)
    assert decay_20db_s(tail(0.9, 0.0)) > 2 * decay_20db_s(tail(0.3, 0.0))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("depth_percent", [30.0, 65.0, 100.0])
def test_tremolo_envelope_depth_and_rate(shape, depth_percent):
    p = Tremolo.Params(depth_percent=depth_percent, rate_hz=5.0, shape=shape, phase_rad=1.0)
    y = Tremolo.apply(sine(1000.0), SR, p)
    edge = int(0.05 * SR)
    envelope = np.abs(signal.hilbert(y.astype(np.float64)))[edge:-edge]
    measured = 100 * (envelope.max() - envelope.min()) / envelope.max()
    assert measured == pytest.approx(depth_percent, abs=3.0)
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean(), n=8 * SR))
    assert np.fft.rfftfreq(8 * SR, 1 / SR)[np.argmax(spectrum)] == pytest.approx(5.0, abs=0.2)


def thd(y: np.ndarray, f0: float) -> float:
    """Total harmonic distortion: energy of harmonics 2..10 over the fundamental's."""
    harmonics = [amplitude_at(y, k * f0) for k in range(1, 11)]
    return math.sqrt(sum(a * a for a in harmonics[1:])) / harmonics[0]


def test_overdrive_distortion_grows_with_drive_and_stays_bounded():
    x = sine(220.0)
    params = [Overdrive.Params(drive_db=drive_db, tone_hz=12_000.0) for drive_db in (12.0, 30.0, 50.0)]
    outputs = [Overdrive.apply(x, SR, p) for p in params]
    distortions = [thd(y, 220.0) for y in outputs]
    assert thd(x, 220.0) < 0.001
    assert 0.05 < distortions[0] < distortions[1] < distortions[2]
    assert max(float(np.max(np.abs(y))) for y in outputs) <= 1.0 + 1e-6


def lagged_correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gain of x delayed by lag in y, sum_t y[t] x[t - lag] / sum_t x[t - lag]^2, for lags < len(x) / 2."""
    n = 2 * len(x)
    xc = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)[: len(x) // 2]
    overlap_energy = np.cumsum(np.square(x, dtype=np.float64))[::-1][: len(x) // 2]
    return xc / overlap_energy


def test_echo_single_tap_correlation_peak_at_its_delay():
    x = white_noise()
    y = Echo.apply(x, SR, Echo.Params(echo_gain=0.5, delays_ms=(250.0,), decay=0.5))
    corr = lagged_correlation(x, y)
    lag = int(np.argmax(corr[10:])) + 10
    assert lag == round(0.25 * SR)
    assert corr[0] == pytest.approx(1.0, abs=0.05)
    assert corr[lag] == pytest.approx(0.5, abs=0.05)


def test_echo_multi_tap_peaks_decay_geometrically():
    x = white_noise(1)
    delays = (60.0, 170.0, 420.0)
    y = Echo.apply(x, SR, Echo.Params(echo_gain=0.8, delays_ms=delays, decay=0.5))
    corr = lagged_correlation(x, y)
    lags = [round(d * SR / 1000) for d in delays]
    assert sorted(np.argsort(corr[10:])[-3:] + 10) == lags
    np.testing.assert_allclose(corr[lags], [0.8, 0.4, 0.2], atol=0.05)


@pytest.mark.parametrize("mix", [0.15, 0.5, 1.0])
def test_chorus_without_modulation_is_dry_plus_delayed_wet(mix):
    x = white_noise(2)
    p = Chorus.Params(mix=mix, rate_hz=1.0, depth=0.0, centre_delay_ms=10.0, feedback=0.0)
    corr = lagged_correlation(x, Chorus.apply(x, SR, p))
    delay = round(0.010 * SR)
    assert corr[0] == pytest.approx(1.0 - mix, abs=0.05)
    assert corr[delay - 2 : delay + 3].sum() == pytest.approx(mix, abs=0.05)


def test_chorus_modulation_smears_the_delay():
    x = white_noise(3)
    still = Chorus.Params(mix=1.0, rate_hz=2.0, depth=0.0, centre_delay_ms=10.0, feedback=0.0)
    moving = dataclasses.replace(still, depth=0.6)
    peak = [float(np.max(lagged_correlation(x, Chorus.apply(x, SR, p)))) for p in (still, moving)]
    assert peak[0] > 0.9
    assert peak[1] < 0.8


@pytest.mark.parametrize("mix", [0.1, 0.3])
def test_phaser_notch_depth_follows_mix(mix):
    x = white_noise(4)
    p = Phaser.Params(mix=mix, rate_hz=1.0, depth=0.0, centre_frequency_hz=1000.0, feedback=0.0)
    f, pxx = signal.welch(x, SR, nperseg=4096)
    _, pxy = signal.csd(x, Phaser.apply(x, SR, p), SR, nperseg=4096)
    response_db = 20 * np.log10(np.abs(pxy / pxx))[(f > 50) & (f < 15_000)]
    assert response_db.max() == pytest.approx(0.0, abs=0.5)
    assert response_db.min() == pytest.approx(20 * math.log10(1 - 2 * mix), abs=1.0)


@pytest.mark.parametrize("name", EFFECTS)
def test_main_parameter_spans_the_strength_range(name, speech):
    deg = REGISTRY[name]
    ctx = SamplingContext(n_samples=N, sr=SR)
    for strength, expected in zip((0.0, 1.0), deg.strength_range):
        params = deg.sample_params(np.random.default_rng(5), strength, ctx)
        assert getattr(params, deg.strength_param) == pytest.approx(expected)


BAD_PARAMS = [
    ("echo", "echo_gain", 1.5),
    ("echo", "delays_ms", (600.0,)),
    ("extreme_eq", "q", 0.0),
    ("extreme_eq", "gain_magnitude_db", -3.0),
    ("band_pass", "centre_hz", 5.0),
    ("band_reject", "bandwidth_octaves", 0.0),
    ("high_pass", "cutoff_hz", -100.0),
    ("low_pass", "order", 0),
    ("chorus", "mix", 1.2),
    ("overdrive", "drive_db", 100.0),
    ("phaser", "mix", -0.1),
    ("reverb", "room_size", 1.0),
    ("reverb", "snr_db", float("nan")),
    ("tremolo", "depth_percent", 120.0),
    ("tremolo", "shape", "sawtooth"),
]


@pytest.mark.parametrize("name, field, value", BAD_PARAMS)
def test_a_bad_parameter_raises_value_error_naming_it(name, field, value):
    deg = REGISTRY[name]
    good = deg.sample_params(np.random.default_rng(0), 0.5, SamplingContext(n_samples=N, sr=SR))
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(good, **{field: value})
