"""Trainer data: quadruple labels and stream, MOS/JND lists and streams, augmentation."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import math
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from sesqa.generator.degradations.pools import pool_members
from sesqa.generator.run import GenerateConfig, generate
from sesqa.labels import JndItem, MosItem
from sesqa.shards import read_shard
from sesqa.shards.manifest import read_strengthless, read_vocabulary
from sesqa.shards.moments import RunningStats
from sesqa.shards.schema import DegradationStep
from sesqa.shards.stats import read_stats
from sesqa.trainer.augment import Augment, augment_group, draw_factor
from sesqa.trainer.batch import Batch, Encoded, QuadBatch
from sesqa.trainer.labelled import JndStream, MosStream, split_holdout
from sesqa.trainer.losses import ds_loss
from sesqa.trainer.quad_labels import collate, quad_labels, vocabulary
from sesqa.trainer.quadruples import QuadrupleStream
from sesqa.trainer.shard_plan import count_samples, round_robin_share, shard_sizes

from .helpers import SR, ramp, write

N_QUADS = 18
"""Shards of 4, 4, 4, 4, 2 quadruples: uneven, so DataLoader workers run out at different times."""
METRICS = ("si_sdr",)


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory, small_corpus) -> Path:
    clean, noise = small_corpus
    out = tmp_path_factory.mktemp("shards")
    generate(
        GenerateConfig(
            out=out, n=N_QUADS, seed=3, shard_size=4, ratios=(1.0, 0.0, 0.0), clean=(clean,), noise=(noise,),
            speaker_pattern=r"clean/(spk\d)/", workers=1, metrics=METRICS, cache_dir=out / "cache",
        ),
        progress=False,
    )
    return out


@pytest.fixture(scope="module")
def shards(shard_dir) -> list[Path]:
    found = sorted(shard_dir.glob("train-*.tar"))
    assert [p.name for p in found] == [f"train-{k:06d}.tar" for k in range(5)]
    return found


@pytest.fixture(scope="module")
def stats(shard_dir) -> RunningStats:
    return read_stats(shard_dir)


def fingerprint(frames: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(frames, dtype=np.float32).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def keys_by_frames(shards) -> dict[str, str]:
    """Sample key of each quadruple, found by its four decoded frames."""
    out = {}
    for shard in shards:
        for sample in read_shard(shard):
            out[fingerprint(np.stack(sample.frames()))] = sample.record.key
    assert len(out) == N_QUADS
    return out


def make_stream(shards, stats, **kw) -> QuadrupleStream:
    base = {"batch_size": 3, "seed": 7, "shuffle_buffer": 8, "rank": 0, "world_size": 1}
    return QuadrupleStream(shards, vocabulary(), METRICS, stats, **{**base, **kw})


def keys_of(batches, keys_by_frames) -> list[str]:
    return [keys_by_frames[fingerprint(f.numpy())] for b in batches for f in b.frames]


def assert_same_batches(a: list[QuadBatch], b: list[QuadBatch]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for field in dataclasses.fields(QuadBatch):
            assert torch.equal(getattr(x, field.name), getattr(y, field.name)), field.name


# --- labels ---------------------------------------------------------------------------------------


def test_vocabulary_is_clean_then_the_paper_pool(shard_dir):
    vocab = vocabulary()
    assert vocab[0] == "clean" and vocab[1:] == pool_members("paper") and len(vocab) == 38
    # a run's manifest declares its pool, then the source properties it may record (band_limit)
    assert vocabulary(read_vocabulary([shard_dir])) == (*vocab, "band_limit")
    with pytest.raises(ValueError, match="clean"):
        vocabulary(("clean", "mp3"))


def test_labels_of_a_record_by_hand(shards):
    record = next(read_shard(shards[0])).record
    vocab = vocabulary()
    at = vocab.index
    stats = RunningStats(("si_sdr", "pesq", "stoi"))
    stats.update_many("si_sdr", [1.0, 3.0])  # mean 2, std 1
    stats.update_many("pesq", [2.0, 4.0])
    step = lambda t, s: DegradationStep(t, s, {})  # params do not matter for labels
    r = dataclasses.replace(
        record,
        chain_i=(),
        chain_j=(step("mp3", 0.3), step("clipping", 0.5), step("mp3", 0.7)),
        metrics={"si_sdr": 5.0, "pesq": None},
    )
    labels = quad_labels(r, vocab, ("si_sdr", "pesq", "stoi"), stats)
    expect_ti = np.zeros(38, np.float32)
    expect_ti[at("clean")] = 1
    np.testing.assert_array_equal(labels.types_i, expect_ti)
    np.testing.assert_array_equal(labels.strength_i, np.zeros(38, np.float32))
    assert set(np.flatnonzero(labels.types_j)) == {at("mp3"), at("clipping")}
    assert labels.strength_j[at("mp3")] == pytest.approx(0.7) and labels.strength_j[at("clipping")] == pytest.approx(0.5)
    assert np.count_nonzero(labels.strength_j) == 2
    # si_sdr normalised (5 - 2) / 1; pesq None and stoi absent (and without statistics) are masked.
    np.testing.assert_allclose(labels.metrics, [3.0, 0.0, 0.0])
    np.testing.assert_array_equal(labels.metrics_mask, [True, False, False])
    assert labels.types_i.dtype == np.float32 and labels.metrics_mask.dtype == bool

    r2 = dataclasses.replace(r, chain_i=(step("reverse", 0.0), step("low_pass", 0.25)), chain_j=(step("low_pass", 0.6),))
    labels = quad_labels(r2, vocab, ("si_sdr",), stats)
    assert set(np.flatnonzero(labels.types_i)) == {at("reverse"), at("low_pass")}
    assert set(np.flatnonzero(labels.types_j)) == {at("reverse"), at("low_pass")}  # x_j carries chain_i's types
    assert labels.strength_i[at("low_pass")] == pytest.approx(0.25) and labels.strength_j[at("low_pass")] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="low_pass"):
        quad_labels(r2, ("clean", "reverse"), (), None)
    with pytest.raises(ValueError, match="stats"):
        quad_labels(r2, vocab, ("si_sdr",), None)


def reverse_record(shards):
    """A record whose x_i chain holds reverse (with the noise strength the generator records) and low_pass."""
    record = next(read_shard(shards[0])).record
    step = lambda t, s: DegradationStep(t, s, {})
    return dataclasses.replace(record, chain_i=(step("reverse", 0.8), step("low_pass", 0.25)), chain_j=(step("mp3", 0.6),), metrics={})


def test_reverse_carries_no_strength_label(shards):
    vocab = vocabulary()
    at = vocab.index
    r = reverse_record(shards)
    for labels in (quad_labels(r, vocab, (), None, strengthless_types=("reverse",)), quad_labels(r, vocab, (), None)):  # format 1's by default
        for types, strength, rated in ((labels.types_i, labels.strength_i, labels.rated_i), (labels.types_j, labels.strength_j, labels.rated_j)):
            assert types[at("reverse")] == 1 and strength[at("reverse")] == 0 and rated[at("reverse")] == 0
            assert rated[at("low_pass")] == 1 and strength[at("low_pass")] > 0
            np.testing.assert_array_equal(rated, types * (np.arange(len(vocab)) != at("reverse")))
            assert rated.dtype == np.float32
        assert labels.rated_j[at("mp3")] == 1 and labels.rated_i[at("mp3")] == 0
    rated_anyway = quad_labels(r, vocab, (), None, strengthless_types=())  # the label comes from the manifest's list
    assert rated_anyway.strength_i[at("reverse")] == pytest.approx(0.8) and rated_anyway.rated_i[at("reverse")] == 1
    with pytest.raises(ValueError, match="strengthless_types"):
        quad_labels(r, vocab, (), None, strengthless_types=("clean",))
    with pytest.raises(ValueError, match="strengthless_types"):
        QuadrupleStream(shards, vocab, (), None, batch_size=1, strengthless_types=("clean",))


def test_reverse_contributes_nothing_to_ds(shards):
    """Through the real labels and collate: moving the "ds" output for reverse moves neither L_DS nor its gradient."""
    vocab = vocabulary()
    labels = quad_labels(reverse_record(shards), vocab, (), None, strengthless_types=("reverse",))
    batch = Batch(quad=collate([np.zeros((4, 8), np.float32)], [labels]))
    assert torch.equal(batch.quad.rated_i, torch.from_numpy(labels.rated_i)[None])

    class DsOutput:
        """The "ds" head's pre-sigmoid output (4 frames, V types), given directly."""

        def __init__(self, out: torch.Tensor):
            self.out = out

        def head(self, name, z, z_other=None):
            return self.out

    base = torch.linspace(-1.0, 1.0, 4 * len(vocab)).reshape(4, len(vocab))

    def ds(column: str, shift: float) -> tuple[float, torch.Tensor]:
        out = base.clone()
        out[:, vocab.index(column)] += shift
        out.requires_grad_(True)
        value = ds_loss(DsOutput(out), Encoded(quad=torch.zeros(1, 4, 3)), batch)
        (grad,) = torch.autograd.grad(value, out)
        return value.item(), grad

    value, grad = ds("reverse", 0.0)
    assert torch.count_nonzero(grad[:, vocab.index("reverse")]) == 0
    for shift in (-2.0, 3.0):
        moved, moved_grad = ds("reverse", shift)
        assert moved == value and torch.equal(moved_grad, grad)
        for rated in ("low_pass", "mp3"):
            assert ds(rated, shift)[0] != pytest.approx(value, abs=1e-6)


