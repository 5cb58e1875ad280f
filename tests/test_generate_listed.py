"""`sesqa generate` on a corpus root that carries its manifest: speakers, splits and band edges as
listed, one data set per source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from sesqa.audio.band import upper_band_edge_hz
from sesqa.corpora.manifest import CORPUS_MANIFEST_NAME, CorpusEntry, sha256_file, write_corpus_manifest
from sesqa.generator.run import GenerateConfig, generate
from sesqa.generator.sources import scan_corpus
from sesqa.shards import read_shard

from .helpers import SR, speech_like

SPLIT_OF = {"narrow:0": "train", "narrow:1": "valid", "wide:0": "train", "wide:1": "test"}


def _write_source(root: Path, source: str, rate: int, seed: int) -> list[CorpusEntry]:
    entries = []
    for speaker in range(2):
        for k in range(2):
            rel = f"{source}/s{speaker}/u{k}.flac"
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            x = soxr.resample(0.5 * speech_like(2.5, seed=seed + 10 * speaker + k), SR, rate)
            sf.write(path, x, rate, subtype="PCM_16")
            spk = f"{source}:{speaker}"
            entries.append(CorpusEntry(rel, source, spk, "en", rate, upper_band_edge_hz(x, rate), len(x) / rate, sha256_file(path), SPLIT_OF[spk]))
    return entries


@pytest.fixture(scope="module")
def listed_corpus(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("listed")
    corpus = root / "corpus"
    entries = _write_source(corpus, "narrow", 16_000, 0) + _write_source(corpus, "wide", SR, 100)
    write_corpus_manifest(corpus / CORPUS_MANIFEST_NAME, entries)
    noise = root / "noise"
    noise.mkdir()
    sf.write(noise / "hiss.flac", 0.1 * np.random.default_rng(0).standard_normal(3 * SR), SR, subtype="PCM_16")
    return corpus, noise


def test_a_listed_root_keeps_its_speakers_splits_and_band_edges(listed_corpus):
    corpus, _ = listed_corpus
    # the ratios would put every group in train; the manifest's splits win
    built, report = scan_corpus([corpus], {"train": 1.0}, 1.1, speaker_pattern=r"(nothing)")
    assert report.usable == 8 and not report.skipped
    by_split = {s: {f.group for d in built.files(s) for f in d} for s in ("train", "valid", "test")}
    assert by_split == {"train": {"narrow:0", "wide:0"}, "valid": {"narrow:1"}, "test": {"wide:1"}}
    train_sets = built.files("train")
    assert [d[0].dataset.rsplit("/", 1)[1] for d in train_sets] == ["narrow", "wide"]  # one data set per source
    edges = {f.dataset.rsplit("/", 1)[1]: f.band_edge_hz for d in train_sets for f in d}
    assert abs(edges["narrow"] - 8000.0) <= 500.0 and edges["wide"] >= 15_000.0


def test_generation_from_a_listed_root_labels_the_narrow_source_band_limited(tmp_path, listed_corpus):
    corpus, noise = listed_corpus
    out = tmp_path / "shards"
    config = GenerateConfig(out=out, n=40, seed=2, shard_size=10, clean=(corpus,), noise=(noise,), workers=1, metrics=(), cache_dir=tmp_path / "cache")
    summary = generate(config, progress=False)
    assert summary.band_limited_files == 4
    records = [s.record for tar in sorted(out.glob("*.tar")) for s in read_shard(tar)]
    seen = set()
    for r in records:
        source = Path(r.source.path).parts[-3]
        seen.add(source)
        has_limit = bool(r.chain_i) and r.chain_i[0].type == "band_limit"
        assert has_limit == (source == "narrow"), r.key
    assert seen == {"narrow", "wide"}


def test_missing_listed_files_are_skipped_with_the_reason(tmp_path, listed_corpus):
    corpus, _ = listed_corpus
    copy = tmp_path / "copy"
    for path in corpus.rglob("*"):
        if path.is_file() and path.name != "u1.flac":
            (copy / path.relative_to(corpus)).parent.mkdir(parents=True, exist_ok=True)
            (copy / path.relative_to(corpus)).write_bytes(path.read_bytes())
    _, report = scan_corpus([copy], {"train": 1.0}, 1.1)
    assert report.usable == 4 and len(report.skipped) == 4
    assert all("listed in" in reason and "missing" in reason for _, reason in report.skipped)


def test_a_foreign_manifest_of_the_same_name_is_ignored(tmp_path):
    root = tmp_path / "clean" / "spk0"
    root.mkdir(parents=True)
    sf.write(root / "a.flac", 0.5 * speech_like(2.0), SR, subtype="PCM_16")
    (tmp_path / "clean" / CORPUS_MANIFEST_NAME).write_text("id\tpath\n1\tspk0/a.flac\n")
    built, report = scan_corpus([tmp_path / "clean"], {"train": 1.0}, 1.1, cache_dir=tmp_path / "cache", measure_band=True)
    assert report.usable == 1 and built.count("train") == 1
