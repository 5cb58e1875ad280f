"""KTuberling words: every item name of KDE's "potato guy" game spoken by one speaker per language, in
the nine languages recorded at 22.05 kHz or more (Debian ktuberling-data), the words the bundled
corpus and the default model use.

Most words last under a second and are skipped as too short; the build keeps the longer ones byte
for byte. The languages reserved for independent evaluation (en, de, el, sl, gl, wa) are never read.
"""

from __future__ import annotations

import re

from .origins import DebPackage
from .recipe import GPL2_PATH, Recipe, Voice

PACKAGE = DebPackage("ktuberling-data", "4:22.12.3-1", "fba44c875bfa31ea488dadd9263e87a4dcaea0bd47d28817f6c0dc6d2af970ed")
LANGUAGES = ("ca", "da", "fr", "ga", "lt", "nn", "ro", "ru", "uk")
"""sesqa.data.FULL_BAND_LANGUAGES; the Serbian copies and the 8 kHz languages are left out as there."""
RESERVED = frozenset({"en", "de", "el", "sl", "gl", "wa"})
_ROOT = "usr/share/ktuberling/sounds/"
_FILE = re.compile(re.escape(_ROOT) + r"([a-z]+)/[^/]+\.(?:ogg|wav|opus|flac)")

if RESERVED & set(LANGUAGES):
    raise RuntimeError(f"a reserved ktuberling language is in the corpus: {sorted(RESERVED & set(LANGUAGES))}")


def voice_of(path: str) -> Voice | None:
    m = _FILE.fullmatch(path)
    if not m or m.group(1) not in LANGUAGES:
        return None
    return Voice(m.group(1), m.group(1))


RECIPE = Recipe(
    name="ktuberling",
    title="KTuberling words",
    origin=PACKAGE,
    strip=_ROOT,
    voice_of=voice_of,
    notice="""\
KTuberling (KDE Games) word recordings: the name of every item of the game spoken by one native
speaker per language, from the Debian package ktuberling-data. Upstream: https://apps.kde.org/ktuberling/
(https://invent.kde.org/games/ktuberling); copyright 2007-2017 Albert Astals Cid, 2000 KDE Team,
2000-2002 Meni Livne, 2010 Rosetta Contributors and Canonical Ltd, 1999-2006 Eric Bischoff.
Licence: GPL-2 or later (Debian's copyright file below; GPL-2 text below). Languages used: ca, da, fr,
ga, lt, nn, ro, ru, uk; en, de, el, sl, gl and wa are reserved for evaluation and never read.
Files copied byte for byte.""",
    licence_members=(f"usr/share/doc/{PACKAGE.package}/copyright",),
    licence_files=(GPL2_PATH,),
)