def test_training_refuses_valid_shards_of_another_vocabulary(shard_dir, tmp_path):
    from sesqa.shards.manifest import MANIFEST
    from sesqa.trainer.config import TrainConfig
    from sesqa.trainer.loop import train

    valid = tmp_path / "valid"
    valid.mkdir()
    (valid / MANIFEST).write_text(json.dumps({"degradation_types": ["mp3", "vinyl_crackle"]}))
    config = TrainConfig(out=tmp_path / "run", shards=shard_dir, valid=valid, steps=1, model_preset="tiny", device="cpu", workers=0)
    with pytest.raises(ValueError, match=r"different degradation types \(only in .*: \['ac3'.*only in .*valid: \['vinyl_crackle'\]"):
        train(config, progress=False)


def test_the_model_records_the_manifests_types_without_strength(shard_dir, tmp_path):
    from sesqa.model import load_checkpoint
    from sesqa.trainer.config import TrainConfig
    from sesqa.trainer.loop import train

    config = TrainConfig(out=tmp_path / "run", shards=shard_dir, steps=1, batch_size=2, swa=False, model_preset="tiny", device="cpu", workers=0)
    train(config, progress=False)
    saved = load_checkpoint(tmp_path / "run" / "last.ckpt").config
    assert saved.strengthless_types == read_strengthless([shard_dir]) == ("reverse",) and not saved.has_strength("reverse")


