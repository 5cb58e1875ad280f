"""The clean-speech corpora: manifest format and validation, speaker splits, verification, and the
recipes run on a tiny git repository and a tiny .deb made here (never the real sources); the
full-band check set's recipes on stand-in mirrors of its two repositories."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.corpora import (
    CORPUS_SETS,
    FULLBAND_MANIFEST,
    FULLBAND_RECIPES,
    fillets_ng,
    ktuberling,
    librispeech_resemblyzer,
    speechocean762,
    tuxpaint_stamps,
    vctk_diffwave_sr,
    vctk_nuwave2,
    vctk_p239,
)
from sesqa.corpora.build import build_corpus
from sesqa.corpora.manifest import (
    MANIFEST_COLUMNS,
    CorpusEntry,
    compare_entries,
    read_corpus_manifest,
    verify_corpus,
    write_corpus_manifest,
)
from sesqa.corpora.origins import DebPackage, GitSnapshot
from sesqa.corpora.recipe import Places, Voice
from sesqa.corpora.splits import assign_speaker_splits

from .helpers import run_cli, speech_like

SHA = "ab" * 32


def entry(file: str = "src/a.wav", speaker: str = "src:1", **kw) -> CorpusEntry:
    values = dict(file=file, source=file.split("/")[0], speaker=speaker, language="en", sample_rate=16000,
                  band_edge_hz=8000.0, duration_s=2.5, sha256=SHA, split="train")
    values.update(kw)
    return CorpusEntry(**values)


# ------------------------------------------------------------------ manifest


def test_manifest_round_trip_plain_and_gzip(tmp_path):
    entries = [entry("src/b.wav", sha256="cd" * 32, split="test", band_edge_hz=7750.0), entry("src/a.wav", duration_s=1.234)]
    for name in ("m.tsv", "m.tsv.gz"):
        write_corpus_manifest(tmp_path / name, entries)
        back = read_corpus_manifest(tmp_path / name)
        assert back == sorted(entries, key=lambda e: e.file)
    first = (tmp_path / "m.tsv.gz").read_bytes()
    write_corpus_manifest(tmp_path / "m.tsv.gz", list(reversed(entries)))
    assert (tmp_path / "m.tsv.gz").read_bytes() == first  # no time stamp, sorted rows
    assert (tmp_path / "m.tsv").read_text().splitlines()[0].split("\t") == list(MANIFEST_COLUMNS)


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.replace(SHA, "xyz"), "line 2 (src/a.wav): sha256"),
    (lambda r: r.replace("\ttrain\n", "\tdev\n", 1), "line 2 (src/a.wav): split"),
    (lambda r: r.replace("src:1", "other:1", 1), "line 2 (src/a.wav): speaker"),
    (lambda r: r.replace("\ten\t", "\teng\t", 1), "line 2 (src/a.wav): language"),
    (lambda r: r.replace("16000", "sixteen", 1), "line 2 (src/a.wav): invalid literal"),
    (lambda r: r.replace("\t2.500\t", "\t-1\t", 1), "line 2 (src/a.wav): duration_s"),
    (lambda r: r.replace("8000.0", "9000.0", 1), "line 2 (src/a.wav): band_edge_hz"),
    (lambda r: r.replace("src/b.wav", "src/a.wav"), "line 3: src/a.wav is listed twice (first on line 2)"),
    (lambda r: r.replace("src/a.wav", "../a.wav", 1), "line 2 (../a.wav): file"),
    (lambda r: r.replace("\tsrc\t", "\t", 1), "line 2: 8 columns, expected 9"),
    (lambda r: r.replace("sample_rate", "rate"), "line 1: the header"),
])
def test_manifest_errors_name_the_file_line_and_problem(tmp_path, change, message):
    path = tmp_path / "m.tsv"
    write_corpus_manifest(path, [entry("src/a.wav"), entry("src/b.wav")])
    path.write_text(change(path.read_text()))
    with pytest.raises(ValueError, match="m.tsv: ") as info:
        read_corpus_manifest(path)
    assert message in str(info.value)


def test_entry_rejects_a_file_outside_its_source_folder():
    with pytest.raises(ValueError, match="under its source folder"):
        entry("other/a.wav", source="src")


# ------------------------------------------------------------------ splits


def test_splits_are_by_speaker_deterministic_and_keep_every_language_in_train():
    speakers = {f"big:{i}": "en" for i in range(200)} | {f"one_{lang}:x": lang for lang in ("fr", "cs", "ro")}
    speakers |= {"pair:a": "el", "pair:b": "el"}
    splits = assign_speaker_splits(speakers)
    assert splits == assign_speaker_splits(dict(reversed(list(speakers.items()))))
    counts = {s: sum(1 for v in splits.values() if v == s) for s in ("train", "valid", "test")}
    assert counts["valid"] >= 3 and counts["test"] >= 3 and counts["train"] > 150
    for lang in set(speakers.values()):
        assert any(splits[s] == "train" for s, lang_s in speakers.items() if lang_s == lang), lang
    for lang in ("fr", "cs", "ro"):
        assert splits[f"one_{lang}:x"] == "train"


def test_splits_mirror_the_mix_of_sources():
    speakers = {f"big:{i}": "en" for i in range(200)} | {f"small:{i}": "fr" for i in range(20)}
    splits = assign_speaker_splits(speakers)
    for split in ("valid", "test"):
        assert sum(1 for s, v in splits.items() if v == split and s.startswith("small:")) == 1
        assert sum(1 for s, v in splits.items() if v == split and s.startswith("big:")) == 10


def test_a_source_of_ten_speakers_gives_one_to_valid_and_one_to_test():
    # half a speaker rounds up: a small full-band source still reaches the held-out splits
    speakers = {f"big:{i}": "en" for i in range(100)} | {f"ten:{i}": "en" for i in range(10)}
    splits = assign_speaker_splits(speakers)
    for split in ("valid", "test"):
        assert sum(1 for s, v in splits.items() if v == split and s.startswith("ten:")) == 1


def test_splits_with_few_speakers_share_what_there_is():
    splits = assign_speaker_splits({"a:1": "en", "a:2": "en", "a:3": "en"})
    assert sorted(splits.values()) == ["test", "train", "valid"]
    with pytest.raises(ValueError, match="ratios"):
        assign_speaker_splits({"a:1": "en"}, ratios=(1.0, -0.1, 0.1))


# ------------------------------------------------------------------ verify


def test_verify_flags_a_changed_a_missing_and_an_unlisted_file(tmp_path):
    files = {"src/a.wav": b"aaaa", "src/sub/b.wav": b"bbbb"}
    entries = []
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
        entries.append(entry(rel, sha256=hashlib.sha256(data).hexdigest()))
    assert verify_corpus(tmp_path, entries) == []
    (tmp_path / "src/a.wav").write_bytes(b"aaab")
    (tmp_path / "src/sub/b.wav").unlink()
    (tmp_path / "src/c.wav").write_bytes(b"c")
    problems = [str(p) for p in verify_corpus(tmp_path, entries)]
    assert len(problems) == 3
    assert problems[0].startswith("src/a.wav: sha256 ") and "differs from the manifest's" in problems[0]
    assert problems[1] == "src/sub/b.wav: missing"
    assert problems[2] == "src/c.wav: not in the manifest"


def test_compare_names_missing_extra_and_changed_rows():
    a, b, c = entry("src/a.wav"), entry("src/b.wav"), entry("src/c.wav")
    problems = [str(p) for p in compare_entries([a, dataclasses.replace(b, split="test"), c], [a, b, entry("src/d.wav")])]
    assert problems == [
        "src/d.wav: in the manifest but not built",
        "src/c.wav: built but not in the manifest",
        "src/b.wav: split 'test' differs from the manifest's 'train'",
    ]


# ------------------------------------------------------------------ recipes: which files, whose voice


@pytest.mark.parametrize(("recipe", "path", "voice"), [
    (speechocean762, "WAVE/SPEAKER0042/000420011.WAV", Voice("0042", "en")),
    (speechocean762, "train/wav.scp", None),
    (librispeech_resemblyzer, "audio_data/librispeech_train-clean-100/103-1240-0000.flac", Voice("103", "en")),
    (librispeech_resemblyzer, "audio_data/librispeech_test-other/1688/1688-142285-0003.flac", Voice("1688", "en")),
    (librispeech_resemblyzer, "audio_data/donald_trump/real/4glfwiMXgwQ.mp3", None),
    (vctk_p239, "data/VCTK-Corpus/wav48/p239/p239_001.wav", Voice("p239", "en")),
    (vctk_p239, "data/VCTK-Corpus/txt/p239/p239_001.txt", None),
    (fillets_ng, "usr/share/games/fillets-ng/sound/start/cs/1st-m-hej.ogg", Voice("small_fish", "cs")),
    (fillets_ng, "usr/share/games/fillets-ng/sound/gods/cs/v-bojim.ogg", Voice("big_fish", "cs")),
    (fillets_ng, "usr/share/games/fillets-ng/sound/gods/cs/bh-pap-dobre.ogg", Voice("other_voices", "cs")),
    (fillets_ng, "usr/share/games/fillets-ng/sound/fdto/cs/agenti-m.ogg", Voice("small_fish", "cs")),
    (fillets_ng, "usr/share/games/fillets-ng/sound/gods/cs/l-halo0.ogg", Voice("other_voices", "cs")),
    (tuxpaint_stamps, "usr/share/tuxpaint/stamps/animals/amphibians/frog_desc_fr.ogg", Voice("fr", "fr")),
    (tuxpaint_stamps, "usr/share/tuxpaint/stamps/animals/amphibians/frog_desc.ogg", Voice("en", "en")),
    (tuxpaint_stamps, "usr/share/tuxpaint/stamps/animals/amphibians/frog.ogg", None),
    (ktuberling, "usr/share/ktuberling/sounds/fr/bouche.wav", Voice("fr", "fr")),
    (ktuberling, "usr/share/ktuberling/sounds/en/mouth.ogg", None),
    (ktuberling, "usr/share/ktuberling/sounds/de/mund.ogg", None),
    (ktuberling, "usr/share/ktuberling/sounds/sv/mun.wav", None),
])
def test_recipe_voices(recipe, path, voice):
    assert recipe.voice_of(path) == voice
    assert recipe.RECIPE.selects(path) == (voice is not None)


# ------------------------------------------------------------------ recipes on tiny origins


def _wav(seconds: float, seed: int, sr: int = 16000, gain: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(gain * speech_like(seconds, sr, seed), -1.0, 1.0), sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _git_repo(path: Path, files: dict[str, bytes]) -> str:
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "files"], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def tiny_mirror(tmp_path):
    """A working clone of a fake speechocean762 under mirrors/test+speech/: two speakers, a short
    file, a byte-identical copy, a clipped file, a file that is not audio, a README."""
    long_a = _wav(1.6, 1)
    files = {
        "README.md": b"free for commercial and non-commercial use\n",
        "WAVE/SPEAKER0001/000010001.WAV": long_a,
        "WAVE/SPEAKER0001/000010002.WAV": _wav(0.6, 2),
        "WAVE/SPEAKER0002/000020001.WAV": _wav(2.0, 3),
        "WAVE/SPEAKER0002/000020002.WAV": long_a,
        "WAVE/SPEAKER0002/000020003.WAV": b"not audio at all",
        "WAVE/SPEAKER0002/000020004.WAV": _wav(1.5, 4, gain=3.0),
        "train/wav.scp": b"x\n",
    }
    commit = _git_repo(tmp_path / "mirrors" / "test+speech", files)
    recipe = dataclasses.replace(speechocean762.RECIPE, origin=GitSnapshot("test/speech", commit))
    return recipe, tmp_path / "mirrors", files


def test_a_recipe_on_a_git_mirror_yields_the_right_rows(tmp_path, tiny_mirror):
    recipe, mirrors, files = tiny_mirror
    result = build_corpus(tmp_path / "corpus", [recipe], Places(mirrors, tmp_path / "debs"))
    rows = {e.file: e for e in result.entries}
    assert sorted(rows) == ["speechocean762/SPEAKER0001/000010001.WAV", "speechocean762/SPEAKER0002/000020001.WAV"]
    first = rows["speechocean762/SPEAKER0001/000010001.WAV"]
    assert (first.speaker, first.language, first.sample_rate) == ("speechocean762:0001", "en", 16000)
    assert first.duration_s == pytest.approx(1.6, abs=1e-3)
    assert first.sha256 == hashlib.sha256(files["WAVE/SPEAKER0001/000010001.WAV"]).hexdigest()
    assert 0 < first.band_edge_hz <= 8000
    assert (tmp_path / "corpus" / first.file).read_bytes() == files["WAVE/SPEAKER0001/000010001.WAV"]
    skipped = {s.file: s.reason for s in result.skipped}
    assert skipped["speechocean762/SPEAKER0001/000010002.WAV"].startswith("too short (0.60 s")
    assert skipped["speechocean762/SPEAKER0002/000020002.WAV"] == "byte-identical to speechocean762/SPEAKER0001/000010001.WAV"
    assert skipped["speechocean762/SPEAKER0002/000020003.WAV"].startswith("unreadable")
    assert skipped["speechocean762/SPEAKER0002/000020004.WAV"].startswith("clipped (")
    assert not (tmp_path / "corpus" / "speechocean762/SPEAKER0002/000020003.WAV").exists()
    assert read_corpus_manifest(tmp_path / "corpus" / "manifest.tsv") == sorted(result.entries, key=lambda e: e.file)
    licence = (tmp_path / "corpus" / "licences" / "speechocean762.txt").read_text()
    assert "free for commercial and non-commercial use" in licence and "test/speech" in licence

    again = build_corpus(tmp_path / "again", [recipe], Places(mirrors, tmp_path / "debs"))
    assert (tmp_path / "again" / "manifest.tsv").read_bytes() == (tmp_path / "corpus" / "manifest.tsv").read_bytes()
    assert verify_corpus(tmp_path / "again", result.entries) == []


def test_a_missing_commit_or_mirror_is_reported_and_the_other_sources_built(tmp_path, tiny_mirror):
    recipe, mirrors, _ = tiny_mirror
    gone = dataclasses.replace(recipe, name="gone", origin=GitSnapshot("test/speech", "0" * 40))
    absent = dataclasses.replace(recipe, name="absent", origin=GitSnapshot("test/absent", "0" * 40))
    result = build_corpus(tmp_path / "corpus", [gone, absent, recipe], Places(mirrors, tmp_path / "debs"))
    assert len(result.entries) == 2
    problems = dict(result.failed_sources)
    assert "lacks commit " + "0" * 40 in problems["gone"]
    assert "no git directory of test/absent" in problems["absent"]


def test_cli_build_and_check_against_a_manifest(tmp_path, tiny_mirror, monkeypatch):
    recipe, mirrors, _ = tiny_mirror
    monkeypatch.setattr("sesqa.corpora.CORPUS_SETS", {"speech": dataclasses.replace(CORPUS_SETS["speech"], recipes=(recipe,))})
    manifest = tmp_path / "speech.tsv.gz"
    built = run_cli("corpus", "build", tmp_path / "c1", "--mirrors", mirrors, "--debs", tmp_path, "--write-manifest", manifest)
    assert built.exit_code == 0, built.output
    again = run_cli("corpus", "build", tmp_path / "c2", "--mirrors", mirrors, "--debs", tmp_path, "--manifest", manifest)
    assert again.exit_code == 0 and "all 2 files match" in again.output
    assert run_cli("corpus", "check", tmp_path / "c2", "--manifest", manifest).exit_code == 0
    for quiet in (
        run_cli("corpus", "build", tmp_path / "c4", "--mirrors", mirrors, "--debs", tmp_path, "--manifest", manifest, "--quiet"),
        run_cli("--quiet", "corpus", "check", tmp_path / "c4", "--manifest", manifest),
    ):
        assert quiet.exit_code == 0 and quiet.output == "", quiet.output
    changed = tmp_path / "c2" / "speechocean762/SPEAKER0002/000020001.WAV"
    changed.write_bytes(changed.read_bytes()[:-2] + b"\0\1")
    checked = run_cli("corpus", "check", tmp_path / "c2", "--manifest", manifest)
    assert checked.exit_code == 1
    assert "speechocean762/SPEAKER0002/000020001.WAV: sha256" in checked.output
    entries = read_corpus_manifest(manifest)
    write_corpus_manifest(manifest, [dataclasses.replace(entries[0], sha256="0" * 64), *entries[1:]])
    refused = run_cli("corpus", "build", tmp_path / "c3", "--mirrors", mirrors, "--debs", tmp_path, "--manifest", manifest)
    assert refused.exit_code == 1 and f"{entries[0].file}: sha256" in refused.output
    allowed = run_cli("corpus", "build", tmp_path / "c3", "--mirrors", mirrors, "--debs", tmp_path, "--manifest", manifest, "--allow-mismatch")
    assert allowed.exit_code == 0 and "1 files differ" in allowed.output


def test_a_corpus_folder_inside_the_checkout_is_refused_before_anything_is_read(tmp_path, tiny_mirror, monkeypatch):
    recipe, mirrors, _ = tiny_mirror
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.setattr("sesqa.corpora.build.source_checkout", lambda: checkout)
    monkeypatch.setattr("sesqa.corpora.CORPUS_SETS", {"speech": dataclasses.replace(CORPUS_SETS["speech"], recipes=(recipe,))})
    inside = checkout / "data" / "corpus"
    refused = run_cli("corpus", "build", inside, "--mirrors", mirrors, "--debs", tmp_path)
    assert refused.exit_code == 2
    assert f"corpus folder {inside} is inside the sesqa checkout {checkout}" in refused.output
    assert not inside.exists()
    with pytest.raises(ValueError, match="must not be committed"):
        build_corpus(checkout / "c", [recipe], Places(mirrors, tmp_path / "debs"))
    assert build_corpus(tmp_path / "outside", [recipe], Places(mirrors, tmp_path / "debs")).entries


def test_a_deb_recipe_reads_only_allowed_languages(tmp_path):
    """A tiny ktuberling-data: the fr word is kept; the reserved en one is never selected."""
    pkg = tmp_path / "pkg"
    sounds = pkg / "usr/share/ktuberling/sounds"
    for lang, seed in (("fr", 1), ("en", 2)):
        (sounds / lang).mkdir(parents=True)
        (sounds / lang / "mot.wav").write_bytes(_wav(1.5, seed, 22050))
    (pkg / "usr/share/doc/ktuberling-data").mkdir(parents=True)
    (pkg / "usr/share/doc/ktuberling-data/copyright").write_text("GPL-2+ test copyright\n")
    (pkg / "DEBIAN").mkdir()
    (pkg / "DEBIAN/control").write_text("Package: ktuberling-data\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n")
    debs = tmp_path / "debs"
    debs.mkdir()
    deb = debs / "ktuberling-data_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(pkg), str(deb)], check=True, capture_output=True)
    digest = hashlib.sha256(deb.read_bytes()).hexdigest()
    recipe = dataclasses.replace(ktuberling.RECIPE, origin=DebPackage("ktuberling-data", "1.0", digest))
    result = build_corpus(tmp_path / "corpus", [recipe], Places(None, debs, download=False))
    assert [(e.file, e.speaker, e.language, e.sample_rate) for e in result.entries] == [("ktuberling/fr/mot.wav", "ktuberling:fr", "fr", 22050)]
    assert not (tmp_path / "corpus" / "ktuberling" / "en").exists()
    assert "GPL-2+ test copyright" in (tmp_path / "corpus/licences/ktuberling.txt").read_text()
    wrong = dataclasses.replace(recipe, origin=DebPackage("ktuberling-data", "1.0", "0" * 64))
    failed = build_corpus(tmp_path / "c2", [wrong], Places(None, debs, download=False))
    assert "differs from the pinned" in dict(failed.failed_sources)["ktuberling"]


# ------------------------------------------------------------------ the full-band check set

DIFFWAVE_UTTERANCES = ("p360_001", "p361_002", "p362_003", "p363_004", "p364_005", "p374_006", "p376_007", "s5_008")
NUWAVE2_CLIPS = ("8k/original_48k/sample_0.wav", "8k/original_48k/sample_2.wav", "12k/original_48k/sample_2.wav",
                 "24k/original_48k/sample_0.wav", "24k/original_48k/sample_1.wav")
FULLBAND_FILES = sorted([*(f"vctk_diffwave_sr/{u}_mic1.wav" for u in DIFFWAVE_UTTERANCES), *(f"vctk_nuwave2/{c}" for c in NUWAVE2_CLIPS)])
"""The 13 clips the set holds, as corpus paths."""


@pytest.mark.parametrize(("recipe", "path", "voice"), [
    (vctk_diffwave_sr, "docs/samples/origin/p360_001_mic1.wav", Voice("p360", "en")),
    (vctk_diffwave_sr, "docs/samples/origin/s5_008_mic1.wav", Voice("s5", "en")),
    (vctk_diffwave_sr, "docs/samples/origin/p360_001_mic1.png", None),
    (vctk_diffwave_sr, "docs/samples/x2-nuwave/p360_001_mic1.wav", None),
    (vctk_diffwave_sr, "docs/samples/16k/origin/p374_012_mic1.wav", None),
    (vctk_nuwave2, "docs/samples/8k/original_48k/sample_0.wav", Voice("vctk-unseen", "en")),
    (vctk_nuwave2, "docs/samples/24k/original_48k/sample_1.wav", Voice("vctk-unseen", "en")),
    (vctk_nuwave2, "docs/samples/8k/original_48k/sample_1.wav", None),  # 1.6 s: under 2 s
    (vctk_nuwave2, "docs/samples/16k/original_48k/sample_0.wav", None),  # 1.9 s
    (vctk_nuwave2, "docs/samples/8k/nuwave2_48k/sample_0.wav", None),
    (vctk_nuwave2, "docs/samples/8k/original_8k/sample_0.wav", None),
])
def test_fullband_recipe_voices(recipe, path, voice):
    assert recipe.voice_of(path) == voice
    assert recipe.RECIPE.selects(path) == (voice is not None)


def test_a_train_share_of_zero_puts_every_speaker_in_test():
    speakers = {"a:1": "en", "a:2": "en", "b:x": "fr", "c:y": "cs"}
    assert set(assign_speaker_splits(speakers, ratios=(0.0, 0.0, 1.0)).values()) == {"test"}
    assert assign_speaker_splits(speakers)["b:x"] == "train"  # with a train share, a lone language stays in train


def _full_band_wav(seconds: float, seed: int, subtype: str) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(seconds * 48000))
    buffer = io.BytesIO()
    sf.write(buffer, (0.2 * x / np.abs(x).max()).astype(np.float32), 48000, format="WAV", subtype=subtype)
    return buffer.getvalue()


@pytest.fixture
def fullband_mirrors(tmp_path, monkeypatch):
    """Stand-in working clones of diffwave-sr and nuwave2: the 13 clips as 1.5 s of 48 kHz noise,
    beside decoys the recipes must leave out; `--set fullband` points at them and a manifest here."""
    decoy = _full_band_wav(1.5, 99, "PCM_16")
    diffwave = {f"docs/samples/origin/{u}_mic1.wav": _full_band_wav(1.5, k, "PCM_16") for k, u in enumerate(DIFFWAVE_UTTERANCES)}
    diffwave |= {"docs/samples/origin/p360_001_mic1.png": b"png", "docs/samples/x2-nuwave/p360_001_mic1.wav": decoy, "LICENSE": b"MIT\n"}
    nuwave2 = {f"docs/samples/{c}": _full_band_wav(1.5, 20 + k, "FLOAT") for k, c in enumerate(NUWAVE2_CLIPS)}
    nuwave2 |= {"docs/samples/8k/original_48k/sample_1.wav": decoy, "docs/samples/16k/original_48k/sample_0.wav": decoy,
                "docs/samples/8k/nuwave2_48k/sample_0.wav": decoy}
    mirrors = tmp_path / "mirrors"
    origins = {}
    for recipe, files in zip(FULLBAND_RECIPES, (diffwave, nuwave2)):
        repo = f"test/{recipe.name}"
        origins[recipe.name] = GitSnapshot(repo, _git_repo(mirrors / repo.replace("/", "+"), files))
    recipes = tuple(dataclasses.replace(r, origin=origins[r.name]) for r in FULLBAND_RECIPES)
    manifest = tmp_path / "fullband.tsv"
    monkeypatch.setattr("sesqa.corpora.CORPUS_SETS", {**CORPUS_SETS, "fullband": dataclasses.replace(CORPUS_SETS["fullband"], recipes=recipes, manifest=manifest)})
    return mirrors, manifest, diffwave | nuwave2


def test_fullband_set_builds_exactly_its_clips_all_in_test_and_checks_against_its_manifest(tmp_path, fullband_mirrors):
    mirrors, manifest, files = fullband_mirrors
    built = run_cli("corpus", "build", tmp_path / "c1", "--set", "fullband", "--mirrors", mirrors, "--write-manifest", manifest)
    assert built.exit_code == 0, built.output
    entries = read_corpus_manifest(manifest)
    assert [e.file for e in entries] == FULLBAND_FILES
    assert {e.split for e in entries} == {"test"}
    assert {e.speaker for e in entries} == {*(f"vctk_diffwave_sr:{u.split('_')[0]}" for u in DIFFWAVE_UTTERANCES), "vctk_nuwave2:vctk-unseen"}
    for e in entries:
        recipe = next(r for r in FULLBAND_RECIPES if r.name == e.source)
        original = files[recipe.strip + e.file.removeprefix(f"{e.source}/")]
        assert (tmp_path / "c1" / e.file).read_bytes() == original
        assert (e.sample_rate, e.band_edge_hz, e.duration_s) == (48000, 24000.0, 1.5)
    for recipe in FULLBAND_RECIPES:
        assert "licence (CC BY 4.0, " in (tmp_path / "c1" / "licences" / f"{recipe.name}.txt").read_text()

    again = run_cli("corpus", "build", tmp_path / "c2", "--set", "fullband", "--mirrors", mirrors)
    assert again.exit_code == 0 and "all 13 files match" in again.output, again.output
    assert run_cli("corpus", "check", tmp_path / "c2", "--set", "fullband").exit_code == 0
    speech = run_cli("corpus", "check", tmp_path / "c2")  # the default set is the speech corpus: none of these files
    assert speech.exit_code == 1 and "vctk_diffwave_sr/p360_001_mic1.wav" not in speech.output
    (tmp_path / "c2" / FULLBAND_FILES[0]).write_bytes(b"changed")
    checked = run_cli("corpus", "check", tmp_path / "c2", "--set", "fullband")
    assert checked.exit_code == 1 and f"{FULLBAND_FILES[0]}: sha256" in checked.output
    unknown = run_cli("corpus", "check", tmp_path / "c2", "--set", "nope")
    assert unknown.exit_code == 2 and "choose from speech, fullband" in unknown.output


def test_the_committed_fullband_manifest_lists_the_sets_clips_full_band_and_held_out():
    entries = read_corpus_manifest(FULLBAND_MANIFEST)
    assert [e.file for e in entries] == FULLBAND_FILES
    assert {e.split for e in entries} == {"test"}
    recipes = {r.name: r for r in FULLBAND_RECIPES}
    for e in entries:
        recipe = recipes[e.source]
        voice = recipe.voice_of(recipe.strip + e.file.removeprefix(f"{e.source}/"))
        assert voice is not None and e.speaker == f"{e.source}:{voice.speaker}"
        assert e.sample_rate >= 44100 and e.band_edge_hz >= 16000 and e.duration_s >= 2.0, e
