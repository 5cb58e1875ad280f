"""Codec round trips (31-37): alignment, length, degradation with bitrate, both back ends."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, correlate, hilbert, sosfiltfilt, stft

from sesqa.generator.degradations import REGISTRY
from sesqa.generator.degradations._codec import CodecSpec, backend_for, round_trip
from sesqa.generator.degradations.ac3 import AC3
from sesqa.generator.degradations.eac3 import EAC3
from sesqa.generator.degradations.mp2 import MP2
from sesqa.generator.degradations.mp3 import MP3
from sesqa.generator.degradations.ogg_vorbis import VORBIS
from sesqa.generator.degradations.opus import OPUS
from sesqa.generator.degradations.wma import WMA

from .helpers import SR

CODECS = ["mp3", "ac3", "eac3", "mp2", "wma", "ogg_vorbis", "opus"]
ONE_MS = SR // 1000


def xcorr_peak(x: np.ndarray, y: np.ndarray, max_lag: int = SR // 10) -> tuple[int, float]:
    """Delay of y relative to x (positive: y late) at the cross-correlation peak within +-100 ms,
    and the normalised correlation there."""
    x = x.astype(np.float64) - x.mean()
    y = y.astype(np.float64) - y.mean()
    c = correlate(y, x, mode="full", method="fft")
    window = c[len(x) - 1 - max_lag : len(x) + max_lag]
    k = int(np.argmax(window))
    return k - max_lag, float(window[k] / np.sqrt(np.sum(x**2) * np.sum(y**2)))


def lag_samples(x: np.ndarray, y: np.ndarray) -> int:
    return xcorr_peak(x, y)[0]


def envelope(x: np.ndarray) -> np.ndarray:
    """Amplitude envelope (Hilbert magnitude, smoothed below 400 Hz)."""
    return sosfiltfilt(butter(4, 400, fs=SR, output="sos"), np.abs(hilbert(x)))


def log_spectral_distance_db(x: np.ndarray, y: np.ndarray) -> float:
    """Mean over frames of the RMS difference of the log power spectra, in dB."""
    _, _, a = stft(x, SR, nperseg=1024)
    _, _, b = stft(y, SR, nperseg=1024)
    d = 10 * np.log10(np.abs(a) ** 2 + 1e-8) - 10 * np.log10(np.abs(b) ** 2 + 1e-8)
    return float(np.mean(np.sqrt(np.mean(d**2, axis=0))))


def snr_db(x: np.ndarray, y: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum((x.astype(np.float64) - y) ** 2)))


def params_at(name: str, strength: float):
    return REGISTRY[name].sample_params(np.random.default_rng(3), strength, None)


@pytest.mark.parametrize("name", CODECS)
def test_round_trip_is_aligned_and_keeps_length(name, speech):
    """Within 1 ms by waveform cross-correlation wherever the codec keeps the waveform, and by
    envelope cross-correlation always (E-AC-3 at 16 kbps keeps only the spectral envelope: its
    output is dither noise shaped like the input, uncorrelated with the waveform)."""
    deg = REGISTRY[name]
    for strength in (0.0, 0.5, 1.0):
        params = params_at(name, strength)
        y = deg.apply(speech, SR, params)
        assert y.shape == speech.shape and y.dtype == np.float32
        lag, corr = xcorr_peak(speech, y)
        if strength < 1.0:
            assert corr > 0.9, f"{name} {params}: waveform correlation {corr:.2f}"
        if corr > 0.5:
            assert abs(lag) <= ONE_MS, f"{name} {params}: output lags input by {lag} samples"
        env_lag, _ = xcorr_peak(envelope(speech), envelope(y))
        assert abs(env_lag) <= ONE_MS, f"{name} {params}: envelope lags by {env_lag} samples"
        if strength == 0.0:  # at the highest bitrate the waveform survives and the peak is sharp
            assert abs(lag) <= 1, f"{name} {params}: lag {lag} samples at the mildest setting"


@pytest.mark.parametrize("application", ["voip", "audio"])
@pytest.mark.parametrize("bitrate_kbps", [2.0, 12.0, 64.0])
def test_opus_modes_are_aligned(application, bitrate_kbps, speech):
    params = REGISTRY["opus"].Params(bitrate_kbps=bitrate_kbps, codec_sr_hz=48000, application=application)
    assert abs(lag_samples(speech, REGISTRY["opus"].apply(speech, SR, params))) <= ONE_MS


@pytest.mark.parametrize("name", CODECS)
def test_lowest_bitrate_degrades_more_than_highest(name, speech):
    deg = REGISTRY[name]
    mild = deg.apply(speech, SR, params_at(name, 0.0))
    severe = deg.apply(speech, SR, params_at(name, 1.0))
    assert 10.0 < snr_db(speech, mild) < 40.0, f"{name}: mildest output is not a lossy copy of the input"
    lsd_mild = log_spectral_distance_db(speech, mild)
    lsd_severe = log_spectral_distance_db(speech, severe)
    assert lsd_severe > lsd_mild + 1.0, f"{name}: LSD {lsd_severe:.2f} dB at lowest vs {lsd_mild:.2f} dB at highest"


@pytest.mark.parametrize("n", [7, 1000, 12_345])
def test_odd_lengths_are_kept(n, speech):
    x = speech[:n]
    for name in ("mp3", "opus", "wma"):
        y = REGISTRY[name].apply(x, SR, params_at(name, 1.0))
        assert y.shape == (n,) and np.all(np.isfinite(y))


def test_lowest_mp3_bitrate_is_coded_at_8_khz(speech):
    params = params_at("mp3", 1.0)
    assert (params.bitrate_kbps, params.codec_sr_hz) == (2.0, 8000)
    assert params_at("mp3", 0.0).codec_sr_hz == 48000
    y = REGISTRY["mp3"].apply(speech, SR, params)
    spectrum = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    above_nyquist = spectrum[freqs > 4500].sum() / spectrum.sum()
    assert above_nyquist < 1e-4, f"{above_nyquist:.2e} of the energy lies above the 8 kHz stream's band"


@pytest.mark.parametrize(
    "spec,bitrate_kbps,codec_sr",
    [(MP3, 8.0, 8000), (MP3, 96.0, 48000), (AC3, 64.0, 48000), (OPUS, 6.0, 48000), (WMA, 32.0, 48000)],
)
def test_subprocess_fallback_is_aligned_like_pyav(spec, bitrate_kbps, codec_sr, speech):
    options = (("application", "voip"),) if spec is OPUS else ()
    y_ff = round_trip(speech, SR, spec, bitrate_kbps, codec_sr, options, backend="ffmpeg")
    y_av = round_trip(speech, SR, spec, bitrate_kbps, codec_sr, options, backend="pyav")
    assert y_ff.shape == speech.shape and y_ff.dtype == np.float32
    assert abs(lag_samples(speech, y_ff)) <= ONE_MS
    assert lag_samples(y_av, y_ff) == 0, "the two back ends place the decoded audio differently"


def test_backend_choice_follows_what_pyav_offers():
    specs: list[CodecSpec] = [MP3, AC3, EAC3, MP2, WMA, OPUS]
    assert [backend_for(s) for s in specs] == ["pyav"] * len(specs)
    assert backend_for(VORBIS) == "ffmpeg"  # PyAV's FFmpeg build lacks libvorbis


@pytest.mark.parametrize("name", CODECS)
def test_bad_params_raise_value_error_naming_them(name):
    good = params_at(name, 0.5)
    fields = {k: getattr(good, k) for k in good.__dataclass_fields__}
    with pytest.raises(ValueError, match="bitrate_kbps"):
        REGISTRY[name].Params(**{**fields, "bitrate_kbps": -8.0})
    with pytest.raises(ValueError, match="codec_sr_hz"):
        REGISTRY[name].Params(**{**fields, "codec_sr_hz": 12_345})


@pytest.mark.parametrize("name", ["mp2", "mp3", "opus"])
def test_loud_input_comes_back_unclipped_and_aligned(name, speech):
    loud = 5.0 * speech
    y = REGISTRY[name].apply(loud, SR, params_at(name, 0.0))
    assert np.max(np.abs(y)) > 4.0
    assert abs(lag_samples(loud, y)) <= ONE_MS
    assert snr_db(loud, y) > 5.0
