"""VCTK speaker p239: 503 read English sentences at 48 kHz, full band, ODC-By 1.0.

Kept in the `ctc` branch of a course repository, `data/VCTK-Corpus/wav48/p239/*.wav` (VCTK 0.80);
no other VCTK speaker was found under a free licence here.
"""

from __future__ import annotations

import re

from .origins import GitSnapshot
from .recipe import Recipe, Voice

_FILE = re.compile(r"data/VCTK-Corpus/wav48/(p\d+)/p\d+_\d+\.wav")


def voice_of(path: str) -> Voice | None:
    m = _FILE.fullmatch(path)
    return Voice(m.group(1), "en") if m else None


RECIPE = Recipe(
    name="vctk_p239",
    title="CSTR VCTK Corpus 0.80, speaker p239",
    origin=GitSnapshot("avgaydashenko/speech-recognition-hw", "262ad0f14fd7ac974fdc1c9533810896c24c24e1", branch="ctc"),
    strip="data/VCTK-Corpus/wav48/",
    voice_of=voice_of,
    notice="""\
CSTR VCTK Corpus, version 0.80 (2012), The Centre for Speech Technology Research, University of
Edinburgh; Christophe Veaux, Junichi Yamagishi, Kirsten MacDonald. Speaker p239 (female, 22, English,
SW England): read newspaper sentences, the rainbow passage and an elicitation paragraph, recorded at
96 kHz / 24 bit in a hemi-anechoic chamber, stored at 48 kHz / 16 bit WAV; copied byte for byte.
Licence: Open Data Commons Attribution License (ODC-By) v1.0 (http://opendatacommons.org/licenses/by/1.0/).
Notice: Contains information from the CSTR VCTK Corpus, which is made available under the ODC
Attribution License.""",
    licence_members=("data/VCTK-Corpus/COPYING", "data/VCTK-Corpus/README", "data/VCTK-Corpus/speaker-info.txt"),
)
