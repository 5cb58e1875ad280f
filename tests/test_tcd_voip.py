"""TCD-VoIP's preparation (`sesqa.corpora.tcd_voip`) on a small stand-in built here, and its talker folds.

The real data set's licence keeps it out of the repository, so the tests build a distribution of
the same layout: a workbook with the two sheets `prepare` reads (written with openpyxl), short
noise WAVs named as TCD-VoIP names them, an MNRU anchor condition and an unrated condition, as a
folder and as a git repository. They check the MOS list against the workbook (read back through
`sesqa.labels.read_mos`), that the folds hold out one talker each, that a rebuild is verified
against the manifest and a changed file is named, that bad workbooks are refused, and that
`sesqa evaluate --kfold` uses a list's fold column (`listed_folds`). The committed manifest of
the real set is checked for its shape.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sesqa.corpora import tcd_voip
from sesqa.corpora.tcd_voip import MANIFEST, prepare, read_manifest, write_manifest
from sesqa.evaluation.kfold.folds import listed_folds
from sesqa.evaluation.run.tables import LabelRow
from sesqa.labels import read_mos

openpyxl = pytest.importorskip("openpyxl", reason="the TCD-VoIP workbook reader needs openpyxl (pip install 'sesqa[corpora]')")

REPO = Path(__file__).resolve().parents[1]
TALKERS = ("FA", "FG", "MK", "ML")
LISTENERS = 6
# (family, file number, ConditionID, MNRU Q or None, rated)
CONDITIONS = (
    ("CHOP", 1, 1, None, True),
    ("CHOP", 2, 2, None, True),
    ("CHOP", 21, 21, 48, True),
    ("CLIP", 11, 21, 36, True),
    ("ECHO", 1, 1, None, True),
    ("ECHO", 21, 21, 24, False),
)


def make_distribution(root: Path, seed: int = 3, *, talker_of_sources: dict[str, str] | None = None, mos_offset: float = 0.0) -> dict[str, list[int]]:
    """A TCD-VoIP-like folder under `root`; returns each rated file's ratings."""
    rng = np.random.default_rng(seed)
    book = openpyxl.Workbook()
    conditions = book.active
    conditions.title = "Test Conditions"
    conditions.append(["Filename", "Source1", "Source2", "Echo Alpha", "MNRU Q", "Qgroup", "ConditionID"])
    scores = book.create_sheet("Subjective Test Scores")
    scores.append(["Filename", "ConditionID", "sample MOS", "listener  # ->", *range(1, LISTENERS + 1)])
    rated: dict[str, list[int]] = {}
    for family, number, condition_id, q, is_rated in CONDITIONS:
        folder = root / "Test Set" / family.lower()
        folder.mkdir(parents=True, exist_ok=True)
        for talker in TALKERS:
            name = f"C_{number:02d}_{family}_{talker}.wav"
            sf.write(folder / name, 0.1 * rng.standard_normal(800), 8000, subtype="PCM_16")
            source_talker = (talker_of_sources or {}).get(name, talker)
            conditions.append([name, f"{source_talker}\\{source_talker}01_02.wav", f"{source_talker}\\{source_talker}03_04.wav", "-", q if q else "-", 3, condition_id])
            if is_rated:
                ratings = [int(r) for r in rng.integers(1, 6, LISTENERS)]
                rated[name] = ratings
                scores.append([name, condition_id, float(np.mean(ratings)) + mos_offset, None, *ratings])
    (root / "Test Set" / "chop" / "ref").mkdir()
    sf.write(root / "Test Set" / "chop" / "ref" / "R_01_CHOP_FA.wav", np.zeros(800), 8000)
    book.save(root / "TCD VOIP - Test Set Conditions and MOS Results.xlsx")
    (root / "README.txt").write_text("a stand-in for TCD-VoIP\n")
    return rated


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[int]]]:
    root = tmp_path_factory.mktemp("tcd-source")
    return root, make_distribution(root)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_mos_list_holds_every_rated_file_with_its_condition_type_and_talker_fold(distribution, tmp_path: Path) -> None:
    root, rated = distribution
    prepared = prepare(root, tmp_path / "out", manifest=None)
    rows = {Path(r["path"]).name: r for r in _rows(prepared.labels)}
    assert set(rows) == set(rated)  # the unrated ECHO 21 files are left out, the reference too
    assert prepared.folds == {"FA": 1, "FG": 2, "MK": 3, "ML": 4}
    for name, ratings in rated.items():
        row = rows[name]
        family, number, talker = name.split("_")[2].lower(), int(name.split("_")[1]), name[-6:-4]
        condition_id = next(c for f, n, c, _, _ in CONDITIONS if f.lower() == family and n == number)
        assert float(row["mos"]) == pytest.approx(np.mean(ratings), abs=1e-12)
        assert float(row["mos_std"]) == pytest.approx(np.std(ratings, ddof=1), abs=5e-5)
        assert int(row["ratings"]) == LISTENERS
        assert row["condition"] == f"{family}-{condition_id:02d}"
        assert row["degradation"] == ("mnru" if condition_id == 21 else family)
        assert row["talker"] == talker and row["fold"] == str(TALKERS.index(talker) + 1)
        assert row["path"] == f"audio/{family}/{name}"
        assert (tmp_path / "out" / row["path"]).read_bytes() == (root / "Test Set" / family / name).read_bytes()

    items = read_mos(prepared.labels)
    assert len(items) == len(rated) and all(i.path.is_file() for i in items)
    by_name = {i.path.name: i for i in items}
    assert by_name["C_11_CLIP_MK.wav"].system == "clip-21"
    assert by_name["C_11_CLIP_MK.wav"].degradation == "mnru"
    assert by_name["C_11_CLIP_MK.wav"].fold == "3"
    assert by_name["C_02_CHOP_FA.wav"].dataset == "tcd-voip"


