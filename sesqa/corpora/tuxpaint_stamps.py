"""Tux Paint stamps: the spoken description of each stamp, in 12 languages, Ogg Vorbis mostly at 44.1 kHz
(Debian tuxpaint-stamps-default).

`<stamp>_desc_<lang>.ogg` is the description in `<lang>`, `<stamp>_desc.ogg` the English one; each
language was recorded by its own volunteer(s), so a language is one speaker here. The stamps'
other sounds (`<stamp>.ogg`: animal cries, vehicles, effects) are not speech and are left out.
"""

from __future__ import annotations

import re

from .origins import DebPackage
from .recipe import GPL2_PATH, Recipe, Voice

PACKAGE = DebPackage("tuxpaint-stamps-default", "2022.06.04-1", "6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34")
_ROOT = "usr/share/tuxpaint/stamps/"
_FILE = re.compile(re.escape(_ROOT) + r"(?:[^/]+/)+[^/]+_desc(?:_([a-z]{2}))?\.ogg")


def voice_of(path: str) -> Voice | None:
    m = _FILE.fullmatch(path)
    if not m:
        return None
    language = m.group(1) or "en"
    return Voice(language, language)


RECIPE = Recipe(
    name="tuxpaint_stamps",
    title="Tux Paint stamps, spoken descriptions",
    origin=PACKAGE,
    strip=_ROOT,
    voice_of=voice_of,
    notice="""\
Tux Paint stamps (tuxpaint-stamps 2022.06.04), the spoken descriptions of the stamps, recorded by Tux
Paint's volunteer translators, from the Debian package tuxpaint-stamps-default.
Upstream: https://tuxpaint.org/ (http://sourceforge.net/projects/tuxpaint); copyright 2002-2022 Bill
Kendrick and contributors. Licence: GPL-2 or later (Debian's copyright file below; GPL-2 text below).
Files copied byte for byte (Ogg Vorbis).""",
    licence_members=(f"usr/share/doc/{PACKAGE.package}/copyright",),
    licence_files=(GPL2_PATH,),
)
