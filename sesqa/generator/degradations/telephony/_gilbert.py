"""Bursty packet loss: the two-state Gilbert model, and the frame grid packets are lost on.

The Gilbert model (Gilbert 1960; the Gilbert-Elliott model with loss probability 1 in the bad
state and 0 in the good one, as in ITU-T G.1050 and RFC 3611's burst metrics) is a Markov chain
over frames. A frame in the good state is received, one in the bad state is lost; from one frame
to the next the chain moves good -> bad with probability p and bad -> good with probability r.
For a stationary loss rate L and a mean burst length B (frames):

    r = 1 / B
    p = L * r / (1 - L)

The chain's stationary probability of the bad state is p / (p + r) = L, a loss burst lasts a
geometric number of frames with mean 1 / r = B, and a run of received frames a geometric number
with mean 1 / p. p <= 1 requires L <= B / (1 + B). The first frame's state is drawn from the
stationary distribution, so every frame is lost with probability L.

Sampling draws whole runs (the sojourn times of a two-state chain are geometric), not one frame
at a time; the result has exactly the chain's distribution.
"""

from __future__ import annotations

import math

import numpy as np


def transition_probabilities(loss_rate: float, mean_burst_frames: float) -> tuple[float, float]:
    """(p, r): the good -> bad and bad -> good transition probabilities of the Gilbert chain.

    Raises ValueError naming the parameter when the pair has no Gilbert chain.
    """
    if not 0.0 <= loss_rate < 1.0:
        raise ValueError(f"loss_rate must be in [0, 1), got {loss_rate!r}")
    if not mean_burst_frames >= 1.0:
        raise ValueError(f"mean_burst_frames must be >= 1, got {mean_burst_frames!r}")
    r = 1.0 / mean_burst_frames
    p = loss_rate * r / (1.0 - loss_rate)
    if p > 1.0:
        raise ValueError(
            f"loss_rate {loss_rate!r} with mean_burst_frames {mean_burst_frames!r} needs a good -> bad "
            f"transition probability p = {p:.3f} > 1; loss_rate must be <= {mean_burst_frames / (1 + mean_burst_frames):.3f}"
        )
    return p, r


def gilbert_losses(rng: np.random.Generator, n_frames: int, loss_rate: float, mean_burst_frames: float) -> np.ndarray:
    """One loss pattern of `n_frames` frames (bool, True = lost) from the Gilbert chain."""
    p, r = transition_probabilities(loss_rate, mean_burst_frames)
    lost = np.zeros(n_frames, dtype=bool)
    if n_frames <= 0:
        return lost
    bad = bool(rng.random() < loss_rate)
    if p == 0.0:  # loss_rate 0: the chain never leaves the good state
        return lost
    # Expected frames per (good run, bad run) cycle is 1/p + 1/r; draw a few more cycles than needed.
    cycles = int(math.ceil(n_frames / (1.0 / p + 1.0 / r))) + 8
    pieces = []
    filled = 0
    while filled < n_frames:
        good_runs = rng.geometric(p, size=cycles)
        bad_runs = rng.geometric(r, size=cycles)
        runs = np.stack([bad_runs, good_runs] if bad else [good_runs, bad_runs], axis=1).reshape(-1)
        pieces.append(np.repeat(np.tile([bad, not bad], cycles), runs))
        filled += int(runs.sum())
    lost[:] = np.concatenate(pieces)[:n_frames]
    return lost


def frame_grid(n_samples: int, sr: int, frame_ms: float) -> tuple[int, int]:
    """(samples per frame, number of frames) of a packet grid from sample 0; a partial last frame counts."""
    frame = max(1, int(round(frame_ms * sr / 1000.0)))
    return frame, -(-n_samples // frame)


def sample_mask(lost_frames: np.ndarray, frame_samples: int, n_samples: int) -> np.ndarray:
    """Per-sample loss mask (True = lost) of a frame loss pattern, cut to `n_samples`."""
    return np.repeat(np.asarray(lost_frames, dtype=bool), frame_samples)[:n_samples]