def test_each_fold_holds_out_one_talker_and_the_lists_partition_the_files(distribution, tmp_path: Path) -> None:
    root, rated = distribution
    prepared = prepare(root, tmp_path / "out", manifest=None)
    assert len(prepared.fold_lists) == 2 * len(TALKERS)
    tested: list[str] = []
    for k, talker in enumerate(TALKERS, start=1):
        train = read_mos(tmp_path / "out" / "folds" / f"fold-{k}-train.csv")
        test = read_mos(tmp_path / "out" / "folds" / f"fold-{k}-test.csv")
        assert all(i.path.is_file() for i in (*train, *test))
        assert {i.path.name[-6:-4] for i in test} == {talker}
        assert talker not in {i.path.name[-6:-4] for i in train}
        assert {i.path.name for i in train} | {i.path.name for i in test} == set(rated)
        tested += [i.path.name for i in test]
    assert sorted(tested) == sorted(rated)  # every file is tested exactly once


def _git_repository(root: Path, target: Path) -> Path:
    shutil.copytree(root, target)
    git = ["git", "-C", str(target), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "data"], check=True)
    shutil.rmtree(target / "Test Set")  # the git directory alone must do
    return target / ".git"


def test_a_git_directory_gives_the_same_build_and_the_manifest_verifies_it(distribution, tmp_path: Path) -> None:
    root, rated = distribution
    from_folder = prepare(root, tmp_path / "a", manifest=None)
    manifest = write_manifest(tmp_path / "manifest.tsv", from_folder)
    from_git = prepare(_git_repository(root, tmp_path / "repo"), tmp_path / "b", manifest=manifest)
    assert from_git.manifest == from_folder.manifest
    assert read_manifest(manifest) == list(from_folder.manifest)
    roles = [row[0] for row in from_folder.manifest]
    assert roles.count("source") == 1 and roles.count("audio") == len(rated) and roles.count("labels") == 1 + 2 * len(TALKERS)


def test_a_changed_file_fails_the_check_and_is_named(distribution, tmp_path: Path) -> None:
    root, _ = distribution
    manifest = write_manifest(tmp_path / "manifest.tsv", prepare(root, tmp_path / "a", manifest=None))
    changed = tmp_path / "changed"
    shutil.copytree(root, changed)
    wav = changed / "Test Set" / "echo" / "C_01_ECHO_ML.wav"
    data = bytearray(wav.read_bytes())
    data[-1] ^= 1
    wav.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"differs from .* in 1 files: audio/echo/C_01_ECHO_ML.wav"):
        prepare(changed, tmp_path / "b", manifest=manifest)


