"""Packet loss (Gilbert model, zero insertion, concealment) and jitter-buffer warping, measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sesqa.generator.degradations import REGISTRY
from sesqa.generator.degradations.base import SamplingContext
from sesqa.generator.degradations.telephony._concealment import conceal, pitch_period
from sesqa.generator.degradations.telephony._gilbert import frame_grid, gilbert_losses
from sesqa.generator.degradations.telephony.jitter_buffer_warp import MAX_OFFSET_SEGMENTS, JitterBufferWarp, warp_events
from sesqa.generator.degradations.telephony.packet_loss import PacketLoss
from sesqa.generator.degradations.telephony.packet_loss_concealed import PacketLossConcealed

from .helpers import SR, speech_like

PAIRS = [(0.01, 1.0), (0.3, 3.0), (0.1, 2.0), (0.05, 10.0)]
MS = SR // 1000


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of True in a bool array."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def vowel(f0: float, seconds: float = 1.1, sr: int = SR) -> np.ndarray:
    """A steady harmonic signal of fundamental f0 (19 harmonics, 1/k amplitudes), peak 1."""
    t = np.arange(int(seconds * sr)) / sr
    x = sum(np.sin(2 * np.pi * k * f0 * t + 0.3 * k) / k for k in range(1, 20))
    return (x / np.max(np.abs(x))).astype(np.float32)


def lost_mask(n: int, frame_ms: int, loss_rate: float, mean_burst: float, seed: int) -> np.ndarray:
    """The per-sample loss pattern of packet loss params at 48 kHz, recomputed from the Gilbert model."""
    frame, n_frames = frame_grid(n, SR, frame_ms)
    return np.repeat(gilbert_losses(np.random.default_rng(seed), n_frames, loss_rate, mean_burst), frame)[:n]


# --- the Gilbert model ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss_rate,mean_burst", PAIRS)
def test_gilbert_loss_rate_and_burst_length(loss_rate, mean_burst):
    """One sequence of 400,000 frames: the loss rate within 4 standard errors of loss_rate (the
    chain's correlation 1 - p - r widens the error by (1 + lambda) / (1 - lambda)), the mean burst
    within 4 standard errors of mean_burst_frames (geometric bursts: variance (1 - r) / r^2)."""
    n = 400_000
    lost = gilbert_losses(np.random.default_rng(11), n, loss_rate, mean_burst)
    assert lost.dtype == bool and lost.shape == (n,)
    r = 1 / mean_burst
    p = loss_rate * r / (1 - loss_rate)
    lam = 1 - p - r
    rate_se = math.sqrt(loss_rate * (1 - loss_rate) / n * (1 + lam) / (1 - lam))
    assert abs(lost.mean() - loss_rate) < 4 * rate_se, (lost.mean(), loss_rate, rate_se)

    starts, ends = runs(lost)
    bursts = ends - starts
    burst_se = math.sqrt((1 - r) / r**2 / len(bursts))
    assert abs(bursts.mean() - mean_burst) <= 4 * burst_se + 1e-12, (bursts.mean(), mean_burst, burst_se)
    gaps = starts[1:] - ends[:-1]  # received runs: geometric with mean 1 / p
    assert abs(gaps.mean() - 1 / p) < 4 * math.sqrt((1 - p) / p**2 / len(gaps)), (gaps.mean(), 1 / p)


@pytest.mark.parametrize("loss_rate,mean_burst", [(0.01, 1.0), (0.3, 3.0)])
def test_gilbert_short_sequences_are_stationary_from_the_first_frame(loss_rate, mean_burst):
    """4,000 sequences of 50 frames: the loss rate at every frame position is loss_rate (the first
    state is drawn from the stationary distribution), so short signals lose as much as long ones."""
    rng = np.random.default_rng(5)
    lost = np.stack([gilbert_losses(rng, 50, loss_rate, mean_burst) for _ in range(4000)])
    se_frame = math.sqrt(loss_rate * (1 - loss_rate) / 4000)
    assert abs(lost[:, 0].mean() - loss_rate) < 4 * se_frame
    assert abs(lost[:, :5].mean() - loss_rate) < 4 * se_frame
    assert abs(lost.mean() - loss_rate) < 0.1 * loss_rate


def test_frame_grid_counts_the_partial_last_frame():
    assert frame_grid(52_800, SR, 30) == (1440, 37)
    assert frame_grid(52_800, SR, 20) == (960, 55)
    assert frame_grid(8_000, 8_000, 60) == (480, 17)


# --- zero insertion -----------------------------------------------------------------------------


@pytest.mark.parametrize("strength", [0.0, 1.0])
def test_sampled_packet_loss_zeros_the_stated_fraction_of_frames(strength):
    """Over 1,500 sampled params (1.1 s at 48 kHz each), the fraction of frames `packet_loss` zeroes
    is the sampled loss_rate and the zeroed runs last about the sampled mean burst; counted on the
    output (a frame is zeroed when all its samples are exact zeros; the input has none)."""
    x = speech_like() + np.float32(2.0)
    rng = np.random.default_rng(2024)
    zeroed = total = 0
    burst_frames: list[int] = []
    expected_burst: list[float] = []
    for _ in range(1500):
        params = PacketLoss.sample_params(rng, strength, None)
        y = PacketLoss.apply(x, SR, params)
        frame, n_frames = frame_grid(len(x), SR, params.frame_ms)
        padded = np.concatenate([y, np.zeros(frame * n_frames - len(y), np.float32)])
        frame_zero = np.all(padded.reshape(n_frames, frame) == 0, axis=1)
        zeroed += int(frame_zero.sum())
        total += n_frames
        starts, ends = runs(frame_zero)
        inner = (starts > 0) & (ends < n_frames)  # bursts cut by the signal's ends are shorter
        burst_frames.extend((ends - starts)[inner])
        expected_burst.extend([params.mean_burst_frames] * int(inner.sum()))
    loss_rate = PacketLoss.sample_params(np.random.default_rng(0), strength, None).loss_rate
    assert abs(zeroed / total - loss_rate) < max(0.1 * loss_rate, 0.003), (zeroed / total, loss_rate)
    # Each observed burst is paired with its own chain's mean. Measured: 1.78 frames against 1.83 at
    # strength 1 (10,203 bursts; long bursts touch an end more often, so interior ones run ~3 %
    # short), 1.72 against 1.86 at strength 0 (361 bursts, standard error ~4 %).
    assert np.mean(burst_frames) == pytest.approx(np.mean(expected_burst), rel=0.06 if strength else 0.15)


@pytest.mark.parametrize("sr", [SR, 44_100, 8_000])
@pytest.mark.parametrize("frame_ms", [10, 30, 60])
def test_zero_insertion_zeroes_exactly_the_lost_frames(sr, frame_ms):
    """The loss pattern recomputed from the params: lost frames are exact zeros, received ones are
    bit-exact copies, the partial last frame included."""
    x = speech_like(1.013, sr) + np.float32(0.5)
    frame, n_frames = frame_grid(len(x), sr, frame_ms)
    assert len(x) % frame, "the test needs a partial last frame"
    checked_last = False
    for seed in range(40):
        params = PacketLoss.Params(loss_rate=0.3, mean_burst_frames=2.0, frame_ms=frame_ms, seed=seed)
        y = PacketLoss.apply(x, sr, params)
        assert y.dtype == np.float32 and y.shape == x.shape
        lost = gilbert_losses(np.random.default_rng(seed), n_frames, 0.3, 2.0)
        for k in range(n_frames):
            seg = slice(k * frame, min((k + 1) * frame, len(x)))
            if lost[k]:
                assert np.all(y[seg] == 0.0), (seed, k)
            else:
                np.testing.assert_array_equal(y[seg], x[seg])
        checked_last |= bool(lost[-1])
    assert checked_last, "no seed lost the partial last frame"


# --- concealment --------------------------------------------------------------------------------


@pytest.mark.parametrize("sr", [8_000, 16_000, SR])
@pytest.mark.parametrize("f0", [90.0, 137.0, 173.3, 240.0, 380.0])
def test_pitch_period_of_a_harmonic_signal(sr, f0):
    """The estimated period of a steady harmonic signal is its true period within one sample."""
    x = vowel(f0, 0.1, sr)
    assert abs(pitch_period(x, sr) - sr / f0) <= 1.0, (pitch_period(x, sr), sr / f0)


def test_concealment_is_closer_to_the_original_than_zeros():
    """Pooled SNR over the lost frames of 20 loss patterns (loss_rate 0.2, single-packet bursts):
    zero insertion is 0 dB by definition; concealment measured 20.6 dB on a steady 137 Hz vowel with
    10 ms packets, 4.4 dB on `speech_like` (gliding pitch, syllable envelope) with 20 ms packets.
    The lost frames are not silent: within their first 10 ms they keep the original's level."""
    for x, frame_ms, floor_db in ((vowel(137.0), 10, 15.0), (speech_like(), 20, 3.0)):
        ref = err = 0.0
        levels = []
        for seed in range(20):
            params = PacketLossConcealed.Params(loss_rate=0.2, mean_burst_frames=1.0, frame_ms=frame_ms, seed=seed)
            y = PacketLossConcealed.apply(x, SR, params)
            lost = lost_mask(len(x), frame_ms, 0.2, 1.0, seed)
            ref += float(np.sum(x[lost].astype(np.float64) ** 2))
            err += float(np.sum((x[lost] - y[lost]).astype(np.float64) ** 2))
            for a, _ in zip(*runs(lost)):
                if a > 0:
                    seg = slice(a, a + 10 * MS)
                    levels.append(np.sqrt(np.mean(y[seg].astype(np.float64) ** 2) / np.mean(x[seg].astype(np.float64) ** 2)))
        assert 10 * np.log10(ref / err) > floor_db, (frame_ms, 10 * np.log10(ref / err))
        assert np.median(levels) == pytest.approx(1.0, abs=0.25)


@pytest.mark.parametrize("frame_ms", [10, 20, 60])
def test_concealment_has_no_clicks(frame_ms):
    """Around every splice (2 ms before an erasure to 12 ms after its end) the largest first
    difference of the concealed signal stays within 1.5x the signal's own largest one (measured
    1.01x); zero insertion on the same signal reaches more (measured 5.2x on the vowel)."""
    for x in (speech_like(), vowel(137.0)):
        own = float(np.max(np.abs(np.diff(x.astype(np.float64)))))
        worst = worst_zeros = 0.0
        for seed in range(10):
            params = PacketLossConcealed.Params(loss_rate=0.3, mean_burst_frames=2.0, frame_ms=frame_ms, seed=seed)
            lost = lost_mask(len(x), frame_ms, 0.3, 2.0, seed)
            d = np.abs(np.diff(PacketLossConcealed.apply(x, SR, params).astype(np.float64)))
            dz = np.abs(np.diff(PacketLoss.apply(x, SR, params).astype(np.float64)))
            starts, ends = runs(lost)
            for point in np.concatenate([starts, ends]):
                seg = slice(max(0, point - 2 * MS), min(len(d), point + 12 * MS))
                worst = max(worst, float(d[seg].max()))
                worst_zeros = max(worst_zeros, float(dz[seg].max()))
        assert worst <= 1.5 * own, (worst / own)
        assert worst_zeros > worst


def test_long_erasure_fades_to_exact_zero_after_60_ms():
    """A 150 ms erasure in a steady vowel: full level for 10 ms, a linear fade (mean gain 0.5 over
    30-40 ms), exact zeros from 60 ms to the end of the erasure."""
    x = vowel(137.0)
    a, b = 400 * MS, 550 * MS
    lost = np.zeros(len(x), dtype=bool)
    lost[a:b] = True
    y = conceal(x, lost, SR)
    assert np.all(y[a + 60 * MS : b] == 0.0)
    assert np.all(y[a + 50 * MS : a + 60 * MS] != 0.0)

    def level(lo_ms: int, hi_ms: int) -> float:
        seg = slice(a + lo_ms * MS, a + hi_ms * MS)
        return float(np.sqrt(np.mean(y[seg].astype(np.float64) ** 2) / np.mean(x[seg].astype(np.float64) ** 2)))

    assert level(0, 10) == pytest.approx(1.0, abs=0.1)
    assert level(30, 40) == pytest.approx(0.5, abs=0.1)
    assert level(10, 20) > level(20, 30) > level(30, 40) > level(40, 50) > level(50, 60)


def test_received_samples_untouched_outside_the_cross_fades():
    """Received samples are bit-exact except the quarter pitch period before an erasure (at most
    3.75 ms; exactly 87 samples for a 137 Hz vowel, period 350) and the end cross-fade after it
    (a quarter period + 4 ms per 10 ms of erasure beyond the first, at most 10 ms)."""
    for x, before in ((vowel(137.0), 350 // 4), (speech_like(), int(3.75 * MS))):
        for seed in range(10):
            params = PacketLossConcealed.Params(loss_rate=0.2, mean_burst_frames=2.0, frame_ms=20, seed=seed)
            y = PacketLossConcealed.apply(x, SR, params)
            lost = lost_mask(len(x), 20, 0.2, 2.0, seed)
            touched = lost.copy()
            for a, b in zip(*runs(lost)):
                touched[max(0, a - before) : a] = True
                touched[b : b + 10 * MS] = True
            np.testing.assert_array_equal(y[~touched], x[~touched])
            changed = np.flatnonzero((y != x) & ~lost)
            assert len(changed) > 0


def test_loss_at_the_start_is_silence():
    """No history before the signal: the lost start is exact zeros."""
    x = speech_like()
    lost = np.zeros(len(x), dtype=bool)
    lost[: 30 * MS] = True
    y = conceal(x, lost, SR)
    assert np.all(y[: 30 * MS] == 0.0)
    np.testing.assert_array_equal(y[40 * MS :], x[40 * MS :])


# --- jitter-buffer warping ----------------------------------------------------------------------


def playout_delays(x: np.ndarray, y: np.ndarray, segment: int) -> np.ndarray:
    """Per output sample, the delay d in {0, segment, ..., 4 segments} with y[j] == x[j - d] (-1 where
    none matches: inside cross-fades, or a delay outside the bound). x must be white noise."""
    delays = np.full(len(y), -1)
    j = np.arange(len(y))
    for k in range(MAX_OFFSET_SEGMENTS + 1):
        d = k * segment
        match = (j >= d) & (y == x[np.maximum(j - d, 0)])
        delays[match] = d
    return delays


def test_jitter_warp_event_rate_and_offset_bound():
    """On white noise (every sample identifies its source), 300 sampled warps of 2 s at 4 events/s:
    the delay read off the output changes about events_per_s times per second (measured 3.86/s:
    events in the first segment, within a cross-fade of the previous one or in the last half
    cross-fade are skipped or unseen, ~2 % expected), every sample
    outside the cross-fades plays the input at a delay of 0..4 segments, the first change is a
    repeat (delay 0 -> 1 segment), and each change is one segment."""
    x = np.random.default_rng(3).standard_normal(2 * SR).astype(np.float32)
    rng = np.random.default_rng(9)
    changes = 0
    for _ in range(300):
        params = JitterBufferWarp.sample_params(rng, (4.0 - 0.5) / 7.5, None)
        assert params.events_per_s == pytest.approx(4.0)
        y = JitterBufferWarp.apply(x, SR, params)
        assert y.shape == x.shape and y.dtype == np.float32
        segment = int(round(params.segment_ms * MS))
        delays = playout_delays(x, y, segment)
        unmatched = np.flatnonzero(delays < 0)
        fade = int(round(params.crossfade_ms * MS))
        steady = delays[delays >= 0]
        steps = np.diff(steady)
        jumps = steps[steps != 0]
        assert len(unmatched) <= (len(jumps) + 1) * fade  # + 1: a splice in the last half cross-fade shows no jump
        assert np.all(np.abs(jumps) == segment)
        if len(jumps):
            assert steady[0] == 0 and jumps[0] == segment
        changes += len(jumps)
    rate = changes / (300 * 2.0)
    assert rate == pytest.approx(4.0 * 0.98, rel=0.06), rate


def test_jitter_warp_repeat_is_a_copy():
    """The first event is a repeat: after it the output plays the segment before it again, so the
    two copies (outside the cross-fade) correlate at 1 and are equal; before the event y is x."""
    x = speech_like()
    for seed in range(20):
        params = JitterBufferWarp.Params(events_per_s=2.0, segment_ms=15.0, crossfade_ms=2.5, seed=seed)
        splices, _ = warp_events(len(x), SR, params)
        if len(splices) < 1 or (len(splices) > 1 and splices[1] - splices[0] < 40 * MS):
            continue
        y = JitterBufferWarp.apply(x, SR, params)
        at, segment, half = int(splices[0]), 15 * MS, int(1.25 * MS)
        np.testing.assert_array_equal(y[: at - half], x[: at - half])
        first = y[at - segment + half : at - half].astype(np.float64)
        second = y[at + half : at + segment - half].astype(np.float64)
        np.testing.assert_array_equal(first, second)
        assert np.corrcoef(first, second)[0, 1] == pytest.approx(1.0, abs=1e-9)
        # The output then runs one segment late: y[j] == x[j - segment] until the next event.
        end = int(splices[1]) - half if len(splices) > 1 else len(x)
        np.testing.assert_array_equal(y[at + half : end], x[at + half - segment : end - segment])
        return
    pytest.fail("no seed gave an isolated first event")


def test_jitter_warp_leaves_short_input_alone_without_events():
    """0.5 events/s over 0.1 s: the output is bit-exact whenever no event falls inside, and that
    happens about exp(-0.05) of the time; events_per_s = 0 never changes anything."""
    x = speech_like(0.1)
    unchanged = 0
    for seed in range(400):
        params = JitterBufferWarp.Params(events_per_s=0.5, segment_ms=12.0, crossfade_ms=2.5, seed=seed)
        y = JitterBufferWarp.apply(x, SR, params)
        same = bool(np.array_equal(y, x))
        assert same == (len(warp_events(len(x), SR, params)[0]) == 0)
        unchanged += same
    assert unchanged / 400 == pytest.approx(math.exp(-0.5 * (0.1 - 0.0135)), abs=0.03)
    still = JitterBufferWarp.Params(events_per_s=0.0, segment_ms=12.0, crossfade_ms=2.5, seed=1)
    np.testing.assert_array_equal(JitterBufferWarp.apply(speech_like(), SR, still), speech_like())


# --- params ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls,good,field,bad",
    [
        (PacketLoss, dict(loss_rate=0.1, mean_burst_frames=2.0, frame_ms=20, seed=1), "loss_rate", 0.7),
        (PacketLoss, dict(loss_rate=0.1, mean_burst_frames=2.0, frame_ms=20, seed=1), "mean_burst_frames", 0.5),
        (PacketLoss, dict(loss_rate=0.1, mean_burst_frames=2.0, frame_ms=20, seed=1), "frame_ms", 25),
        (PacketLoss, dict(loss_rate=0.1, mean_burst_frames=2.0, frame_ms=20, seed=1), "seed", -1),
        (PacketLossConcealed, dict(loss_rate=0.1, mean_burst_frames=2.0, frame_ms=20, seed=1), "mean_burst_frames", 11.0),
        (JitterBufferWarp, dict(events_per_s=2.0, segment_ms=15.0, crossfade_ms=2.5, seed=1), "events_per_s", -1.0),
        (JitterBufferWarp, dict(events_per_s=2.0, segment_ms=15.0, crossfade_ms=2.5, seed=1), "segment_ms", 100.0),
        (JitterBufferWarp, dict(events_per_s=2.0, segment_ms=15.0, crossfade_ms=2.5, seed=1), "crossfade_ms", 0.0),
        (JitterBufferWarp, dict(events_per_s=2.0, segment_ms=15.0, crossfade_ms=2.5, seed=1), "seed", 1.5),
    ],
)
def test_params_validation_names_the_parameter(cls, good, field, bad):
    cls.Params(**good)
    with pytest.raises(ValueError, match=field):
        cls.Params(**{**good, field: bad})


def test_gilbert_rejects_pairs_without_a_chain():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="loss_rate"):
        gilbert_losses(rng, 10, 0.8, 1.0)  # p = 4 > 1
    with pytest.raises(ValueError, match="mean_burst_frames"):
        gilbert_losses(rng, 10, 0.1, 0.5)
    with pytest.raises(ValueError, match="loss_rate"):
        gilbert_losses(rng, 10, float("nan"), 2.0)


def test_registered_in_the_telephony_pool():
    for name, weight in (("packet_loss", 0.08), ("packet_loss_concealed", 0.09), ("jitter_buffer_warp", 0.06)):
        deg = REGISTRY[name]
        assert deg.pool == "telephony" and deg.weight == weight and deg.encoders == ()


@pytest.mark.parametrize("cls", [PacketLoss, PacketLossConcealed, JitterBufferWarp])
def test_drawn_for_a_signal_the_degradation_always_happens(cls):
    """At the mildest strength the unconditioned pattern leaves most 1.1 s frames untouched (78 %
    for packet loss, 59 % for the jitter buffer, measured over 2,000 draws), yet the sample would be
    labelled with the degradation; drawn for the signal (as the generator draws), none is."""
    x = speech_like() + np.float32(2.0)
    ctx = SamplingContext(n_samples=len(x), sr=SR)
    rng = np.random.default_rng(7)
    untouched_without_ctx = 0
    for _ in range(200):
        params = cls.sample_params(rng, 0.0, ctx)
        assert not np.array_equal(cls.apply(x, SR, params), x), params
        untouched_without_ctx += np.array_equal(cls.apply(x, SR, cls.sample_params(rng, 0.0, None)), x)
    assert untouched_without_ctx > 80, "without a signal the law is the chain's own, which often loses nothing"
