"""Reference-based measures: package equality (PESQ, STOI), closed forms, independent
re-implementations of the Loizou measures, values from pysepm, monotonicity, NaN reasons,
shared intermediates (the normalisation statistics: test_moments.py)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from pesq import pesq as pesq_package
from pystoi import stoi as pystoi_package
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from sesqa.audio import load, resample
from sesqa.data import BUNDLED_SPEECH_DIR
from sesqa.generator.metrics import (
    METRIC_NAMES,
    METRICS,
    _analysis,
    compute,
)
from sesqa.generator.metrics import llr as llr_mod
from sesqa.generator.metrics import mcd as mcd_mod
from sesqa.generator.metrics import pesq as pesq_mod
from sesqa.generator.metrics import segsnr as segsnr_mod
from sesqa.generator.metrics import si_sdr as si_sdr_mod
from sesqa.generator.metrics import wss as wss_mod
from sesqa.generator.metrics._mel import floored_mel_power

from .helpers import SR, speech_like

SR16 = 16_000
EXPECTED_ORDER = (
    "pesq", "csig", "cbak", "covl", "segsnr", "llr", "wss", "stoi", "si_sdr", "mcd", "log_mel_distortion",
)
HIGHER_IS_BETTER = {
    "pesq": True, "csig": True, "cbak": True, "covl": True, "segsnr": True, "llr": False,
    "wss": False, "stoi": True, "si_sdr": True, "mcd": False, "log_mel_distortion": False,
}


def with_noise(x: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """x plus white Gaussian noise at a global SNR of snr_db, float32."""
    e = np.random.default_rng(seed).standard_normal(len(x))
    x64 = x.astype(np.float64)
    e *= np.sqrt(np.mean(x64**2) / np.mean(e**2)) * 10.0 ** (-snr_db / 20.0)
    return (x64 + e).astype(np.float32)


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """1.1 s of real speech from the bundled corpus when it is there, else the speech-like signal."""
    files = sorted(p for p in BUNDLED_SPEECH_DIR.rglob("*") if p.suffix.lower() in {".flac", ".wav", ".ogg"}) if BUNDLED_SPEECH_DIR.is_dir() else []
    for path in files:
        x = load(path, SR, offset_s=0.5, duration_s=1.1)
        if len(x) == int(1.1 * SR) and np.max(np.abs(x)) > 0.05:
            return x
    return speech_like()


# ---------------------------------------------------------------------------------------------
# Independent reference implementations (per-frame Python loops, straight from the formulas)
# ---------------------------------------------------------------------------------------------


def loop_frames(x: np.ndarray) -> list[np.ndarray]:
    """composite.m framing at 16 kHz: x + eps, 480-sample frames every 120, Hann (k = 1..N)/(N+1)."""
    x = x.astype(np.float64) + np.finfo(np.float64).eps
    win, hop = 480, 120
    count = math.floor(len(x) / hop - win / hop)
    w = np.array([0.5 * (1 - math.cos(2 * math.pi * k / (win + 1))) for k in range(1, win + 1)])
    return [x[i * hop : i * hop + win] * w for i in range(count)]


def loop_trimmed(values: list[float]) -> float:
    v = sorted(values)
    return float(np.mean(v[: math.floor(len(v) * 0.95 + 0.5)]))


def loop_segsnr(ref: np.ndarray, deg: np.ndarray) -> float:
    eps = np.finfo(np.float64).eps
    out = []
    for r, d in zip(loop_frames(ref), loop_frames(deg)):
        err = float(np.sum((r - d) ** 2))
        snr = 35.0 if err == 0 else 10 * math.log10(float(np.sum(r * r)) / (err + eps) + eps)
        out.append(min(35.0, max(-10.0, snr)))
    return float(np.mean(out))


def loop_llr(ref: np.ndarray, deg: np.ndarray, clamp: bool) -> float:
    """LLR with LPC from scipy's Toeplitz solver (not Levinson-Durbin), explicit Toeplitz matrices."""
    p = 16
    out = []
    for r, d in zip(loop_frames(ref), loop_frames(deg)):
        acr = np.array([np.dot(r[: len(r) - k], r[k:]) for k in range(p + 1)])
        acd = np.array([np.dot(d[: len(d) - k], d[k:]) for k in range(p + 1)])
        a_r = np.concatenate([[1.0], -solve_toeplitz(acr[:p], acr[1:])])
        a_d = np.concatenate([[1.0], -solve_toeplitz(acd[:p], acd[1:])])
        toe = np.array([[acr[abs(i - j)] for j in range(p + 1)] for i in range(p + 1)])
        value = math.log(max(1.0, (a_d @ toe @ a_d) / (a_r @ toe @ a_r)))
        out.append(min(2.0, value) if clamp else value)
    return loop_trimmed(out)