# --- the quadruple stream -------------------------------------------------------------------------


def test_stream_batches_shapes_and_determinism(shards, stats, keys_by_frames):
    assert count_samples(shards) == N_QUADS and shard_sizes(shards) == [4, 4, 4, 4, 2]
    strengthless = read_strengthless([shards[0].parent])  # as the trainer reads it, next to the vocabulary
    assert strengthless == ("reverse",)
    batches = list(make_stream(shards, stats, batch_size=4, strengthless_types=strengthless))
    assert [b.frames.shape[0] for b in batches] == [4, 4, 4, 4, 2]
    b = batches[0]
    assert b.frames.shape == (4, 4, SR) and b.frames.dtype == torch.float32
    for name in ("types_i", "types_j", "strength_i", "strength_j"):
        assert getattr(b, name).shape == (4, 38) and getattr(b, name).dtype == torch.float32
    assert b.metrics.shape == (4, 1) and b.metrics.dtype == torch.float32 and b.metrics_mask.dtype == torch.bool
    assert torch.all(b.types_j[:, 0] == 0)  # x_j is never clean
    reverse = vocabulary().index("reverse")  # the manifest's only type without a strength
    for x in batches:
        for side in "ij":
            types, rated, strength = (getattr(x, f"{n}_{side}") for n in ("types", "rated", "strength"))
            assert rated.shape == types.shape and rated.dtype == torch.float32
            assert torch.all(rated[:, reverse] == 0) and torch.all(strength[:, reverse] == 0)
            keep = torch.arange(types.shape[1]) != reverse
            assert torch.equal(rated[:, keep], types[:, keep])
    keys = keys_of(batches, keys_by_frames)
    assert sorted(keys) == sorted(keys_by_frames.values())  # every quadruple once, frames undamaged

    assert_same_batches(batches, list(make_stream(shards, stats, batch_size=4)))
    assert len(list(make_stream(shards, stats, batch_size=4, drop_last=True))) == 4
    other_epoch = keys_of(make_stream(shards, stats, batch_size=4, epoch=1), keys_by_frames)
    assert sorted(other_epoch) == sorted(keys) and other_epoch != keys
    other_seed = keys_of(make_stream(shards, stats, batch_size=4, seed=8), keys_by_frames)
    assert other_seed != keys


