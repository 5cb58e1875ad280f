"""Eight CSTR VCTK 0.92 recordings at 48 kHz (16-bit PCM), CC BY 4.0: the clean originals in the
sample folder of yoyololicon/diffwave-sr, one utterance each of speakers p360, p361, p362, p363,
p364, p374, p376 and s5.

Part of the held-out full-band check set (`FULLBAND_RECIPES`, docs/sweep.md): clean speech that
carries sound up to 24 kHz, of VCTK speakers outside the training corpus (whose only VCTK speaker
is p239). Only `docs/samples/origin/` holds originals; the other folders hold the repository's
super-resolved versions of them, never taken.
"""

from __future__ import annotations

import re

from .origins import GitSnapshot
from .recipe import Recipe, Voice

_FILE = re.compile(r"docs/samples/origin/([ps]\d+)_\d{3}_mic1\.wav")

VCTK_CC_BY_NOTICE = """\
These clips are recordings of the CSTR VCTK Corpus (version 0.92): Junichi Yamagishi, Christophe
Veaux, Kirsten MacDonald, The Centre for Speech Technology Research, University of Edinburgh,
https://doi.org/10.7488/ds/2645, licensed under the Creative Commons Attribution 4.0 International
licence (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/)."""
"""The attribution CC BY 4.0 asks for, shared by the full-band sources."""


def voice_of(path: str) -> Voice | None:
    m = _FILE.fullmatch(path)
    return Voice(m.group(1), "en") if m else None


RECIPE = Recipe(
    name="vctk_diffwave_sr",
    title="CSTR VCTK Corpus 0.92, 8 full-band clips (diffwave-sr's samples)",
    origin=GitSnapshot("yoyololicon/diffwave-sr", "8e60d4538e305e972ff59ea5223ca3b23612b4fe"),
    strip="docs/samples/origin/",
    voice_of=voice_of,
    notice=f"""\
{VCTK_CC_BY_NOTICE}
Copied unchanged (48 kHz, 16-bit PCM WAV) from the sample folder docs/samples/origin of
github.com/yoyololicon/diffwave-sr, whose MIT licence covers its code, not these recordings.""",
)