def loop_wss(ref: np.ndarray, deg: np.ndarray) -> float:
    """Klatt's WSS with composite.m's band filters, peak search and weights, frame by frame."""
    sr, n_fft, half = SR16, 1024, 512
    centres = wss_mod.CENTRE_HZ
    widths = wss_mod.BANDWIDTH_HZ
    filters = []
    for f0, bw in zip(centres, widths):
        f0b, bwb = math.floor(f0 / (sr / 2) * half), bw / (sr / 2) * half
        row = np.array([math.exp(-11 * ((j - f0b) / bwb) ** 2 + math.log(widths[0]) - math.log(bw)) for j in range(half)])
        filters.append(np.where(row > math.exp(-30 / (2 * 2.303)), row, 0.0))

    def analyse(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        spec = np.abs(np.fft.fft(frame, n_fft)[:half]) ** 2
        e = np.array([10 * math.log10(max(float(np.sum(spec * f)), 1e-10)) for f in filters])
        slope = e[1:] - e[:-1]
        peaks = np.empty(len(slope))
        for i in range(len(slope)):
            n = i
            if slope[i] > 0:
                while n < len(slope) and slope[n] > 0:
                    n += 1
                peaks[i] = e[n - 1]
            else:
                while n >= 0 and slope[n] <= 0:
                    n -= 1
                peaks[i] = e[n + 1]
        w = 20 / (20 + e.max() - e[:-1]) * (1 / (1 + peaks - e[:-1]))
        return slope, w, e

    out = []
    for r, d in zip(loop_frames(ref), loop_frames(deg)):
        sr_, wr, _ = analyse(r)
        sd, wd, _ = analyse(d)
        w = (wr + wd) / 2
        out.append(float(np.sum(w * (sr_ - sd) ** 2) / np.sum(w)))
    return loop_trimmed(out)


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def test_registry_declares_the_eleven_measures_in_fixed_order():
    assert METRIC_NAMES == EXPECTED_ORDER
    assert tuple(METRICS) == EXPECTED_ORDER
    for name, spec in METRICS.items():
        assert spec.name == name
        assert spec.higher_is_better is HIGHER_IS_BETTER[name]
        assert spec.unit and spec.reference
        assert callable(spec.fn) and callable(spec.from_analysis)
        assert spec.value_range[0] < spec.value_range[1]
        with pytest.raises(AttributeError):
            spec.name = "other"  # frozen


def test_compute_returns_every_requested_name_in_order(clip):
    values, errors = compute(clip, with_noise(clip, 15), SR, ["wss", "pesq"])
    assert list(values) == ["wss", "pesq"]
    assert errors == {}
    values, _ = compute(clip, with_noise(clip, 15), SR)
    assert tuple(values) == EXPECTED_ORDER


def test_per_measure_functions_agree_with_compute(clip):
    deg = with_noise(clip, 10, seed=4)
    values, _ = compute(clip, deg, SR)
    for name, spec in METRICS.items():
        assert spec.fn(clip, deg, SR) == pytest.approx(values[name], abs=1e-12), name


@pytest.mark.parametrize(
    "ref, deg, sr, message",
    [
        (np.zeros((2, 100), np.float32), np.zeros((2, 100), np.float32), SR, "ref must be a 1-D"),
        (np.ones(100, np.float32), np.ones(90, np.float32), SR, "deg must have the length of ref"),
        (np.full(100, np.nan, np.float32), np.ones(100, np.float32), SR, "ref must be finite"),
        (np.ones(100, np.float32), np.ones(100, np.int16), SR, "deg must be floating point"),
        (np.ones(100, np.float32), np.ones(100, np.float32), 0, "sr must be an integer"),
        (np.ones(100, np.float32), np.ones(100, np.float32), True, "sr must be an integer"),
        (np.ones(0, np.float32), np.ones(0, np.float32), SR, "ref must not be empty"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(ref, deg, sr, message):
    with pytest.raises(ValueError, match=message):
        compute(ref, deg, sr)


def test_unknown_name_raises(clip):
    with pytest.raises(ValueError, match="names: unknown measure"):
        compute(clip, clip, SR, ["pesq", "mosnet"])


# ---------------------------------------------------------------------------------------------
# PESQ and STOI: the packages' own values on the same signals
# ---------------------------------------------------------------------------------------------


def test_pesq_equals_the_pesq_package_on_the_same_16k_signals(clip):
    deg = with_noise(clip, 12, seed=1)
    r16 = resample(clip, SR, SR16).astype(np.float64)
    d16 = resample(deg, SR, SR16).astype(np.float64)
    expected = pesq_package(SR16, r16, d16, "wb")
    assert METRICS["pesq"].fn(clip, deg, SR) == pytest.approx(expected, abs=1e-9)


def test_stoi_equals_pystoi_on_the_same_16k_signals(clip):
    deg = with_noise(clip, 0, seed=2)
    r16 = resample(clip, SR, SR16).astype(np.float64)
    d16 = resample(deg, SR, SR16).astype(np.float64)
    expected = pystoi_package(r16, d16, SR16)
    assert METRICS["stoi"].fn(clip, deg, SR) == pytest.approx(expected, abs=1e-12)
    # Resampling to 16 kHz first (for speed) barely moves STOI against pystoi at 48 kHz.
    assert pystoi_package(clip.astype(np.float64), deg.astype(np.float64), SR) == pytest.approx(expected, abs=1e-3)


# ---------------------------------------------------------------------------------------------
# SI-SDR: closed form
# ---------------------------------------------------------------------------------------------


def test_si_sdr_closed_form_and_scale_invariance():
    rng = np.random.default_rng(11)
    ref = rng.standard_normal(SR).astype(np.float64)
    e = rng.standard_normal(SR)
    e -= np.dot(e, ref) / np.dot(ref, ref) * ref  # orthogonal to ref
    a = 0.7
    e *= 0.05
    deg = a * ref + e
    expected = 10 * math.log10(np.dot(a * ref, a * ref) / np.dot(e, e))
    assert METRICS["si_sdr"].fn(ref, deg, SR) == pytest.approx(expected, abs=1e-9)
    assert METRICS["si_sdr"].fn(ref, 3.7 * deg, SR) == pytest.approx(expected, abs=1e-9)
    assert METRICS["si_sdr"].fn(0.2 * ref, deg, SR) == pytest.approx(expected, abs=1e-9)
    assert si_sdr_mod.si_sdr_value(ref, deg) == pytest.approx(expected, abs=1e-9)


def test_si_sdr_is_clamped_to_its_declared_range(clip):
    assert METRICS["si_sdr"].fn(clip, 0.5 * clip, SR) == si_sdr_mod.MAX_DB
    noise = np.random.default_rng(0).standard_normal(len(clip)).astype(np.float32)
    assert METRICS["si_sdr"].fn(clip, noise, SR) >= si_sdr_mod.MIN_DB


# ---------------------------------------------------------------------------------------------
# segSNR, LLR, WSS: constructed answers and independent implementations
# ---------------------------------------------------------------------------------------------


def test_identical_signals_give_each_measure_its_best_value(clip):
    values, errors = compute(clip, clip.copy(), SR)
    assert errors == {}
    assert values["segsnr"] == 35.0
    assert values["llr"] == 0.0
    assert values["wss"] == 0.0
    assert values["mcd"] == 0.0
    assert values["log_mel_distortion"] == 0.0
    assert values["si_sdr"] == si_sdr_mod.MAX_DB
    assert values["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert values["pesq"] > 4.5
    assert values["csig"] == values["covl"] == 5.0


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_segsnr_of_stationary_noise_is_the_known_per_frame_snr(snr_db):
    rng = np.random.default_rng(5)
    ref = (0.1 * rng.standard_normal(int(1.1 * SR16))).astype(np.float32)
    noise = rng.standard_normal(len(ref))
    noise *= 0.1 * 10 ** (-snr_db / 20)
    deg = (ref + noise).astype(np.float32)
    # each frame's SNR is snr_db up to the spread of 480-sample energy estimates
    assert METRICS["segsnr"].fn(ref, deg, SR16) == pytest.approx(snr_db, abs=0.3)


def test_segsnr_clamps_to_minus_10_and_35():
    rng = np.random.default_rng(6)
    ref = (0.1 * rng.standard_normal(SR16)).astype(np.float32)
    noise = rng.standard_normal(SR16).astype(np.float32)
    assert METRICS["segsnr"].fn(ref, ref + 1e-4 * noise, SR16) == 35.0
    assert METRICS["segsnr"].fn(ref, ref + 10 * noise, SR16) == -10.0


def test_llr_of_white_noise_against_an_ar1_reference_is_minus_log_one_minus_phi_squared():
    # The AR(1) reference's own predictor leaves sigma^2; the flat predictor of white noise
    # leaves R(0) = sigma^2 / (1 - phi^2): LLR = -ln(1 - phi^2), up to frame estimation error.
    rng = np.random.default_rng(7)
    phi = 0.9
    ref = lfilter([1.0], [1.0, -phi], rng.standard_normal(int(1.1 * SR16))).astype(np.float32)
    deg = rng.standard_normal(len(ref)).astype(np.float32)
    assert METRICS["llr"].fn(ref, deg, SR16) == pytest.approx(-math.log(1 - phi**2), abs=0.1)


def test_llr_wss_and_mcd_ignore_a_gain_change(clip):
    values, _ = compute(clip, 0.3 * clip, SR, ["llr", "wss", "mcd", "log_mel_distortion"])
    assert values["llr"] < 1e-6
    assert values["wss"] < 1e-6
    assert values["mcd"] < 1e-5  # c_0 (level) is excluded and the floors are relative (float32 rounding)
    assert values["log_mel_distortion"] == pytest.approx(-20 * math.log10(0.3), abs=1e-4)


def _pairs_16k() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    x = speech_like(1.1, sr=SR16, seed=0)
    e = np.random.default_rng(3).standard_normal(len(x))
    scale = np.sqrt(np.mean(x.astype(np.float64) ** 2) / np.mean(e**2))
    return {
        "noisy": (x, (x + e * scale * 0.1).astype(np.float32)),
        "filtered": (x, lfilter([1.0, 0.5], [1.0], x).astype(np.float32)),
        "noisy0": (x, (x + e * scale).astype(np.float32)),
    }


PAIRS_16K = _pairs_16k()


@pytest.mark.parametrize("case", sorted(PAIRS_16K))
def test_loizou_measures_match_independent_loop_implementations(case):
    ref, deg = PAIRS_16K[case]
    values, errors = compute(ref, deg, SR16)
    assert errors == {}
    assert values["segsnr"] == pytest.approx(loop_segsnr(ref, deg), abs=1e-9)
    assert values["llr"] == pytest.approx(loop_llr(ref, deg, clamp=True), abs=1e-7)
    assert values["wss"] == pytest.approx(loop_wss(ref, deg), abs=1e-9)
    # composites: Hu & Loizou's regressions on PESQ, unclamped LLR, WSS and segSNR, in [1, 5]
    llr_c, wss_v, seg, pq = loop_llr(ref, deg, clamp=False), values["wss"], values["segsnr"], values["pesq"]

    def clip15(v: float) -> float:
        return min(5.0, max(1.0, v))

    assert values["csig"] == pytest.approx(clip15(3.093 - 1.029 * llr_c + 0.603 * pq - 0.009 * wss_v), abs=1e-7)
    assert values["cbak"] == pytest.approx(clip15(1.634 + 0.478 * pq - 0.007 * wss_v + 0.063 * seg), abs=1e-7)
    assert values["covl"] == pytest.approx(clip15(1.594 + 0.805 * pq - 0.512 * llr_c - 0.007 * wss_v), abs=1e-7)


# Values printed by pysepm (github.com/schmiph2/pysepm at 7ef88aff, the public Python port of
# Loizou's MATLAB code) on the PAIRS_16K signals as float64: SNRseg, llr (clamped), wss and
# composite. pysepm is not on PyPI and needs numba; it was run once outside this repository,
# with numba.jit replaced by the identity and np.NaN by np.nan (NumPy 2).
PYSEPM = {
    "noisy": {"segsnr": 11.58815807, "llr": 0.511826341, "wss": 8.369419941, "csig": 3.997697086, "cbak": 3.499826857, "covl": 3.284779193},
    "filtered": {"segsnr": 6.022317428, "llr": 0.2876906179, "wss": 0.008550665201, "csig": 5.0, "cbak": 4.232965512, "covl": 5.0},
    "noisy0": {"segsnr": -3.629741993, "llr": 1.630278154, "wss": 27.38512173, "csig": 1.527300238, "cbak": 1.788894073, "covl": 1.353607989},
}


@pytest.mark.parametrize("case", sorted(PYSEPM))
def test_loizou_measures_match_pysepm(case):
    ref, deg = PAIRS_16K[case]
    values, _ = compute(ref, deg, SR16, list(PYSEPM[case]))
    for name, expected in PYSEPM[case].items():
        assert values[name] == pytest.approx(expected, abs=2e-6), name


# ---------------------------------------------------------------------------------------------
# MCD and log-mel distortion
# ---------------------------------------------------------------------------------------------


def test_mcd_with_all_coefficients_is_half_the_band_std_of_the_db_difference(clip):
    # Parseval for the cosine series: (10/ln10) sqrt(2 sum_{k>=1} dc_k^2) over all N-1
    # coefficients equals (10/ln10) * std_bands(ln amplitude difference) = std(dB diff) / 2.
    a = _analysis.PairAnalysis(clip, with_noise(clip, 10, seed=8), SR)
    ref, deg = floored_mel_power(a)
    full = mcd_mod.mcd_frames(ref, deg, order=ref.shape[1] - 1)
    db = 10 * np.log10(ref) - 10 * np.log10(deg)
    assert np.allclose(full, db.std(axis=1) / 2, rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# Monotonicity
# ---------------------------------------------------------------------------------------------


def test_more_white_noise_is_worse_for_every_measure(clip):
    rows = [compute(clip, with_noise(clip, snr, seed=9), SR) for snr in (30, 20, 10, 0)]
    assert all(errors == {} for _, errors in rows)
    for name, spec in METRICS.items():
        series = [values[name] for values, _ in rows]
        sign = 1.0 if spec.higher_is_better else -1.0
        worst = spec.value_range[0] if spec.higher_is_better else spec.value_range[1]
        for before, after in itertools.pairwise(series):
            # strictly worse, unless already clamped at the worst end of the declared range
            assert sign * (after - before) < 0 or after == before == worst, (name, series)
        assert sign * (series[-1] - series[0]) < 0, (name, series)
        assert all(spec.value_range[0] <= v <= spec.value_range[1] for v in series), (name, series)


# ---------------------------------------------------------------------------------------------
# NaN with a reason
# ---------------------------------------------------------------------------------------------


def test_silent_reference_makes_every_measure_nan_with_a_reason(clip):
    values, errors = compute(np.zeros_like(clip), clip, SR)
    assert set(errors) == set(METRIC_NAMES)
    assert all(math.isnan(v) for v in values.values())
    assert all("reference is silent" in r for r in errors.values())
    assert math.isnan(METRICS["pesq"].fn(np.zeros_like(clip), clip, SR))


def test_silent_degraded_makes_pesq_and_what_needs_it_nan(clip):
    values, errors = compute(clip, np.zeros_like(clip), SR)
    assert set(errors) == {"pesq", "csig", "cbak", "covl", "si_sdr"}
    assert "degraded is silent" in errors["pesq"]
    assert errors["csig"].startswith("needs PESQ")
    assert all(math.isnan(values[n]) for n in errors)
    assert all(math.isfinite(values[n]) for n in set(METRIC_NAMES) - set(errors))


def test_pesq_package_errors_become_nan_with_their_reason(clip):
    short = clip[: int(0.2 * SR)]
    values, errors = compute(short, with_noise(short, 10), SR, ["pesq", "csig", "stoi"])
    assert math.isnan(values["pesq"]) and "BufferTooShortError" in errors["pesq"]
    assert "BufferTooShortError" in errors["csig"]
    assert math.isnan(values["stoi"]) and "stoi" in errors["stoi"]
    with pytest.raises(_analysis.MetricUndefined, match="NoUtterancesError"):
        pesq_mod.pesq_wb(np.zeros(SR16), np.zeros(SR16))


def test_shorter_than_a_frame_is_nan_not_an_exception(clip):
    _, errors = compute(clip[:1000], clip[:1000], SR)
    assert set(errors) == set(METRIC_NAMES) - {"si_sdr"}
    assert "shorter than one 30 ms frame" in errors["llr"]


# ---------------------------------------------------------------------------------------------
# Shared intermediates
# ---------------------------------------------------------------------------------------------


def test_compute_runs_each_shared_intermediate_once(clip, monkeypatch):
    calls: dict[str, int] = {}

    def counting(module, attr):
        original = getattr(module, attr)

        def wrapper(*args, **kwargs):
            calls[attr] = calls.get(attr, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, attr, wrapper)

    counting(pesq_mod, "_pesq")
    counting(llr_mod, "llr_frames")
    counting(wss_mod, "wss_frames")
    counting(segsnr_mod, "segsnr_frames")
    counting(_analysis, "resample")
    _, errors = compute(clip, with_noise(clip, 10), SR)
    assert errors == {}
    assert calls == {"_pesq": 1, "llr_frames": 1, "wss_frames": 1, "segsnr_frames": 1, "resample": 2}
