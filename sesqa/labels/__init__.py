"""The one reader of label lists: MOS lists, JND pairs and ordered pairs (layer 0).

`sesqa train` (``--mos``, ``--valid-mos``, ``--jnd``) and `sesqa evaluate` (``--labels``,
``--pairs``; its predictions and strength lists use the same table reader) read through here, so
separators, system names, audio lookup and range checks behave the same everywhere.

- `formats`: the accepted formats, declared as data (docs/train.md, "Label files: MOS, JND and
  pairs", describes them for users);
- `table`: text -> rows -> format -> checked values (separators, comments, errors with file:line);
- `read`: the items (`MosItem`, `JndItem`, `OrderedPair`), audio lookup, the BVCC system rule.
"""

from .formats import JND_FORMATS, MOS_FORMATS, MOS_RANGE, PAIR_FORMATS, PATH_COLUMNS
from .read import (
    JndItem,
    MosItem,
    OrderedPair,
    audio_candidates,
    drop_missing,
    find_audio,
    normalise_path,
    read_jnd,
    read_mos,
    read_pairs,
    system_from_name,
)
from .table import Column, ListFormat, ListRows, read_list

__all__ = [
    "JND_FORMATS",
    "MOS_FORMATS",
    "MOS_RANGE",
    "PAIR_FORMATS",
    "PATH_COLUMNS",
    "Column",
    "JndItem",
    "ListFormat",
    "ListRows",
    "MosItem",
    "OrderedPair",
    "audio_candidates",
    "drop_missing",
    "find_audio",
    "normalise_path",
    "read_jnd",
    "read_list",
    "read_mos",
    "read_pairs",
    "system_from_name",
]
