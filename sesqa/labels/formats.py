"""The accepted label lists, declared as data: which columns each format has and what they hold.

docs/train.md ("Label files: MOS, JND and pairs") describes the same formats for users; change
both together. Formats are tried in the order given; the first that the first row fits wins.
"""

from __future__ import annotations

from .table import Column, ListFormat

PATH_COLUMNS: tuple[str, ...] = (
    "path",
    "filepath_deg",
    "filepath",
    "file_path",
    "filename",
    "deg",
    "file",
    "wav",
    "utt",
    "utterance",
    "utt_id",
)
"""Header names of an audio path column, first found wins."""
MOS_COLUMNS: tuple[str, ...] = ("mos", "true_mos", "mos_true", "label")
SYSTEM_COLUMNS: tuple[str, ...] = ("system", "system_id", "sys", "sys_id", "condition", "con")
DATASET_COLUMNS: tuple[str, ...] = ("dataset", "db")
DEGRADATION_COLUMNS: tuple[str, ...] = ("degradation", "degradation_type", "type")
"""What damaged a rated file (``chop``, ``mnru``...): per-type figures (benchmarks/listeners.py)."""
FOLD_COLUMNS: tuple[str, ...] = ("fold",)
"""A fixed cross-validation fold per file (TCD-VoIP's talker folds): `sesqa evaluate --kfold` uses
it instead of drawing folds."""

MOS_RANGE: tuple[float, float] = (1.0, 5.0)
"""Mean opinion scores lie on the 1-5 ACR scale; a value outside is an error, never clipped."""

_MOS = Column("mos", MOS_COLUMNS, "number", bounds=MOS_RANGE, what="MOS")
_LABEL = Column("label", ("label",), "number", bounds=(0.0, 1.0), whole=True)

MOS_FORMATS: tuple[ListFormat, ...] = (
    ListFormat(
        "NISQA corpus CSV",
        (
            Column("path", ("filepath_deg",), "path"),
            Column("mos", ("mos",), "number", bounds=MOS_RANGE, what="MOS"),
            Column("system", ("con",), required=False),
            Column("dataset", ("db",), required=False),
        ),
    ),
    ListFormat(
        "labels CSV",
        (
            Column("path", PATH_COLUMNS, "path"),
            _MOS,
            Column("system", SYSTEM_COLUMNS, required=False),
            Column("dataset", DATASET_COLUMNS, required=False),
            Column("degradation", DEGRADATION_COLUMNS, required=False),
            Column("fold", FOLD_COLUMNS, required=False),
        ),
    ),
    ListFormat(
        "BVCC list",
        (Column("path", kind="path"), Column("mos", kind="number", bounds=MOS_RANGE, what="MOS")),
        header=False,
    ),
)
"""MOS lists: the NISQA corpus file (``db,con,...,mos,...,filepath_deg``), any CSV with a path
and a MOS column (optional system, data set, degradation type and fold), and VoiceMOS/BVCC ``sets/*_mos_list.txt``
(``sys64e2f-utt491a78e.wav,3.25``, no header)."""

JND_FORMATS: tuple[ListFormat, ...] = (
    ListFormat("JND CSV", (Column("path_a", ("path_a",), "path"), Column("path_b", ("path_b",), "path"), _LABEL)),
    ListFormat(
        "PerceptualAudio list",
        (
            Column("path_a", kind="path"),
            Column("path_b", kind="path"),
            Column("label", kind="number", bounds=(0.0, 1.0), whole=True),
            Column("noise", required=False),
        ),
        header=False,
        subfolder=("noise", "{}_list"),
    ),
)
"""JND lists: ``path_a,path_b,label`` with a header (1 = listeners heard a difference), and the
PerceptualAudio data set's own lists (github.com/pranaymanocha/PerceptualAudio,
``dataset/dataset_combined.txt``...): ``path_a<TAB>path_b<TAB>label[<TAB>noise]``, no header;
``dataset_linear.txt``'s 4th column names the noise, and its paths lie in ``<noise>_list/``."""

PAIR_FORMATS: tuple[ListFormat, ...] = (
    ListFormat(
        "ordered pairs CSV",
        (Column("better", ("better",), "path", what="better path"), Column("worse", ("worse",), "path", what="worse path")),
    ),
)
"""Ordered pairs: ``better,worse`` with a header (either order); the first should score higher."""

__all__ = [
    "DATASET_COLUMNS",
    "DEGRADATION_COLUMNS",
    "FOLD_COLUMNS",
    "JND_FORMATS",
    "MOS_COLUMNS",
    "MOS_FORMATS",
    "MOS_RANGE",
    "PAIR_FORMATS",
    "PATH_COLUMNS",
    "SYSTEM_COLUMNS",
]
