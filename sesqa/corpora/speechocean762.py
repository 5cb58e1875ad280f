"""speechocean762: 5,000 read English sentences by 250 Mandarin-L1 speakers, children and adults, 16 kHz.

Files `WAVE/SPEAKER<id>/<utterance>.WAV` of the GitHub repository; the speaker is the folder's id.
"""

from __future__ import annotations

import re

from .origins import GitSnapshot
from .recipe import Recipe, Voice

_FILE = re.compile(r"WAVE/SPEAKER(\d+)/[^/]+\.WAV")


def voice_of(path: str) -> Voice | None:
    m = _FILE.fullmatch(path)
    return Voice(m.group(1), "en") if m else None


RECIPE = Recipe(
    name="speechocean762",
    title="speechocean762 (read English, Mandarin-L1 speakers)",
    origin=GitSnapshot("jimbozhang/speechocean762", "613968e3b0b789fc33936fb5eba1973176ba7d11"),
    strip="WAVE/",
    voice_of=voice_of,
    notice="""\
speechocean762: a non-native English corpus for pronunciation scoring (Junbo Zhang, Zhiwen Zhang,
Yongqing Wang, Zhiyong Yan, Qiong Song, Yukai Huang, Ke Li, Daniel Povey, Yujun Wang; Interspeech 2021),
released by Speechocean and Xiaomi. 5,000 English sentences read by 250 speakers whose mother tongue is
Mandarin, half children, half adults; 16 kHz WAV.
Licence (the corpus README): "It is available for free download for both commercial and non-commercial
purposes." Cite: J. Zhang et al., "speechocean762: An Open-Source Non-native English Speech Corpus For
Pronunciation Assessment", Proc. Interspeech 2021.
Used here: the WAV files, copied byte for byte; the scores and transcripts are not used.""",
    licence_members=("README.md",),
)
