"""Physical checks of the sample-domain and STFT degradations (paper C.5-13, C.25-30)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import ShortTimeFFT
from scipy.signal.windows import hann

from sesqa.generator.degradations import REGISTRY, SamplingContext
from sesqa.generator.degradations._section_ops import section_mask
from sesqa.generator.degradations._stft import dropout_mask, istft, rms, sample_window, stft
from sesqa.generator.degradations.resample import QUALITIES

from .helpers import SR


def params_for(name: str, x: np.ndarray, strength: float, seed: int = 0):
    ctx = SamplingContext(n_samples=len(x), sr=SR)
    return REGISTRY[name].sample_params(np.random.default_rng(seed), strength, ctx)


def run(name: str, x: np.ndarray, **params) -> np.ndarray:
    deg = REGISTRY[name]
    return deg.apply(x, SR, deg.Params(**params))


def db(ratio: float) -> float:
    return 10.0 * np.log10(ratio)


def spectral_convergence(reference: np.ndarray, y: np.ndarray, win_len: int) -> float:
    a, b = np.abs(stft(reference, win_len)), np.abs(stft(y, win_len))
    return float(np.linalg.norm(a - b) / np.linalg.norm(a))


def long_term_spectrum_correlation(x: np.ndarray, y: np.ndarray) -> float:
    lx, ly = (np.log(np.mean(np.abs(stft(s, 1024)) ** 2, axis=0) + 1e-9) for s in (x, y))
    return float(np.corrcoef(lx, ly)[0, 1])


# --- STFT ---------------------------------------------------------------------------------


@pytest.mark.parametrize("win_len", [256, 1000, 4096])
def test_stft_round_trip_is_near_perfect_and_keeps_length(win_len, speech):
    x = speech[:52_777]
    y = istft(stft(x, win_len), win_len, len(x))
    assert y.dtype == np.float32 and len(y) == len(x)
    assert db(np.sum((y - x) ** 2) / np.sum(x**2)) < -60.0


def test_stft_is_scipy_short_time_fft(speech):
    win_len = 512
    x = speech[:10_000]
    reference = ShortTimeFFT(hann(win_len, sym=False), hop=win_len // 2, fs=SR, phase_shift=None)
    z = stft(x, win_len)
    expected = reference.stft(x.astype(np.float64), p0=0, p1=z.shape[0]).T
    np.testing.assert_allclose(z, expected, atol=1e-4 * np.max(np.abs(expected)))
    expected_x = reference.istft(z.T.astype(np.complex128), k1=len(x))
    np.testing.assert_allclose(istft(z, win_len, len(x)), expected_x, atol=1e-5)


def test_sampled_windows_are_even_and_in_range():
    rng = np.random.default_rng(0)
    windows = [sample_window(rng) for _ in range(200)]
    assert all(w % 2 == 0 and 256 <= w <= 4096 for w in windows)
    assert min(windows) < 400 and max(windows) > 3000


# --- sample domain ------------------------------------------------------------------------


def test_reverse_reverses_time(speech):
    y = REGISTRY["reverse"].apply(speech, SR, params_for("reverse", speech, 0.0))
    np.testing.assert_array_equal(y, speech[::-1])


@pytest.mark.parametrize("quality", QUALITIES)
@pytest.mark.parametrize(("target_rate_hz", "tone_hz"), [(8_000, 500.0), (2_000, 300.0)])
def test_resample_removes_content_above_target_nyquist_and_keeps_a_low_tone(quality, target_rate_hz, tone_hz):
    n = 52_800
    noise = np.random.default_rng(0).standard_normal(n).astype(np.float32) * 0.1
    y = run("resample", noise, target_rate_hz=target_rate_hz, quality=quality)
    freqs = np.fft.rfftfreq(n, 1.0 / SR)
    above = freqs > 1.05 * target_rate_hz / 2
    drop = db(np.sum(np.abs(np.fft.rfft(y))[above] ** 2) / np.sum(np.abs(np.fft.rfft(noise))[above] ** 2))
    assert drop < -40.0, f"{quality}: energy above the target Nyquist only {drop:.1f} dB lower"

    t = np.arange(n) / SR
    middle = slice(n // 10, -n // 10)
    tone = (0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
    y = run("resample", tone, target_rate_hz=target_rate_hz, quality=quality)
    assert db(np.sum((y - tone)[middle] ** 2) / np.sum(tone[middle] ** 2)) < -30.0

    # a tone above the target Nyquist must vanish, not fold back into the band (aliasing)
    high = (0.5 * np.sin(2 * np.pi * 0.75 * target_rate_hz * t)).astype(np.float32)
    y = run("resample", high, target_rate_hz=target_rate_hz, quality=quality)
    assert db(np.sum(y[middle] ** 2) / np.sum(high[middle] ** 2)) < -40.0


def test_resample_strength_maps_onto_target_rate(speech):
    assert params_for("resample", speech, 0.0).target_rate_hz == 32_000
    assert params_for("resample", speech, 1.0).target_rate_hz == 2_000


def test_mu_law_has_at_most_2_to_the_bits_levels_and_error_grows_as_bits_fall(speech):
    peak = np.max(np.abs(speech))
    errors = []
    for bits in range(10, 1, -1):
        y = run("mu_law", speech, bits=bits)
        assert len(np.unique(y / peak)) <= 2**bits
        errors.append(np.sum((y - speech) ** 2))
    assert all(a < b for a, b in zip(errors, errors[1:])), errors
    assert db(errors[0] / np.sum(speech**2)) < -25.0  # 10 bits is mild


def test_mu_law_keeps_silence_silent():
    x = np.zeros(1000, dtype=np.float32)
    x[500] = 0.5
    y = run("mu_law", x, bits=2)
    assert np.count_nonzero(y) == 1


@pytest.mark.parametrize("clipped_percent", [0.5, 5.0, 30.0, 70.0, 99.0])
def test_clipping_clips_the_share_of_samples_asked(clipped_percent, speech):
    y = run("clipping", speech, clipped_percent=clipped_percent)
    threshold = np.max(np.abs(y))
    clipped = 100.0 * np.mean(np.abs(y) >= threshold)
    assert abs(clipped - clipped_percent) <= 1.0
    assert np.all(np.abs(y) <= np.abs(speech) + 1e-7)


# --- sections -----------------------------------------------------------------------------


def test_section_count_follows_strength(speech):
    for name in ("insert_silence", "insert_noise", "insert_attenuation", "perturb_amplitude", "sample_duplicate"):
        assert params_for(name, speech, 0.0).section_count == 1
        assert params_for(name, speech, 1.0).section_count == 10
        params = params_for(name, speech, 0.5)
        lengths_ms = (np.array(params.stops) - np.array(params.starts)) * 1000.0 / SR
        assert np.all((lengths_ms >= 19.9) & (lengths_ms <= 120.0))


def test_insert_silence_zeroes_exactly_the_sections(speech):
    params = params_for("insert_silence", speech, 1.0, seed=3)
    y = REGISTRY["insert_silence"].apply(speech, SR, params)
    mask = section_mask(params, len(speech))
    assert np.all(y[mask] == 0.0)
    np.testing.assert_array_equal(y[~mask], speech[~mask])
    assert np.count_nonzero(y == 0.0) == np.count_nonzero(mask) + np.count_nonzero(speech[~mask] == 0.0)


def test_insert_noise_replaces_sections_with_noise_at_the_asked_level(speech):
    params = params_for("insert_noise", speech, 1.0, seed=4)
    y = REGISTRY["insert_noise"].apply(speech, SR, params)
    mask = section_mask(params, len(speech))
    np.testing.assert_array_equal(y[~mask], speech[~mask])
    expected = rms(speech) * 10 ** (params.noise_level_db / 20)
    assert rms(y[mask]) == pytest.approx(expected, rel=0.05)
    assert abs(np.corrcoef(y[mask], speech[mask])[0, 1]) < 0.1


def test_insert_attenuation_scales_sections_only_by_at_most_0_8(speech):
    params = params_for("insert_attenuation", speech, 1.0, seed=5)
    y = REGISTRY["insert_attenuation"].apply(speech, SR, params)
    mask = section_mask(params, len(speech))
    np.testing.assert_array_equal(y[~mask], speech[~mask])
    loud = mask & (np.abs(speech) > 1e-3)
    gain = y[loud] / speech[loud]
    assert np.all(gain >= -1e-6) and np.all(gain <= 0.8 + 1e-6)
    for i, (a, b) in enumerate(zip(params.starts, params.stops)):
        alone = all(b2 <= a or b <= a2 for j, (a2, b2) in enumerate(zip(params.starts, params.stops)) if j != i)
        if alone:
            np.testing.assert_allclose(y[a:b], speech[a:b] * np.float32(params.gains[i]), rtol=1e-6)


def test_perturb_amplitude_multiplies_sections_by_gaussian_gain(speech):
    params = params_for("perturb_amplitude", speech, 1.0, seed=6)
    y = REGISTRY["perturb_amplitude"].apply(speech, SR, params)
    mask = section_mask(params, len(speech))
    np.testing.assert_array_equal(y[~mask], speech[~mask])
    loud = mask & (np.abs(speech) > 1e-2)
    gain = y[loud] / speech[loud]
    assert np.mean(gain) == pytest.approx(1.0, abs=0.1)
    assert np.std(gain) == pytest.approx(params.noise_std, rel=0.1)


@pytest.mark.parametrize("period_ms", [10.0, 200.0])
def test_sample_duplicate_fills_sections_with_earlier_samples(period_ms, speech):
    starts, stops = (5_000, 20_000, 40_000), (7_000, 23_000, 45_000)
    y = run("sample_duplicate", speech, section_count=3, starts=starts, stops=stops, period_ms=period_ms)
    period = round(period_ms * SR / 1000)
    mask = np.zeros(len(speech), dtype=bool)
    for a, b in zip(starts, stops):
        mask[a:b] = True
        p = min(period, a)  # no more history than the samples before the section
        np.testing.assert_array_equal(y[a:b], speech[a - p + np.arange(b - a) % p])
    np.testing.assert_array_equal(y[~mask], speech[~mask])


def test_sample_duplicate_leaves_a_section_at_the_start_alone(speech):
    y = run("sample_duplicate", speech, section_count=1, starts=(0,), stops=(2_000,), period_ms=10.0)
    np.testing.assert_array_equal(y, speech)


# --- STFT degradations --------------------------------------------------------------------


@pytest.mark.parametrize("win_len", [256, 1024, 4096])
def test_griffin_lim_keeps_the_magnitude_but_not_the_waveform(win_len, speech):
    y = run("griffin_lim", speech, iterations=32, win_len=win_len, seed=1)
    assert spectral_convergence(speech, y, win_len) < 0.12
    assert np.linalg.norm(y - speech) / np.linalg.norm(speech) > 0.5
    assert abs(db(rms(y) ** 2 / rms(speech) ** 2)) < 1.0
    fewer = run("griffin_lim", speech, iterations=2, win_len=win_len, seed=1)
    assert spectral_convergence(speech, fewer, win_len) > spectral_convergence(speech, y, win_len) + 0.05


@pytest.mark.parametrize("name", ["phase_randomisation", "phase_shuffle"])
@pytest.mark.parametrize("win_len", [256, 4096])
def test_phase_edits_keep_level_and_spectrum_but_change_the_waveform(name, win_len, speech):
    key = "phase_noise_percent" if name == "phase_randomisation" else "shuffled_percent"
    correlations = []
    for percent in (25.0, 100.0):
        y = run(name, speech, **{key: percent}, win_len=win_len, seed=2)
        assert abs(db(rms(y) ** 2 / rms(speech) ** 2)) < 0.5
        assert long_term_spectrum_correlation(speech, y) > 0.95
        correlations.append(np.corrcoef(speech, y)[0, 1])
    assert correlations[1] < 0.5
    assert correlations[0] > correlations[1] + 0.2


def test_spectrogram_holes_drops_about_p_of_the_bins(speech):
    for percent in (15.0, 50.0, 98.0):
        mask = dropout_mask((400, 513), percent, np.random.default_rng(0))
        assert 100.0 * mask.mean() == pytest.approx(percent, abs=0.5)

    win_len, percent, seed = 1024, 50.0, 7
    y = run("spectrogram_holes", speech, dropout_percent=percent, win_len=win_len, seed=seed)
    x_bins, y_bins = stft(speech, win_len), stft(y, win_len)
    holes = dropout_mask(x_bins.shape, percent, np.random.default_rng(seed))
    in_holes = np.sum(np.abs(y_bins[holes]) ** 2) / np.sum(np.abs(x_bins[holes]) ** 2)
    kept = np.sum(np.abs(y_bins[~holes]) ** 2) / np.sum(np.abs(x_bins[~holes]) ** 2)
    assert in_holes < 0.5 * kept  # ISTFT overlap refills holes a little, but they stay holes
    assert abs(db(rms(y) ** 2 / rms(speech) ** 2)) < 0.5


def test_spectrogram_holes_with_no_dropout_is_the_identity(speech):
    y = run("spectrogram_holes", speech, dropout_percent=0.0, win_len=512, seed=0)
    assert db(np.sum((y - speech) ** 2) / np.sum(speech**2)) < -60.0


def test_spectrogram_noise_grows_with_the_replaced_share(speech):
    convergences = []
    for percent in (15.0, 50.0, 98.0):
        y = run("spectrogram_noise", speech, replaced_percent=percent, win_len=1024, seed=3)
        assert abs(db(rms(y) ** 2 / rms(speech) ** 2)) < 0.5
        assert long_term_spectrum_correlation(speech, y) > 0.9
        convergences.append(spectral_convergence(speech, y, 1024))
    assert convergences[0] > 0.15
    assert all(a + 0.1 < b for a, b in zip(convergences, convergences[1:])), convergences

    # unlike holes, the replaced bins keep about as much energy as the kept ones
    percent, seed = 50.0, 3
    y = run("spectrogram_noise", speech, replaced_percent=percent, win_len=1024, seed=seed)
    x_bins, y_bins = stft(speech, 1024), stft(y, 1024)
    replaced = dropout_mask(x_bins.shape, percent, np.random.default_rng(seed))
    in_replaced = np.sum(np.abs(y_bins[replaced]) ** 2) / np.sum(np.abs(x_bins[replaced]) ** 2)
    kept = np.sum(np.abs(y_bins[~replaced]) ** 2) / np.sum(np.abs(x_bins[~replaced]) ** 2)
    assert in_replaced > 0.5 * kept


@pytest.mark.parametrize("win_len", [256, 4096])
def test_spectrogram_convolution_blurs_the_magnitude(win_len, speech):
    identity = run("spectrogram_convolution", speech, kernel_size=1, win_len=win_len, seed=0)
    assert db(np.sum((identity - speech) ** 2) / np.sum(speech**2)) < -60.0

    def roughness(y: np.ndarray) -> float:
        m = np.abs(stft(y, win_len))
        return float(np.mean(np.abs(np.diff(m, axis=0))) + np.mean(np.abs(np.diff(m, axis=1)))) / float(np.mean(m))

    errors = []
    for size in (3, 15):
        y = run("spectrogram_convolution", speech, kernel_size=size, win_len=win_len, seed=0)
        assert roughness(y) < 0.8 * roughness(speech)
        errors.append(np.sum((y - speech) ** 2))
    assert errors[1] > errors[0]


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("resample", dict(target_rate_hz=500, quality="HQ"), "target_rate_hz"),
        ("resample", dict(target_rate_hz=8000, quality="QQ"), "quality"),
        ("mu_law", dict(bits=1), "bits"),
        ("mu_law", dict(bits=4.5), "bits"),
        ("clipping", dict(clipped_percent=120.0), "clipped_percent"),
        ("insert_silence", dict(section_count=0, starts=(), stops=()), "section_count"),
        ("insert_silence", dict(section_count=2, starts=(10,), stops=(20,)), "starts"),
        ("insert_silence", dict(section_count=1, starts=(10,), stops=(5,)), "stops"),
        ("insert_noise", dict(section_count=1, starts=(0,), stops=(9,), noise_level_db=99.0, seed=0), "noise_level_db"),
        ("insert_attenuation", dict(section_count=1, starts=(0,), stops=(9,), gains=(0.9,)), "gains"),
        ("perturb_amplitude", dict(section_count=1, starts=(0,), stops=(9,), noise_std=-1.0, seed=0), "noise_std"),
        ("sample_duplicate", dict(section_count=1, starts=(0,), stops=(9,), period_ms=0.0), "period_ms"),
        ("griffin_lim", dict(iterations=8, win_len=1023, seed=0), "win_len"),
        ("griffin_lim", dict(iterations=-1, win_len=1024, seed=0), "iterations"),
        ("phase_randomisation", dict(phase_noise_percent=101.0, win_len=1024, seed=0), "phase_noise_percent"),
        ("phase_shuffle", dict(shuffled_percent=-5.0, win_len=1024, seed=0), "shuffled_percent"),
        ("spectrogram_convolution", dict(kernel_size=0, win_len=1024, seed=0), "kernel_size"),
        ("spectrogram_holes", dict(dropout_percent=150.0, win_len=1024, seed=0), "dropout_percent"),
        ("spectrogram_noise", dict(replaced_percent=float("nan"), win_len=1024, seed=0), "replaced_percent"),
    ],
)
def test_bad_parameter_raises_value_error_naming_it(name, params, field):
    with pytest.raises(ValueError, match=field):
        REGISTRY[name].Params(**params)