def test_no_shuffle_buffer_keeps_file_order(shards, stats, keys_by_frames):
    keys = keys_of(make_stream(shards, stats, shuffle_buffer=0), keys_by_frames)
    assert keys == [s.record.key for shard in shards for s in read_shard(shard)]
    stream = make_stream(shards, stats, shuffle_buffer=0)
    stream.set_epoch(3)
    assert keys_of(stream, keys_by_frames) == keys  # validation order does not depend on the epoch


def test_ranks_see_disjoint_samples_that_cover_everything(shards, stats, keys_by_frames, monkeypatch):
    per_rank = [keys_of(make_stream(shards, stats, rank=r, world_size=2, epoch=2), keys_by_frames) for r in (0, 1)]
    assert not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == sorted(keys_by_frames.values())
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    stream = QuadrupleStream(shards, vocabulary(), METRICS, stats, batch_size=3, seed=7, shuffle_buffer=8, epoch=2)
    assert stream.node() == (1, 2)
    assert keys_of(stream, keys_by_frames) == per_rank[1]
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="RANK"):
        QuadrupleStream(shards, vocabulary(), METRICS, stats, batch_size=3)


def test_round_robin_share_follows_the_dataloader_order():
    assert round_robin_share(5, [math.inf, math.inf]) == ([3, 2], 1)
    assert round_robin_share(7, [2, 5, 1]) == ([2, 4, 1], 1)  # 0 1 2 | 0 1 | 1 | 1 ; next 1
    assert round_robin_share(5, [2, 5, 3]) == ([2, 2, 1], 2)  # 0 1 2 | 0 1 ; next 2
    assert round_robin_share(4, [2, 0, 3]) == ([2, 0, 2], 2)
    assert round_robin_share(100, [2, 3]) == ([2, 3], 0)
    assert round_robin_share(0, [2, 3]) == ([0, 0], 0)


def test_skip_batches_resumes_the_same_sequence_in_process(shards, stats):
    full = list(make_stream(shards, stats, augment=Augment(), epoch=1))
    assert len(full) == 6
    for b in (1, 4, 6):
        assert_same_batches(list(make_stream(shards, stats, augment=Augment(), epoch=1, skip_batches=b)), full[b:])
    resampled = make_stream(shards, stats, augment=Augment(), resampled=True)
    head = [batch for _, batch in zip(range(9), resampled)]
    tail = [batch for _, batch in zip(range(4), make_stream(shards, stats, augment=Augment(), resampled=True, skip_batches=5))]
    assert_same_batches(tail, head[5:])


def test_dataloader_workers_cover_once_and_resume_exactly(shards, stats, keys_by_frames):
    def run(skip: int) -> list[QuadBatch]:
        stream = make_stream(shards, stats, augment=Augment(), epoch=0, skip_batches=skip)
        return list(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2))

    full = run(0)
    plain = make_stream(shards, stats)
    workers = plain.worker_batches(2)
    assert len(full) == sum(workers) == plain.planned_batches(2)
    assert workers[0] != workers[1]  # uneven: the resume below crosses one worker's end
    unaugmented = list(torch.utils.data.DataLoader(plain, batch_size=None, num_workers=2))
    keys = keys_of(unaugmented, keys_by_frames)
    assert sorted(keys) == sorted(keys_by_frames.values())  # each quadruple once per epoch
    for skip in (1, len(full) - 1):
        assert_same_batches(run(skip), full[skip:])


