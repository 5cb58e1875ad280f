"""The shard format: lossless-enough round trip, validation of bad records, `sesqa shards check`."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sesqa.cli import app
from sesqa.generator.degradations import AppliedDegradation
from sesqa.generator.degradations.pools import pool_members
from sesqa.generator.run import GenerateConfig, generate
from sesqa.shards import ShardError, read_shard
from sesqa.shards.codec import decode_flac, encode_flac, gain_for
from sesqa.shards.check import check
from sesqa.shards.manifest import MANIFEST, STRENGTHLESS_TYPES, read_strengthless, read_vocabulary
from sesqa.shards.reader import decode_sample

from .helpers import SR


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory, small_corpus) -> Path:
    clean, noise = small_corpus
    out = tmp_path_factory.mktemp("shards")
    generate(GenerateConfig(out=out, n=12, seed=1, shard_size=6, clean=(clean,), noise=(noise,),
                            speaker_pattern=r"clean/(spk\d)/", workers=1), progress=False)
    return out


def members(shard: Path) -> dict[str, dict[str, bytes]]:
    out: dict[str, dict[str, bytes]] = {}
    with tarfile.open(shard) as tar:
        for info in tar:
            key, _, ext = info.name.partition(".")
            out.setdefault(key, {})[ext] = tar.extractfile(info).read()
    return out


def test_flac_round_trip_keeps_levels_above_full_scale():
    x = (3.0 * np.sin(np.linspace(0, 200, SR))).astype(np.float32)
    gain = gain_for(x)
    y, sr = decode_flac(encode_flac(x, SR, gain), gain)
    assert sr == SR and y.dtype == np.float32
    assert np.max(np.abs(y - x)) <= gain / 32767


def test_records_validate_and_name_the_problem(shard_dir):
    shard = sorted(shard_dir.glob("train-*.tar"))[0]
    key, sample = next(iter(members(shard).items()))
    assert decode_sample("s.tar", key, sample).record.key == key

    record = json.loads(sample["json"])
    cases = {
        "schema": {**record, "schema": "sesqa.quadruple/0"},
        "delay_samples": {**record, "delay_samples": 99_999},
        "strength": {**record, "chain_j": [{"type": "mp3", "strength": 1.5, "params": {}}]},
        "lacks": {**record, "chain_j": [{"type": "mp3", "strength": 0.5}]},
        "missing field 'seed'": {k: v for k, v in record.items() if k != "seed"},
    }
    for expected, bad in cases.items():
        with pytest.raises(ShardError, match=expected):
            decode_sample("s.tar", key, {**sample, "json": json.dumps(bad).encode()})
    # A step is plain data: an unknown type reads, and the generator refuses it when it replays it
    # (`shards check` flags it against the manifest: test_shard_format.py).
    unknown = {**record, "chain_j": [{"type": "vinyl_crackle", "strength": 0.5, "params": {}}]}
    step = decode_sample("s.tar", key, {**sample, "json": json.dumps(unknown).encode()}).record.chain_j[0]
    with pytest.raises(ValueError, match="unknown degradation"):
        AppliedDegradation.from_step(step)
    with pytest.raises(ShardError, match="lacks"):
        decode_sample("s.tar", key, {k: v for k, v in sample.items() if k != "j.flac"})
    with pytest.raises(ShardError, match="not valid FLAC"):
        decode_sample("s.tar", key, {**sample, "i.flac": b"garbage"})
    short = encode_flac(np.zeros(100, np.float32), SR, 1.0)
    with pytest.raises(ShardError, match="expected"):
        decode_sample("s.tar", key, {**sample, "i.flac": short})


def test_check_passes_on_good_shards_and_fails_on_corrupt_ones(shard_dir, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["shards", "check", str(shard_dir)])
    assert ok.exit_code == 0, ok.output
    assert "quadruples: test" in ok.output and "OK" in ok.output
    assert "additive_noise" in ok.output or "reverse" in ok.output
    assert read_vocabulary([shard_dir]) == (*pool_members("paper"), "band_limit")  # the manifest carries the vocabulary
    assert json.loads((shard_dir / MANIFEST).read_text())[STRENGTHLESS_TYPES] == ["reverse"]  # and the types without a strength
    assert read_strengthless([shard_dir]) == ("reverse",)

    broken = tmp_path / "broken"
    broken.mkdir()
    for p in shard_dir.iterdir():
        (broken / p.name).write_bytes(p.read_bytes())
    victim = sorted(broken.glob("train-*.tar"))[0]
    victim.write_bytes(victim.read_bytes()[:5000])
    (broken / "valid-000000.tar").unlink()
    bad = runner.invoke(app, ["shards", "check", str(broken)])
    assert bad.exit_code == 1
    assert victim.name in bad.output and "FAILED" in bad.output
    assert "valid: 1 of 1 shards missing" in bad.output


def test_reader_never_unpickles(shard_dir, tmp_path):
    shard = tmp_path / "pickle.tar"
    with tarfile.open(shard, "w") as tar:
        data = b"\x80\x04\x95..."
        info = tarfile.TarInfo("k.pyd")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ShardError, match="lacks"):
        list(read_shard(shard))


def write_members(shard: Path, samples: dict[str, dict[str, bytes]]) -> None:
    """Write `samples` (key -> extension -> bytes) as a plain tar shard."""
    with tarfile.open(shard, "w") as tar:
        for key, parts in samples.items():
            for ext, data in parts.items():
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def copy_dir(source: Path, target: Path) -> Path:
    target.mkdir()
    for p in source.iterdir():
        (target / p.name).write_bytes(p.read_bytes())
    return target


def test_check_reports_every_bad_sample_and_counts_the_rest(shard_dir, tmp_path):
    """Bad samples in the middle of a shard are each named (up to a limit, then counted), the
    samples after them still count, and a record's seed must be the manifest's."""
    broken = copy_dir(shard_dir, tmp_path / "broken")
    shard = broken / "train-000000.tar"
    samples = members(shard)
    keys = list(samples)
    assert len(keys) == 6
    samples[keys[1]]["i.flac"] = b"garbage"
    samples[keys[2]]["json"] = json.dumps({**json.loads(samples[keys[2]]["json"]), "seed": 2}).encode()
    del samples[keys[3]]["j.flac"]
    samples[keys[4]]["json"] = b"{not json"
    write_members(shard, samples)

    report = check(broken, progress=False, max_listed=3)
    assert not report.ok
    assert report.quadruples["train"] == 10 - 4 and report.bad_samples["train"] == 4
    listed = [e for e in report.errors if "sample" in e]
    assert [k for k in keys[1:4] if any(k in e for e in listed)] == keys[1:4]
    assert f"sample {keys[2]}: seed 2, manifest.json says 1" in "\n".join(listed)
    assert "... and 1 more bad sample(s)" in report.errors
    assert not any("manifest says" in e for e in report.errors)  # 6 + 4 bad = the manifest's 10
    assert len(check(broken, progress=False).errors) == 4

    (broken / "manifest.json").unlink()
    mixed = check(broken, progress=False)
    assert "records carry several seeds (seed: samples): 1: 8, 2: 1" in mixed.errors


def test_check_requires_stats_json_and_generate_writes_it(shard_dir, small_corpus, tmp_path):
    """A run killed after its last shard leaves no stats.json: `shards check` fails (train would
    refuse the folder), and rerunning the same generate command writes it."""
    copy = copy_dir(shard_dir, tmp_path / "copy")
    (copy / "stats.json").unlink()
    result = CliRunner().invoke(app, ["shards", "check", str(copy)])
    assert result.exit_code == 1 and "FAILED" in result.output
    assert f"{copy / 'stats.json'}: missing, though manifest.json plans train quadruples with the metric targets" in result.output
    assert "rerun the same `sesqa generate` command" in result.output
    clean, noise = small_corpus
    summary = generate(GenerateConfig(out=copy, n=12, seed=1, shard_size=6, clean=(clean,), noise=(noise,),
                                      speaker_pattern=r"clean/(spk\d)/", workers=1), progress=False)
    assert summary.written_shards == 0 and summary.stats_written
    assert (copy / "stats.json").read_bytes() == (shard_dir / "stats.json").read_bytes()
    assert CliRunner().invoke(app, ["shards", "check", str(copy)]).exit_code == 0
