"""`--balance`: flattening a pool's degradation weights toward drawing every type equally."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from sesqa.generator.degradations.pools import pool_members, pool_weights
from sesqa.generator.quadruple import DegradationPool
from sesqa.generator.run import GenerateConfig, generate
from sesqa.shards.manifest import read_manifest

from .helpers import run_cli

PATTERN = r"clean/(spk\d)/"


@pytest.mark.parametrize("pool", ["paper", "telephony", "all"])
def test_balance_0_keeps_the_pools_weights_and_1_makes_them_equal(pool):
    plain = pool_weights(pool)
    assert pool_weights(pool, 0.0) == plain
    assert set(pool_weights(pool, 1.0).values()) == {1.0}
    half = pool_weights(pool, 0.5)
    assert half == pytest.approx({n: math.sqrt(w) for n, w in plain.items()})
    ordered = sorted(plain, key=plain.get)
    assert sorted(half, key=half.get) == ordered, "flattening keeps the order of the weights"


def test_a_balanced_pool_draws_rare_types_as_often_as_common_ones():
    rng = np.random.default_rng(0)
    plain, flat = DegradationPool.from_registry("paper"), DegradationPool.from_registry("paper", 1.0)
    assert flat.probabilities == pytest.approx(np.full(37, 1 / 37))
    counts = Counter(flat.draw(rng) for _ in range(37_000))
    assert set(counts) == set(pool_members("paper"))
    assert counts["clipping"] / counts["additive_noise"] == pytest.approx(1.0, abs=0.15)
    p = dict(zip(plain.names, plain.probabilities))
    assert p["additive_noise"] / p["clipping"] > 20, "without balance, additive noise is drawn far more often"


@pytest.mark.parametrize("balance", [-0.1, 1.5, float("nan")])
def test_balance_out_of_range_is_refused_naming_the_range(tmp_path, balance):
    with pytest.raises(ValueError, match=r"balance must be between 0 \(the pool's weights\) and 1 \(every type equally\), got"):
        GenerateConfig(out=tmp_path, balance=balance)
    with pytest.raises(ValueError, match="balance must be between"):
        pool_weights("paper", balance)


def test_a_balanced_run_records_its_weights_and_a_rerun_with_another_balance_is_refused(tmp_path, small_corpus):
    clean, noise = small_corpus
    config = GenerateConfig(out=tmp_path, n=8, seed=1, shard_size=4, clean=(clean,), noise=(noise,),
                            speaker_pattern=PATTERN, workers=1, metrics=(), pool="telephony", balance=1.0)  # fmt: skip
    generate(config, progress=False)
    manifest = read_manifest(tmp_path)
    assert manifest["balance"] == 1.0
    assert manifest["degradations"] == {n: 1.0 for n in sorted(pool_members("telephony"))}
    with pytest.raises(ValueError, match="other settings"):
        generate(replace(config, balance=0.5), progress=False)


def test_degradations_and_generate_take_balance_on_the_command_line(tmp_path):
    rows = json.loads(run_cli("degradations", "--pool", "all", "--balance", "1", "--json").output)
    assert {round(r["probability"], 12) for r in rows} == {round(1 / len(rows), 12)}
    assert {r["name"]: r["weight"] for r in rows} == {
        r["name"]: r["weight"] for r in json.loads(run_cli("degradations", "--pool", "all", "--json").output)
    }, "the weight column stays each type's own; only the draw probability is flattened"
    result = run_cli("generate", "--out", tmp_path / "unused", "--n", "7", "--balance", "2")
    assert result.exit_code == 2 and "balance must be between 0" in result.output and "got 2.0" in result.output
    assert not (tmp_path / "unused").exists()