def test_corrupt_shards_and_samples_are_logged_and_skipped(shards, stats, keys_by_frames, tmp_path, caplog):
    for p in shards:
        shutil.copy(p, tmp_path / p.name)
    truncated = tmp_path / "train-000005.tar"
    truncated.write_bytes(shards[0].read_bytes()[: shards[0].stat().st_size // 3])
    garbage = tmp_path / "train-000006.tar"
    garbage.write_bytes(np.random.default_rng(0).bytes(20_000))
    bad_sample = tmp_path / "train-000007.tar"
    with tarfile.open(shards[4], "r:") as src, tarfile.open(bad_sample, "w") as dst:
        for info in src:
            data = src.extractfile(info).read()
            if info.name.endswith("000000.i.flac"):
                data = b"not flac at all" * 100
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    listed = [tmp_path / p.name for p in shards] + [truncated, garbage, bad_sample, tmp_path / "train-000008.tar"]

    stream = make_stream(listed, stats, shuffle_buffer=0)
    with caplog.at_level(logging.WARNING, logger="sesqa.trainer.quadruples"):
        batches = list(stream)
    keys = keys_of(batches, keys_by_frames)
    assert set(keys) == set(keys_by_frames.values())  # every good quadruple still streams
    text = caplog.text
    for name in ("train-000005.tar", "train-000006.tar", "train-000008.tar"):
        assert name in text
    assert "train-000007.tar" in text and "train-000004-000000" in text
    assert stream.skipped_samples >= 1
    assert {Path(s).name for s in stream.bad_shards} >= {"train-000005.tar", "train-000006.tar", "train-000008.tar"}


def test_augmentation_is_one_factor_per_quadruple(shards, stats):
    plain = list(make_stream(shards, stats, shuffle_buffer=0))
    augmented = list(make_stream(shards, stats, shuffle_buffer=0, augment=Augment()))
    factors = []
    for p, a in zip(plain, augmented):
        assert torch.equal(p.types_j, a.types_j) and torch.equal(p.metrics, a.metrics)
        for quad_p, quad_a in zip(p.frames.numpy().astype(np.float64), a.frames.numpy().astype(np.float64)):
            ratios = [float(np.dot(fa, fp) / np.dot(fp, fp)) for fp, fa in zip(quad_p, quad_a)]
            assert max(ratios) - min(ratios) < 1e-5 * abs(ratios[0])  # the same gain and polarity on all four
            np.testing.assert_allclose(quad_a, ratios[0] * quad_p, atol=1e-6)
            factors.append(ratios[0])
    gains_db = 20 * np.log10(np.abs(factors))
    assert np.all(gains_db > -12 - 1e-3) and np.all(gains_db < 6 + 1e-3)
    assert len(set(np.round(factors, 6))) == len(factors)  # a fresh draw per quadruple
    assert any(f < 0 for f in factors) and any(f > 0 for f in factors)


def test_augment_config_validation_and_flags():
    with pytest.raises(ValueError, match="gain_db"):
        Augment(gain_db=(6.0, -6.0))
    with pytest.raises(ValueError, match="invert_p"):
        Augment(invert_p=1.5)
    x = np.ones((2, 10), np.float32)
    assert np.array_equal(augment_group(x, None, np.random.default_rng(0)), x)
    assert augment_group(x, Augment(scale=False, invert_p=1.0), np.random.default_rng(0))[0, 0] == -1.0
    # switching scaling off keeps the polarity draws of the same seed
    signs = [np.sign(draw_factor(Augment(), np.random.default_rng(s))) for s in range(20)]
    assert signs == [np.sign(draw_factor(Augment(scale=False), np.random.default_rng(s))) for s in range(20)]


# --- MOS and JND lists ----------------------------------------------------------------------------


# Reading MOS and JND lists (`sesqa.labels.read_mos`, `read_jnd`) is tested in test_labels.py.


def test_split_holdout_is_seeded_and_disjoint():
    items = list(range(20))
    kept, held = split_holdout(items, fraction=0.1)
    assert len(held) == 2 and sorted(kept + held) == items
    assert split_holdout(items, fraction=0.1) == (kept, held)
    with pytest.raises(ValueError, match="fraction"):
        split_holdout(items, fraction=1.0)


# --- MOS and JND streams --------------------------------------------------------------------------


def locate(crop: np.ndarray, files: dict[str, np.ndarray]) -> tuple[str, int]:
    """(file name, start sample) of a crop taken from one of `files`, zero padding allowed."""
    for name, x in files.items():
        for start in np.flatnonzero(x == crop[0]):
            n = min(len(crop), len(x) - start)
            if np.array_equal(x[start : start + n], crop[:n]) and not np.any(crop[n:]):
                return name, int(start)
    raise AssertionError("crop not found in any file")


@pytest.fixture
def mos_files(tmp_path) -> tuple[list[MosItem], dict[str, np.ndarray]]:
    signals = {"long.wav": ramp(0.1, 2.0), "mid.wav": ramp(0.2, 1.5), "short.wav": ramp(0.3, 0.5)}
    items = [MosItem(write(tmp_path / name, x), mos) for (name, x), mos in zip(signals.items(), (4.5, 3.0, 1.5))]
    return items, signals


def test_mos_stream_crops_reuse_and_determinism(mos_files):
    items, signals = mos_files
    mos_of = {i.path.name: i.mos for i in items}
    stream = MosStream(items, batch_size=2, seed=5)
    batches = [next(stream) for _ in range(6)]  # 12 crops: four passes over three items
    seen: dict[str, list[int]] = {}
    for b in batches:
        assert b.frames.shape == (2, SR) and b.frames.dtype == torch.float32 and b.mos.shape == (2,)
        for crop, mos in zip(b.frames.numpy(), b.mos.numpy()):
            name, start = locate(crop, signals)
            assert mos == pytest.approx(mos_of[name])
            seen.setdefault(name, []).append(start)
    assert {k: len(v) for k, v in seen.items()} == {"long.wav": 4, "mid.wav": 4, "short.wav": 4}
    assert seen["short.wav"] == [0] * 4  # shorter than 1 s: whole file, zero-padded at the end
    assert len(set(seen["long.wav"])) > 1 and max(seen["long.wav"]) <= len(signals["long.wav"]) - SR

    again = MosStream(items, batch_size=2, seed=5)
    for b in batches:
        c = next(again)
        assert torch.equal(b.frames, c.frames) and torch.equal(b.mos, c.mos)
    resumed = MosStream(items, batch_size=2, seed=5)
    first = MosStream(items, batch_size=2, seed=5)
    next(first), next(first)
    resumed.restore(first.state())
    skipped = MosStream(items, batch_size=2, seed=5)
    skipped.skip(2)
    for b in batches[2:]:
        assert torch.equal(next(resumed).frames, b.frames) and torch.equal(next(skipped).frames, b.frames)
    assert not torch.equal(next(MosStream(items, batch_size=2, seed=6)).frames, batches[0].frames)
    with pytest.raises(ValueError, match="seed"):
        MosStream(items, batch_size=2, seed=9).restore(first.state())


def test_unreadable_file_mid_stream_is_dropped(mos_files, tmp_path, caplog):
    items, _ = mos_files
    stream = MosStream(items, batch_size=3, seed=1, augment=Augment())
    next(stream)
    items[1].path.write_bytes(b"this is no longer audio")
    with caplog.at_level(logging.WARNING, logger="sesqa.trainer.labelled"):
        batches = [next(stream) for _ in range(4)]
    assert stream.dropped == [items[1]]
    assert len([r for r in caplog.records if "mid.wav" in r.getMessage()]) == 1  # logged once
    assert all(set(b.mos.tolist()) <= {4.5, 1.5} for b in batches)
    state = stream.state()
    assert state["dropped"] == [1]
    for item in items:
        item.path.unlink()
    with pytest.raises(ValueError, match="failed to read"):
        for _ in range(3):
            next(stream)


def test_jnd_stream_pairs_share_offset_and_augmentation(tmp_path):
    x = ramp(0.1, 2.0)
    pairs = [
        JndItem(write(tmp_path / "a.wav", x), write(tmp_path / "a_copy.wav", x), 0),
        JndItem(write(tmp_path / "b.wav", ramp(0.2, 2.0)), write(tmp_path / "c.wav", ramp(0.3, 2.0)), 1),
    ]
    stream = JndStream(pairs, batch_size=2, seed=3, augment=Augment())
    labels = []
    for _ in range(3):
        b = next(stream)
        assert b.frames.shape == (2, 2, SR) and b.frames.dtype == torch.float32
        for (fa, fb), label in zip(b.frames.numpy(), b.label.tolist()):
            labels.append(label)
            if label == 0:  # identical files: the same crop and the same gain and polarity
                np.testing.assert_array_equal(fa, fb)
                assert not np.array_equal(np.abs(fa), x[: SR])  # augmented (a fresh gain, 0 dB has no chance)
            else:  # same offset: the ramps differ by a constant, scaled by the shared factor
                diff = fb.astype(np.float64) - fa
                assert np.ptp(diff) < 1e-5 and abs(diff[0]) > 0.01
    assert sorted(labels) == [0, 0, 0, 1, 1, 1]
    plain = JndStream(pairs, batch_size=1, seed=3)
    for _ in range(4):
        fa, fb = next(plain).frames.numpy()[0]
        _, start = locate(fa, {"x": x}) if fa[0] < 0.2 else locate(fa, {"b": ramp(0.2, 2.0)})
        assert locate(fb, {"x": x, "c": ramp(0.3, 2.0)})[1] == start
