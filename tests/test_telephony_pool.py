"""Degradation pools (paper, telephony, all), the telephone channel and call chains (issue 15)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import correlate

from sesqa.generator.degradations import REGISTRY, AppliedDegradation, pools
from sesqa.generator.degradations.pools import ALL_SHARES, pool_members, pool_weights
from sesqa.generator.degradations.telephony.call_chain import CODECS, STAGES, TRANSPORT, CallChain, codec_band
from sesqa.generator.degradations.telephony.telephone_channel import TelephoneChannel
from sesqa.generator.quadruple import DegradationPool
from sesqa.generator.run import GenerateConfig, generate
from sesqa.shards import read_shard
from sesqa.shards.manifest import read_manifest

from .helpers import SR, run_cli

FIXTURES = Path(__file__).parent / "fixtures"
PATTERN = r"clean/(spk\d)/"


def test_the_paper_pool_is_the_papers_37_and_telephony_holds_at_least_10():
    paper, telephony, everything = pool_members("paper"), pool_members("telephony"), pool_members("all")
    assert len(paper) == 37
    assert sum(REGISTRY[n].weight for n in paper) == pytest.approx(0.972, abs=1e-9)
    assert len(telephony) >= 10 and not set(paper) & set(telephony)
    assert everything == paper + telephony, "registry order: the paper's first, so their label indices stay"
    assert sum(REGISTRY[n].weight for n in telephony) == pytest.approx(1.0, abs=1e-9)


def test_all_gives_each_pool_its_share_and_keeps_weights_within_a_pool():
    weights = pool_weights("all")
    total = sum(weights.values())
    for pool, share in ALL_SHARES.items():
        got = sum(w for n, w in weights.items() if REGISTRY[n].pool == pool) / total
        assert got == pytest.approx(share, abs=1e-12), pool
    assert weights["mp3"] / weights["opus"] == pytest.approx(REGISTRY["mp3"].weight / REGISTRY["opus"].weight)
    assert pool_weights("paper") == {n: REGISTRY[n].weight for n in sorted(pool_members("paper"))}
    with pytest.raises(ValueError, match=r"pool must be one of paper, telephony, all, got 'phone'"):
        pool_members("phone")


def test_draws_follow_the_pool():
    rng = np.random.default_rng(0)
    pool = DegradationPool.from_registry("telephony")
    drawn = {pool.draw(rng) for _ in range(2000)}
    assert drawn == set(pool_members("telephony"))


def test_the_paper_pool_draws_exactly_what_it_drew_before_pools_existed(tmp_path, small_corpus):
    """The chains, strengths and delays of a seeded paper-pool run, against those the code before
    the telephony pool drew (tests/fixtures/paper_pool_draws.json, written by that code)."""
    clean, noise = small_corpus
    config = GenerateConfig(out=tmp_path, n=24, seed=3, shard_size=5, clean=(clean,), noise=(noise,),
                            speaker_pattern=PATTERN, workers=1, metrics=())  # fmt: skip
    generate(config, progress=False)
    drawn = {}
    for shard in sorted(tmp_path.glob("*.tar")):
        for sample in read_shard(shard):
            r = sample.record
            drawn[r.key] = {
                "delay_samples": r.delay_samples,
                "chain_i": [[s.type, round(s.strength, 12)] for s in r.chain_i],
                "chain_j": [[s.type, round(s.strength, 12)] for s in r.chain_j],
            }
    assert drawn == json.loads((FIXTURES / "paper_pool_draws.json").read_text())
    manifest = read_manifest(tmp_path)
    assert manifest["pool"] == "paper" and manifest["degradation_types"] == [*pool_members("paper"), "band_limit"]


def test_a_telephony_run_records_its_pool_and_vocabulary_and_refuses_another_pool(tmp_path, small_corpus):
    clean, noise = small_corpus
    config = GenerateConfig(out=tmp_path, n=8, seed=1, shard_size=4, clean=(clean,), noise=(noise,),
                            speaker_pattern=PATTERN, workers=1, metrics=(), pool="telephony")  # fmt: skip
    generate(config, progress=False)
    manifest = read_manifest(tmp_path)
    assert manifest["pool"] == "telephony" and manifest["degradation_types"] == [*pool_members("telephony"), "band_limit"]
    records = [sample.record for shard in tmp_path.glob("*.tar") for sample in read_shard(shard)]
    types = {s.type for r in records for s in r.chain_i + r.chain_j}
    assert types and types <= set(pool_members("telephony"))
    with pytest.raises(ValueError, match="other settings"):
        generate(replace(config, pool="all"), progress=False)


def test_degradations_lists_a_pool_and_says_which_encoder_is_missing(monkeypatch, tmp_path):
    listed = json.loads(run_cli("degradations", "--pool", "telephony", "--json").output)
    assert [r["name"] for r in listed] == list(pool_members("telephony"))
    assert all(r["pool"] == "telephony" and r["missing_encoders"] == [] for r in listed)
    assert sum(r["probability"] for r in listed) == pytest.approx(1.0)
    default = json.loads(run_cli("degradations", "--json").output)
    assert len(default) == 37 and {r["name"] for r in default} == set(pool_members("paper"))

    monkeypatch.setattr(pools, "encoder_available", lambda name: name != "libopencore_amrnb")
    result = run_cli("degradations", "--pool", "telephony")
    assert result.exit_code == 1
    assert "cannot run the telephony pool: amr_nb needs libopencore_amrnb" in result.output
    assert run_cli("degradations").exit_code == 0, "the paper pool does not need AMR"
    result = run_cli("generate", "--out", tmp_path / "unused", "--n", "7", "--pool", "all")
    assert result.exit_code == 2 and "amr_nb needs libopencore_amrnb" in result.output
    assert not (tmp_path / "unused").exists(), "refused before anything is written"


def sine(freq_hz: float, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * freq_hz * np.arange(int(seconds * SR)) / SR).astype(np.float32)


def gain_db(params: TelephoneChannel.Params, freq_hz: float) -> float:
    x = sine(freq_hz)
    y = TelephoneChannel.apply(x, SR, params)
    middle = slice(SR // 4, -SR // 4)
    return float(20 * np.log10(np.std(y[middle]) / np.std(x[middle])))


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_the_channel_is_minus_3_db_at_both_edges_and_flat_between(strength):
    params = TelephoneChannel.sample_params(np.random.default_rng(2), strength, None)
    assert gain_db(params, params.low_cutoff_hz) == pytest.approx(-3.01, abs=0.1)
    assert gain_db(params, params.high_cutoff_hz) == pytest.approx(-3.01, abs=0.1)
    assert abs(gain_db(params, 1000.0)) < 0.05


def test_the_narrowband_channel_removes_everything_above_4_khz_and_stays_aligned(speech):
    params = TelephoneChannel.for_band("narrowband", np.random.default_rng(0))
    assert (params.low_cutoff_hz, params.high_cutoff_hz, params.channel_sr_hz) == (300.0, 3400.0, 8000)
    white = (0.3 * np.random.default_rng(1).standard_normal(SR)).astype(np.float32)  # 92 % of it above 4 kHz
    spectrum = np.abs(np.fft.rfft(TelephoneChannel.apply(white, SR, params).astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(white), 1 / SR)
    assert 10 * np.log10(spectrum[freqs > 4000].sum() / spectrum.sum()) < -40
    y = TelephoneChannel.apply(speech, SR, params)
    c = correlate(y.astype(np.float64), speech.astype(np.float64), mode="full", method="fft")
    assert int(np.argmax(c)) - (len(speech) - 1) == 0


def test_channel_params_are_validated():
    with pytest.raises(ValueError, match=r"high_cutoff_hz must be in \[3400.0, 7000.0\], got 9000.0"):
        TelephoneChannel.Params(9000.0, 50.0, 16000, 4)
    with pytest.raises(ValueError, match="high_cutoff_hz must be below 3920 Hz for channel_sr_hz 8000"):
        TelephoneChannel.Params(5000.0, 50.0, 8000, 4)


def test_call_chains_run_their_parts_in_a_calls_order_with_a_matching_band(speech):
    shapes = set()
    for seed in range(60):
        params = CallChain.sample_params(np.random.default_rng(seed), 0.6, None)
        steps = [AppliedDegradation.from_dict(p) for p in params.parts]
        kinds = [next(i for i, stage in enumerate(STAGES) if s.type in stage) for s in steps]
        assert kinds == sorted(kinds) and 1 in kinds and 2 <= len(steps) <= 3
        assert all(s.strength == 0.6 for s in steps)
        shapes.add(tuple(kinds))
        codec = next(s for s in steps if s.type in CODECS)
        if steps[0].type == "telephone_channel":
            expected = (300.0, 3400.0) if codec_band(codec) == "narrowband" else (50.0, 7000.0)
            assert (steps[0].params.low_cutoff_hz, steps[0].params.high_cutoff_hz) == expected
    assert shapes == {(0, 1), (1, 2), (0, 1, 2)}

    params = CallChain.sample_params(np.random.default_rng(5), 0.8, None)
    by_hand = speech
    for part in params.parts:
        by_hand = AppliedDegradation.from_dict(part).apply(by_hand, SR)
    np.testing.assert_array_equal(CallChain.apply(speech, SR, params), by_hand)


def test_call_chain_params_are_validated():
    rng = np.random.default_rng(0)
    codec = AppliedDegradation("g711", 0.5, REGISTRY["g711"].sample_params(rng, 0.5, None)).to_dict()
    loss = AppliedDegradation(TRANSPORT[0], 0.5, REGISTRY[TRANSPORT[0]].sample_params(rng, 0.5, None)).to_dict()
    CallChain.Params(0.5, (codec, loss))
    with pytest.raises(ValueError, match="parts must hold 2 or 3 steps, got 1"):
        CallChain.Params(0.5, (codec,))
    with pytest.raises(ValueError, match="parts must be one codec"):
        CallChain.Params(0.5, (loss, codec))
    with pytest.raises(ValueError, match="'mp3' is not a telephony channel, codec or transport impairment"):
        CallChain.Params(0.5, (codec, {"type": "mp3", "strength": 0.5, "params": {}}))


def test_init_from_another_vocabulary_keeps_the_rows_of_the_types_both_know(tmp_path):
    """A model trained on the paper pool continued on `--pool all`: the type heads' output rows of
    the 37 come along by name, only the new types' rows start fresh."""
    import torch

    from sesqa.model import SesqaModel
    from sesqa.trainer.loop import _load_fitting

    from .helpers import tiny_config

    old_types = ("clean", "mp3", "opus", "hum")
    new_types = ("clean", "hum", "g711", "mp3", "amr_nb")
    torch.manual_seed(0)
    source = SesqaModel(tiny_config(degradation_types=old_types))
    model = SesqaModel(tiny_config(degradation_types=new_types))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _load_fitting(model, source.state_dict(), tmp_path / "source.ckpt", old_types)
    after, src = model.state_dict(), source.state_dict()
    remapped = [k for k in after if k in src and src[k].shape != after[k].shape]
    assert remapped, "the type heads' outputs differ in size"
    for k in remapped:
        for i, name in enumerate(new_types):
            expected = src[k][old_types.index(name)] if name in old_types else before[k][i]
            torch.testing.assert_close(after[k][i], expected, msg=f"{k} row {name}")
    same = [k for k in after if k in src and src[k].shape == after[k].shape]
    assert all(torch.equal(after[k], src[k]) for k in same)
