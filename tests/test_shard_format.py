"""The shard format as a contract: shards written before the record became plain data still read,
the vocabulary travels in the manifest, and reading a shard needs no generator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sesqa.cli import app
from sesqa.generator.degradations import AppliedDegradation
from sesqa.generator.degradations.pools import pool_members
from sesqa.shards import read_records, read_shard
from sesqa.shards.check import check
from sesqa.shards.manifest import (
    DEGRADATION_TYPES,
    FORMAT_1_DEGRADATION_TYPES,
    FORMAT_1_STRENGTHLESS_TYPES,
    MANIFEST,
    STRENGTHLESS_TYPES,
    read_degradation_types,
    read_strengthless,
    read_vocabulary,
    strengthless_types_of,
)
from sesqa.shards.schema import DegradationStep, QuadrupleRecord
from sesqa.shards.stats import read_stats
from sesqa.trainer.quad_labels import quad_labels, vocabulary

FIXTURE = Path(__file__).parent / "fixtures" / "shards-v1"
"""Three one-quadruple shards (train, valid, test) with pesq, stoi and si_sdr, written by sesqa 0.1.0
before the record held plain data; its manifest has no `degradation_types`."""
SPLITS = ("test", "train", "valid")


def test_format_1_types_are_the_paper_pool_in_registry_order():
    assert FORMAT_1_DEGRADATION_TYPES == pool_members("paper")


def test_format_1_shards_still_read():
    shards = sorted(FIXTURE.glob("*.tar"))
    assert [p.name.split("-")[0] for p in shards] == list(SPLITS)
    stats = read_stats(FIXTURE)
    assert set(stats.names) == {"pesq", "stoi", "si_sdr"} and stats.moments("pesq").count == 1
    assert "degradation_types" not in json.loads((FIXTURE / MANIFEST).read_text())
    vocab = vocabulary(read_vocabulary([FIXTURE]))
    assert vocab == ("clean", *FORMAT_1_DEGRADATION_TYPES)
    for shard, split in zip(shards, SPLITS):
        samples = list(read_shard(shard))
        assert len(samples) == 1 and [r.key for r in read_records(shard)] == [samples[0].record.key]
        record = samples[0].record
        assert record.split == split and record.sample_rate == 48_000 and record.frame_samples == 48_000
        assert all(isinstance(s, DegradationStep) and isinstance(s.params, dict) for s in (*record.chain_i, *record.chain_j))
        for x in (samples[0].x_i, samples[0].x_j):
            assert x.dtype == np.float32 and x.shape == (record.frame_samples + record.delay_samples,)
            assert 0 < np.max(np.abs(x)) <= max(record.gain_i, record.gain_j)
        assert all(f.shape == (48_000,) for f in samples[0].frames())
        labels = quad_labels(record, vocab, stats.names, stats)
        assert labels.types_j.sum() >= 1 and labels.metrics_mask.all()
        for step in (*record.chain_i, *record.chain_j):  # the generator rebuilds typed params from them
            replay = AppliedDegradation.from_step(step)
            assert replay.type == step.type and replay.to_step() == step


def test_records_round_trip_byte_for_byte():
    """Writing a read record gives the JSON the old code wrote: the format did not move."""
    for shard in sorted(FIXTURE.glob("*.tar")):
        with tarfile.open(shard) as tar:
            for info in tar:
                if info.name.endswith(".json"):
                    text = tar.extractfile(info).read().decode()
                    record = QuadrupleRecord.from_json(json.loads(text))
                    assert json.dumps(record.to_json(), sort_keys=True, allow_nan=False) == text


def test_shards_check_passes_on_format_1():
    result = CliRunner().invoke(app, ["shards", "check", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "quadruples: test 1, train 1, valid 1" in result.output and "OK" in result.output
    assert result.output.index("pesq") < result.output.index("stoi") < result.output.index("si_sdr")  # the manifest's order


def test_check_flags_types_outside_the_manifest(tmp_path):
    copy = tmp_path / "shards"
    shutil.copytree(FIXTURE, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    used = {s.type for p in copy.glob("*.tar") for r in read_records(p) for s in (*r.chain_i, *r.chain_j)}
    victim = sorted(used)[0]
    manifest[DEGRADATION_TYPES] = [t for t in FORMAT_1_DEGRADATION_TYPES if t != victim]
    (copy / MANIFEST).write_text(json.dumps(manifest))
    report = check(copy, progress=False)
    assert not report.ok and any(f"unknown degradation {victim!r}" in e for e in report.errors)


def test_check_flags_a_bad_strengthless_key(tmp_path):
    copy = tmp_path / "shards"
    shutil.copytree(FIXTURE, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    assert check(copy, progress=False).ok
    manifest[STRENGTHLESS_TYPES] = ["reverse", "no_such_effect"]
    (copy / MANIFEST).write_text(json.dumps(manifest))
    report = check(copy, progress=False)
    assert not report.ok and any(STRENGTHLESS_TYPES in e and "no_such_effect" in e for e in report.errors)


def test_vocabulary_from_manifests_must_agree(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    for d, types in ((a, ["mp3", "opus"]), (b, ["mp3", "opus"]), (c, ["opus", "mp3"])):
        d.mkdir()
        (d / MANIFEST).write_text(json.dumps({DEGRADATION_TYPES: types}))
    assert read_vocabulary([a, b, a]) == ("mp3", "opus")
    with pytest.raises(ValueError, match="different degradation types.*other order"):
        read_vocabulary([a, c])
    with pytest.raises(ValueError, match=r"only in .*shards-v1: \['ac3', 'additive_noise'"):
        read_vocabulary([a, FIXTURE])
    (c / MANIFEST).write_text(json.dumps({DEGRADATION_TYPES: ["mp3", "mp3"]}))
    with pytest.raises(ValueError, match="twice"):
        read_degradation_types(c)
    (c / MANIFEST).write_text(json.dumps({DEGRADATION_TYPES: "mp3"}))
    with pytest.raises(ValueError, match="list of non-empty strings"):
        read_degradation_types(c)
    assert read_degradation_types(tmp_path) == FORMAT_1_DEGRADATION_TYPES  # no manifest: format 1


def test_types_without_strength_come_from_the_manifest_or_format_1(tmp_path):
    assert STRENGTHLESS_TYPES not in json.loads((FIXTURE / MANIFEST).read_text())
    assert read_strengthless([FIXTURE]) == FORMAT_1_STRENGTHLESS_TYPES == ("reverse",)  # predates the key
    assert strengthless_types_of(None) == ("reverse",)  # no manifest at all: format 1
    a, b, c = (tmp_path / n for n in "abc")
    for d, manifest in (
        (a, {DEGRADATION_TYPES: ["mp3", "opus"]}),  # no key, no reverse among its types: none
        (b, {DEGRADATION_TYPES: ["mp3", "reverse"], STRENGTHLESS_TYPES: []}),  # the key wins over format 1
        (c, {DEGRADATION_TYPES: ["reverse", "mp3"]}),
    ):
        d.mkdir()
        (d / MANIFEST).write_text(json.dumps(manifest))
    assert read_strengthless([a]) == () and read_strengthless([b]) == () and read_strengthless([c]) == ("reverse",)
    assert strengthless_types_of({DEGRADATION_TYPES: ["reverse", "mp3", "opus"], STRENGTHLESS_TYPES: ["opus", "reverse"]}) == ("reverse", "opus")
    for bad, match in ((["vinyl_crackle"], "not among"), ("reverse", "list of non-empty strings"), (["mp3", "mp3"], "twice")):
        with pytest.raises(ValueError, match=match):
            strengthless_types_of({DEGRADATION_TYPES: ["mp3"], STRENGTHLESS_TYPES: bad}, "x/manifest.json")
    (b / MANIFEST).write_text(json.dumps({DEGRADATION_TYPES: ["reverse", "mp3"], STRENGTHLESS_TYPES: []}))
    with pytest.raises(ValueError, match="different types without a strength"):
        read_strengthless([b, c])


def test_steps_are_validated_as_plain_data_and_typed_only_on_replay():
    with pytest.raises(ValueError, match="strength"):
        DegradationStep("mp3", 1.5, {})
    with pytest.raises(ValueError, match="non-empty string"):
        DegradationStep("", 0.5, {})
    with pytest.raises(ValueError, match="params"):
        DegradationStep("mp3", 0.5, [])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown degradation 'vinyl_crackle'"):
        AppliedDegradation.from_step(DegradationStep("vinyl_crackle", 0.5, {}))
    with pytest.raises(ValueError, match="do not fit mp3"):
        AppliedDegradation.from_step(DegradationStep("mp3", 0.5, {"bogus": 1}))


def test_reading_a_shard_imports_no_generator_codec_or_torch():
    code = (
        "import sys\n"
        "from sesqa.shards.reader import read_shard\n"
        "from sesqa.shards.check import check\n"
        "from sesqa.shards.manifest import read_vocabulary\n"
        f"d = {str(FIXTURE)!r}\n"
        "import pathlib\n"
        "assert sum(len(list(read_shard(p))) for p in sorted(pathlib.Path(d).glob('*.tar'))) == 3\n"
        "assert check(d, progress=False).ok and len(read_vocabulary([d])) == 37\n"
        "heavy = [m for m in ('pedalboard', 'av', 'torch', 'webdataset', 'sesqa.generator') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