def test_bad_workbooks_and_missing_audio_are_refused_with_the_file_named(tmp_path: Path) -> None:
    make_distribution(tmp_path / "mos", mos_offset=0.1)
    with pytest.raises(ValueError, match=r"C_01_CHOP_FA.wav: sample MOS .* is not the mean of its 6 ratings"):
        prepare(tmp_path / "mos", tmp_path / "o1", manifest=None)
    make_distribution(tmp_path / "talker", talker_of_sources={"C_02_CHOP_MK.wav": "FG"})
    with pytest.raises(ValueError, match=r"C_02_CHOP_MK.wav: source sentences .* are not talker MK's"):
        prepare(tmp_path / "talker", tmp_path / "o2", manifest=None)
    make_distribution(tmp_path / "missing")
    (tmp_path / "missing" / "Test Set" / "clip" / "C_11_CLIP_FG.wav").unlink()
    with pytest.raises(ValueError, match=r"1 rated files are missing \(first: C_11_CLIP_FG.wav\)"):
        prepare(tmp_path / "missing", tmp_path / "o3", manifest=None)
    with pytest.raises(ValueError, match="no TCD-VoIP here"):
        prepare(tmp_path / "nothing", tmp_path / "o4", manifest=None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="expected one .xlsx workbook"):
        prepare(tmp_path / "empty", tmp_path / "o5", manifest=None)
    make_distribution(tmp_path / "column")
    book = openpyxl.load_workbook(tmp_path / "column" / "TCD VOIP - Test Set Conditions and MOS Results.xlsx")
    book["Subjective Test Scores"]["C1"] = "MOS"
    book.save(tmp_path / "column" / "TCD VOIP - Test Set Conditions and MOS Results.xlsx")
    with pytest.raises(ValueError, match=r"sheet 'Subjective Test Scores': no column 'sample MOS' \(found Filename, ConditionID, MOS"):
        prepare(tmp_path / "column", tmp_path / "o6", manifest=None)


def test_the_script_keeps_the_audio_out_of_the_repository(distribution, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("prepare_tcd_voip", REPO / "scripts" / "prepare_tcd_voip.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with pytest.raises(SystemExit) as exit_:
        script.main([str(distribution[0]), str(REPO / "tcd-voip")])
    assert exit_.value.code == 2 and not (REPO / "tcd-voip").exists()
    # the stand-in is not TCD-VoIP: the check against the committed manifest fails, naming files
    assert script.main([str(distribution[0]), str(tmp_path / "out")]) == 1


def test_the_committed_manifest_lists_the_384_rated_files_and_the_lists() -> None:
    rows = read_manifest(MANIFEST)
    audio = [path for role, path, _, _ in rows if role == "audio"]
    lists = sorted(path for role, path, _, _ in rows if role == "labels")
    assert len(audio) == len(set(audio)) == 384
    assert {p.split("/")[1] for p in audio} == set(tcd_voip.FAMILIES.values())
    assert {p[-6:-4] for p in audio} == set(TALKERS)
    assert lists == sorted(["tcd-voip.csv", *(f"folds/fold-{k}-{part}.csv" for k in range(1, 5) for part in ("train", "test"))])
    assert all(len(sha) == 64 and size > 0 for _, _, size, sha in rows)


# ----------------------------------------------------------------------------- folds in --kfold


def test_listed_folds_number_the_fold_column_and_refuse_partial_or_mismatched_ones() -> None:
    rows = [LabelRow(f"{i}.wav", 3.0, None, None, fold) for i, fold in enumerate(["2", "10", "1", "2", "10"])]
    assert listed_folds(rows, 3).tolist() == [1, 2, 0, 1, 2]  # 1 < 2 < 10: numbered as numbers
    assert listed_folds([LabelRow("a.wav", 3.0, None)], 2) is None
    with pytest.raises(ValueError, match="give --kfold 3"):
        listed_folds(rows, 5)
    with pytest.raises(ValueError, match="1 of 3 labels have no fold"):
        listed_folds([*rows[:2], LabelRow("x.wav", 3.0, None)], 2)
    named = [LabelRow(f"{t}.wav", 3.0, None, None, t) for t in ("ML", "FA", "MK")]
    assert listed_folds(named, 3).tolist() == [2, 0, 1]


@pytest.mark.slow
def test_kfold_holds_out_the_folds_the_list_names(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sesqa.cli import app

    from .helpers import rated_noisy_clips

    clips = rated_noisy_clips(tmp_path, 3, np.random.default_rng(4))
    talker = {0: "FA", 1: "MK", 2: "FA"}  # utterances 0 and 2 share a "talker": they must be held out together
    with (tmp_path / "labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "mos", "condition", "fold"), *((name, mos, system, talker[n]) for n, name, mos, system in clips)])
    result = CliRunner().invoke(app, [
        "evaluate", "--kfold", "2", "--labels", str(tmp_path / "labels.csv"), "--model-size", "tiny", "--steps", "1",
        "--train-batch-size", "4", "--out", str(tmp_path / "cv.json"), "--boot", "20", "--device", "cpu",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "folds split by the list's fold column" in result.output
    for k, held in ((1, "FA"), (2, "MK")):
        tested = {Path(r["path"]).name for r in _rows(tmp_path / "cv" / f"fold-{k}" / "mos-test.csv")}
        trained = {Path(r["path"]).name for r in _rows(tmp_path / "cv" / f"fold-{k}" / "mos-train.csv")}
        assert tested == {name for n, name, _, _ in clips if talker[n] == held}
        assert trained == {name for n, name, _, _ in clips if talker[n] != held}
