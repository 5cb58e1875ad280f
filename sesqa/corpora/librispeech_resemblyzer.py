"""LibriSpeech excerpts shipped with Resemblyzer: 251 train-clean-100 readers (one utterance each) and
10 test-other readers (10 each), FLAC at 16 kHz, CC BY 4.0.

The speaker is the LibriVox reader id that starts each file name (`<reader>-<chapter>-<n>.flac`).
Resemblyzer's other audio (an interview, the "donald_trump" real and fake clips) is not LibriSpeech
and is left out.
"""

from __future__ import annotations

import re

from .origins import GitSnapshot
from .recipe import Recipe, Voice

_FILE = re.compile(r"audio_data/librispeech_(?:train-clean-100|test-other)/(?:\d+/)?(\d+)-\d+-\d+\.flac")


def voice_of(path: str) -> Voice | None:
    m = _FILE.fullmatch(path)
    return Voice(m.group(1), "en") if m else None


RECIPE = Recipe(
    name="librispeech_resemblyzer",
    title="LibriSpeech excerpts (Resemblyzer's audio_data)",
    origin=GitSnapshot("resemble-ai/Resemblyzer", "15d828edebe06bc72b9cabc8ef8ca5ab2cb457ce"),
    strip="audio_data/",
    voice_of=voice_of,
    notice="""\
LibriSpeech ASR corpus (c) 2014 by Vassil Panayotov (V. Panayotov, G. Chen, D. Povey, S. Khudanpur,
"LibriSpeech: an ASR corpus based on public domain audio books", ICASSP 2015; http://www.openslr.org/12),
read English from LibriVox audiobooks, 16 kHz FLAC. The excerpts used are those Resemble AI ships in the
audio_data folder of Resemblyzer (https://github.com/resemble-ai/Resemblyzer): one utterance of each of
251 train-clean-100 readers and ten utterances of each of 10 test-other readers, copied byte for byte.
Licence: Creative Commons Attribution 4.0 International (http://creativecommons.org/licenses/by/4.0/),
as LibriSpeech's LICENSE.TXT below says. Resemblyzer's code is Apache-2.0 and is not used.""",
    licence_members=("audio_data/README.md", "audio_data/librispeech_test-other/LICENSE.TXT"),
)
