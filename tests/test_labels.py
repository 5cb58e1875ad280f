"""The one label reader (`sesqa.labels`): MOS lists, JND pairs and ordered pairs.

Each accepted format (NISQA corpus CSV, labels CSV, BVCC list; JND CSV, PerceptualAudio lists;
better,worse pairs), the separators, the BVCC system rule, the audio lookup, range checks and
errors naming file and line. Moved here from test_trainer_data.py (`read_mos_csv`,
`read_jnd_csv`) and test_evaluation.py (`read_labels`, `read_pairs`), whose readers this replaces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from sesqa.evaluation.run.inputs import read_strengths
from sesqa.evaluation.run.tables import LabelRow, PairRow
from sesqa.labels import (
    JndItem,
    MosItem,
    audio_candidates,
    find_audio,
    read_jnd,
    read_mos,
    read_pairs,
    system_from_name,
)

from .helpers import ramp, write


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(items: list[MosItem]) -> list[LabelRow]:
    """MOS items as `sesqa evaluate` joins them: (path as written, MOS, system)."""
    return [LabelRow(i.name, i.mos, i.system) for i in items]


def _pairs(source: Path) -> list[PairRow]:
    return [PairRow(*p.names) for p in read_pairs(source)]


# ----------------------------------------------------------------------------- MOS lists


def test_mos_csv_generic_nisqa_and_voicemos(tmp_path, caplog):
    write(tmp_path / "audio" / "a.wav", ramp(0.1, 1.2))
    write(tmp_path / "audio" / "b.wav", ramp(0.2, 1.2))
    generic = tmp_path / "mos.csv"
    generic.write_text(f"path,mos,system,dataset\naudio/a.wav,3.5,sysA,mine\n{tmp_path / 'audio' / 'b.wav'},1,,\n")
    items = read_mos(generic, skip_missing=True)
    assert items == [MosItem(tmp_path / "audio" / "a.wav", 3.5, "sysA", "mine"), MosItem(tmp_path / "audio" / "b.wav", 1.0, None, None)]

    corpus = tmp_path / "NISQA_Corpus"
    write(corpus / "NISQA_TRAIN_SIM" / "deg" / "c00001_x.wav", ramp(0.1, 1.0))
    (corpus / "NISQA_corpus_file.csv").write_text(
        "db,con,file,con_description,filename_deg,filename_ref,source,lang,votes,mos,noi,col,dis,loud,filepath_deg,filepath_ref\n"
        "NISQA_TRAIN_SIM,12,1,codec,c00001_x.wav,ref.wav,x,en,5,2.6,3,3,3,3,NISQA_TRAIN_SIM/deg/c00001_x.wav,NISQA_TRAIN_SIM/ref/ref.wav\n"
    )
    assert read_mos(corpus / "NISQA_corpus_file.csv", skip_missing=True) == [
        MosItem(corpus / "NISQA_TRAIN_SIM" / "deg" / "c00001_x.wav", 2.6, "12", "NISQA_TRAIN_SIM")
    ]

    bvcc = tmp_path / "DATA"
    write(bvcc / "wav" / "sys64e2f-utt491a78e.wav", ramp(0.1, 1.0))
    write(bvcc / "wav" / "sys7ab3c-utt0001.wav", ramp(0.1, 1.0))
    (bvcc / "sets").mkdir()
    (bvcc / "sets" / "train_mos_list.txt").write_text("sys64e2f-utt491a78e.wav,3.25\nsys7ab3c-utt0001.wav,4.0\n")
    assert read_mos(bvcc / "sets" / "train_mos_list.txt", skip_missing=True) == [
        MosItem(bvcc / "wav" / "sys64e2f-utt491a78e.wav", 3.25, "sys64e2f"),
        MosItem(bvcc / "wav" / "sys7ab3c-utt0001.wav", 4.0, "sys7ab3c"),
    ]

    # Errors name file and line as `file:line:` (the trainer's reader wrote `file: line N:`).
    bad = tmp_path / "bad.csv"
    bad.write_text("path,mos\naudio/a.wav,3\naudio/b.wav,6.0\n")
    with pytest.raises(ValueError, match=r"bad\.csv:3: MOS '6\.0'"):
        read_mos(bad)
    bad.write_text("path,mos\naudio/a.wav,good\n")
    with pytest.raises(ValueError, match=r"bad\.csv:2: MOS 'good'"):
        read_mos(bad)
    bad.write_text("file;score\nx;y\n")
    with pytest.raises(ValueError, match="not a MOS list"):
        read_mos(bad)

    missing = tmp_path / "missing.csv"
    missing.write_text("path,mos\naudio/a.wav,3\naudio/gone.wav,2\n")
    with caplog.at_level(logging.WARNING, logger="sesqa.labels"):
        assert [i.path.name for i in read_mos(missing, skip_missing=True)] == ["a.wav"]
    assert "gone.wav" in caplog.text and "missing.csv" in caplog.text
    assert [i.path.name for i in read_mos(missing)] == ["a.wav", "gone.wav"]  # kept unless asked
    missing.write_text("path,mos\naudio/gone.wav,2\n")
    with pytest.raises(ValueError, match="gone.wav"):
        read_mos(missing, skip_missing=True)


def test_read_labels_formats(tmp_path: Path) -> None:
    plain = _write(tmp_path, "labels.csv", "path,mos,system\na.wav,3.5,A\nb.wav,2,\n")
    assert _rows(read_mos(plain)) == [LabelRow("a.wav", 3.5, "A"), LabelRow("b.wav", 2.0, None)]
    nisqa = _write(tmp_path, "NISQA_corpus_file.csv", "db,con,filepath_deg,mos\nTEST,3,deg/c03_1.wav,2.9\n")
    assert _rows(read_mos(nisqa)) == [LabelRow("deg/c03_1.wav", 2.9, "3")]
    bvcc = _write(
        tmp_path, "test_mos_list.txt", "sys64e2f-utt491a78a.wav,4.0\nsys7ab3c-utt1417b69.wav,3.375\n"
    )
    assert _rows(read_mos(bvcc)) == [
        LabelRow("sys64e2f-utt491a78a.wav", 4.0, "sys64e2f"),
        LabelRow("sys7ab3c-utt1417b69.wav", 3.375, "sys7ab3c"),
    ]
    assert system_from_name("wav/sys1a-utt2.wav") == "sys1a" and system_from_name("x.wav") is None


def test_separators_are_detected_the_same_for_every_list(tmp_path: Path) -> None:
    expected = [LabelRow("a.wav", 3.5, "A"), LabelRow("b.wav", 2.0, "B")]
    for name, sep in (("comma.csv", ","), ("tab.tsv", "\t"), ("semicolon.csv", ";")):
        text = "# a comment, with a comma\n\n" + "\n".join(sep.join(r) for r in (("path", "mos", "system"), ("a.wav", "3.5", "A"), ("b.wav", "2", "B")))
        assert _rows(read_mos(_write(tmp_path, name, text))) == expected, name
    assert _pairs(_write(tmp_path, "pairs.tsv", "better\tworse\na.wav\tb.wav\n")) == [PairRow("a.wav", "b.wav")]
    jnd = _write(tmp_path, "jnd.csv", "path_a;path_b;label\na.wav;b.wav;1\n")
    assert read_jnd(jnd) == [JndItem(tmp_path / "a.wav", tmp_path / "b.wav", 1)]


def test_bvcc_system_rule_only_for_bvcc_names(tmp_path: Path) -> None:
    """One rule in train and evaluate: ``sys<id>-utt<id>`` names give a system, other hyphens do not."""
    headerless = _write(tmp_path, "list.txt", "my-recording.wav,3.0\nsys9f-utt1.wav,4.0\n")
    assert [i.system for i in read_mos(headerless)] == [None, "sys9f"]
    with_column = _write(tmp_path, "labels.csv", "path,mos,system\nsys9f-utt1.wav,4.0,\nsys9f-utt2.wav,4.0,given\n")
    assert [i.system for i in read_mos(with_column)] == ["sys9f", "given"]


def test_audio_lookup_is_one_list_of_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = tmp_path / "corpus" / "sets"
    assert audio_candidates("x.wav", lists) == (
        lists / "x.wav",
        Path("x.wav"),
        tmp_path / "corpus" / "x.wav",
        lists / "wav" / "x.wav",
        tmp_path / "corpus" / "wav" / "x.wav",
    )
    assert audio_candidates(str(tmp_path / "abs.wav"), lists) == (tmp_path / "abs.wav",)
    assert find_audio("x.wav", lists) == lists / "x.wav"  # none exists: the first, reported missing
    write(tmp_path / "corpus" / "x.wav", ramp(0.1, 0.1))
    assert find_audio("x.wav", lists) == tmp_path / "corpus" / "x.wav"
    monkeypatch.chdir(tmp_path / "corpus")
    assert find_audio("x.wav", lists) == Path("x.wav")  # the working directory comes before the folder above


def test_mos_range_and_duplicates_are_errors_for_evaluate_too(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"low\.csv:2: MOS '0\.5' is outside \[1, 5\]"):
        read_mos(_write(tmp_path, "low.csv", "path,mos\na.wav,0.5\n"))
    with pytest.raises(ValueError, match=r"dup\.csv:3: path './a.wav' already listed at .*dup\.csv:2"):
        read_mos(_write(tmp_path, "dup.csv", "path,mos\na.wav,3\n./a.wav,4\n"))
    with pytest.raises(ValueError, match=r"head\.csv: the MOS list has a header but no rows"):
        read_mos(_write(tmp_path, "head.csv", "path,mos\n"))


# ----------------------------------------------------------------------------- JND and ordered pairs


def test_jnd_csv_generic_and_perceptual_audio(tmp_path):
    write(tmp_path / "a.wav", ramp(0.1, 1.0))
    write(tmp_path / "b.wav", ramp(0.2, 1.0))
    generic = tmp_path / "jnd.csv"
    generic.write_text("path_a,path_b,label\na.wav,b.wav,1\nb.wav,b.wav,0\n")
    assert read_jnd(generic, skip_missing=True) == [JndItem(tmp_path / "a.wav", tmp_path / "b.wav", 1), JndItem(tmp_path / "b.wav", tmp_path / "b.wav", 0)]

    pa = tmp_path / "dataset"
    write(pa / "combined_1" / "0.0_x.wav", ramp(0.1, 1.0))
    write(pa / "combined_1" / "5.0_x.wav", ramp(0.2, 1.0))
    write(pa / "white_noise_list" / "n1.wav", ramp(0.1, 1.0))
    write(pa / "white_noise_list" / "n2.wav", ramp(0.2, 1.0))
    (pa / "dataset_combined.txt").write_text("combined_1/0.0_x.wav\tcombined_1/5.0_x.wav\t1\ncombined_1/0.0_x.wav\tcombined_1/0.0_x.wav\t0\n")
    assert read_jnd(pa / "dataset_combined.txt", skip_missing=True) == [
        JndItem(pa / "combined_1" / "0.0_x.wav", pa / "combined_1" / "5.0_x.wav", 1),
        JndItem(pa / "combined_1" / "0.0_x.wav", pa / "combined_1" / "0.0_x.wav", 0),
    ]
    (pa / "dataset_linear.txt").write_text("n1.wav\tn2.wav\t1\twhite_noise\n")
    assert read_jnd(pa / "dataset_linear.txt", skip_missing=True) == [JndItem(pa / "white_noise_list" / "n1.wav", pa / "white_noise_list" / "n2.wav", 1)]
    (pa / "bad.txt").write_text("combined_1/0.0_x.wav\tcombined_1/5.0_x.wav\t2\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: label '2'"):  # was `bad.txt: line 1: label '2'`
        read_jnd(pa / "bad.txt")
    (pa / "bad.txt").write_text("a.wav\tb.wav\t1\tnoise\textra\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: .*not a JND list"):
        read_jnd(pa / "bad.txt")
    with pytest.raises(ValueError, match=r"jnd2\.csv:1: expected a header with columns path_a,path_b,label"):
        read_jnd(_write(tmp_path, "jnd2.csv", "a,b,label\nx.wav,y.wav,1\n"))


def test_read_pairs(tmp_path: Path) -> None:
    pairs = _write(tmp_path, "pairs.csv", "worse,better\nb.wav,a.wav\n")
    assert _pairs(pairs) == [PairRow("a.wav", "b.wav")]
    assert read_pairs(pairs)[0].better == tmp_path / "a.wav"


@pytest.mark.parametrize(
    "reader,text,message",
    [
        (read_mos, "path,mos\na.wav,3\nb.wav,\n", r"bad\.csv:3: MOS '' is not a number"),  # was `mos ''`
        (read_pairs, "a,b\nx.wav,y.wav\n", r"bad\.csv:1: expected a header with columns better,worse"),
        (read_pairs, "better,worse\nx.wav,x.wav\n", r"bad\.csv:2: a pair of a file with itself"),
        (read_mos, "", r"bad\.csv: no rows"),
        (read_mos, "path,mos\n,3\n", r"bad\.csv:2: empty path"),
        (read_mos, "path,mos,system\na.wav\n", r"bad\.csv:2: row has 1 fields, no MOS"),
        (read_mos, "path,mos\na.wav,inf\n", r"bad\.csv:2: MOS 'inf' is not a finite number"),
        (read_jnd, "path_a,path_b,label\na.wav,b.wav,0.5\n", r"bad\.csv:2: label '0\.5' is not a whole number"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, reader: Callable[[Path], object], text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        reader(_write(tmp_path, "bad.csv", text))


def test_strength_lists_use_the_same_table_reader(tmp_path: Path) -> None:
    strengths = _write(tmp_path, "s.tsv", "path\ttype\tstrength\nclean.wav\t\t0\nn.wav\twhite_noise\t0.5\n")
    assert read_strengths(strengths) == [LabelRow("clean.wav", 0.0, "clean"), LabelRow("n.wav", 0.5, "white_noise")]
    with pytest.raises(ValueError, match=r"bad\.csv:2: strength 'x' is not a number"):
        read_strengths(_write(tmp_path, "bad.csv", "path,type,strength\na.wav,clean,x\n"))


def test_one_number_parser_in_the_package() -> None:
    package = Path(__file__).resolve().parents[1] / "sesqa"
    found = [f"{p}:{n}" for p in sorted(package.rglob("*.py")) for n, line in enumerate(p.read_text().splitlines(), 1) if "def _is_number" in line]
    assert len(found) == 1, found
