"""Packet-loss concealment by pitch-period repetition, after ITU-T G.711 Appendix I.

An erasure (a run of consecutive lost samples) is filled from the signal played before it, the
history, which holds earlier concealed output too, as in G.711 Appendix I:

1. Pitch: the last `CORRELATION_MS` (25 ms) of history is compared with the history `lag` samples
   earlier, for lags of 2.5-15 ms (400-67 Hz), by normalised cross-correlation
   sum(a * b) / sqrt(sum(a^2) * sum(b^2)); the analysis spans the last 40 ms. The period is the
   shortest lag at a local maximum within `OCTAVE_TOLERANCE` of the best one (so a multiple of
   the period that correlates marginally better is not taken), else the best lag.
2. Start: the last quarter period q = P // 4 of history is overlap-added (linear ramps) with the
   quarter period one period earlier, so that repeating the last period P continues the history
   without a jump. This changes the q samples of received signal before the erasure (G.711
   Appendix I delays its output by 3.75 ms to be able to; offline no delay is needed).
3. Fill: the last period (after step 2) is repeated through the erasure, with full gain for the
   first 10 ms and then a linear fade to zero at 60 ms (G.711 Appendix I attenuates 20 % per 10 ms
   after the first 10 ms); from 60 ms of consecutive loss on the output is exact zeros.
4. End: the synthetic signal continues into the first received samples and is cross-faded
   (linear ramps) into them over q + 4 ms per 10 ms of erasure beyond the first, at most 10 ms
   (G.711 Appendix I's end overlap), cut short by the end of the signal or the next erasure.

History before the start of the signal counts as zeros (G.711 Appendix I's zero-initialised
history buffer), so a loss at the very start is rendered as zeros and the received signal after
it fades in over the end cross-fade.

Simplified against G.711 Appendix I: the pitch search runs at the signal's own rate, not the
appendix's 2:1-decimated coarse search followed by a fine one, over 2.5-15 ms instead of 5-15 ms,
and with a 25 ms window instead of 20 ms; the repeated buffer stays one period long, where the
appendix widens it to two periods after 10 ms of erasure and to three after 20 ms (with
overlap-adds at each widening) to make long erasures less buzzy; the ramps run over any sample
rate instead of the appendix's 8 kHz sample counts.

A codec's own concealment is not used. FFmpeg, and so PyAV, cannot be told of a lost packet by an
empty one: avcodec_send_packet reads an empty packet as the end of the stream (with PyAV 18.1 every
later packet then raises EOFError), and leaving the packet out just closes the gap. Opus alone has
a way in: a packet of its TOC byte only is a zero-length frame (RFC 6716, 3.2.1), which libopus
conceals with its own PLC (measured with PyAV 18.1, libopus at 32 kbps, 19 single lost 20 ms
packets: median correlation 0.79 with the loss-free decode over the lost packet, level -0.7 dB);
that covers one codec only, so this concealment stays codec-independent.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

MIN_PITCH_MS = 2.5
MAX_PITCH_MS = 15.0
CORRELATION_MS = 25.0
OCTAVE_TOLERANCE = 0.97
"""A shorter lag is preferred if its correlation is at least this fraction of the best one."""
FULL_GAIN_MS = 10.0
SILENT_AFTER_MS = 60.0
END_OVERLAP_STEP_MS = 4.0
"""The end cross-fade grows by this much per 10 ms of erasure beyond the first."""
END_OVERLAP_MAX_MS = 10.0


def _samples(ms: float, sr: int) -> int:
    return max(1, int(round(ms * sr / 1000.0)))


def pitch_period(history: np.ndarray, sr: int) -> int:
    """Pitch period (samples) of the end of `history`, by normalised cross-correlation over 2.5-15 ms."""
    lo, hi, w = _samples(MIN_PITCH_MS, sr), _samples(MAX_PITCH_MS, sr), _samples(CORRELATION_MS, sr)
    h = _tail(np.asarray(history, dtype=np.float64), w + hi)
    target = h[-w:]
    # num[k] compares target with the window starting at k, i.e. lag hi - k.
    num = signal.correlate(h, target, mode="valid")[::-1]
    energy = np.concatenate([[0.0], np.cumsum(h * h)])
    window_energy = (energy[w:] - energy[:-w])[::-1]
    corr = num / np.sqrt(window_energy * np.dot(target, target) + 1e-30)
    corr = corr[lo : hi + 1]  # index i is lag lo + i
    best = float(np.max(corr))
    peaks = np.flatnonzero((corr[1:-1] >= corr[:-2]) & (corr[1:-1] > corr[2:]) & (corr[1:-1] >= OCTAVE_TOLERANCE * best)) + 1
    i = int(peaks[0]) if best > 0 and len(peaks) else int(np.argmax(corr))
    return lo + i


def conceal(x: np.ndarray, lost: np.ndarray, sr: int) -> np.ndarray:
    """`x` with the samples where `lost` is True concealed; float32, same length."""
    y = np.asarray(x, dtype=np.float64).reshape(-1).copy()
    lost = np.asarray(lost, dtype=bool).reshape(-1)
    n = len(y)
    edges = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    full, silent = _samples(FULL_GAIN_MS, sr), _samples(SILENT_AFTER_MS, sr)
    ten, step, most = _samples(10.0, sr), _samples(END_OVERLAP_STEP_MS, sr), _samples(END_OVERLAP_MAX_MS, sr)
    span = _samples(CORRELATION_MS, sr) + _samples(MAX_PITCH_MS, sr)
    for k, (a, b) in enumerate(zip(starts, ends)):
        period = pitch_period(y[:a], sr)
        quarter = max(1, period // 4)
        h = _tail(y[:a], span)
        ramp = np.arange(1, quarter + 1) / (quarter + 1)
        h[-quarter:] = h[-quarter:] * (1.0 - ramp) + h[-period - quarter : -period] * ramp
        keep = min(quarter, a)
        if keep:
            y[a - keep : a] = h[len(h) - keep :]

        erased = b - a
        overlap = min(quarter + step * ((erased - 1) // ten), most)
        next_start = starts[k + 1] if k + 1 < len(starts) else n
        overlap = max(0, min(overlap, next_start - b))
        t = np.arange(erased + overlap)
        synthetic = h[-period:][t % period] * np.clip(1.0 - (t - full) / (silent - full), 0.0, 1.0)
        y[a:b] = synthetic[:erased]
        if overlap:
            fade = np.arange(1, overlap + 1) / (overlap + 1)
            y[b : b + overlap] = synthetic[erased:] * (1.0 - fade) + y[b : b + overlap] * fade
    return y.astype(np.float32)


def _tail(x: np.ndarray, length: int) -> np.ndarray:
    """The last `length` samples of x (a copy), zero-padded in front when x is shorter."""
    out = np.zeros(length)
    m = min(length, len(x))
    if m:
        out[length - m :] = x[len(x) - m :]
    return out
