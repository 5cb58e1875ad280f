"""Fish Fillets NG, Czech dialogue: the two fish and the other characters of the game, Ogg Vorbis at
22.05 kHz (Debian fillets-ng-data-cs).

A file `<level>/cs/<scene>-<who>-<line>.ogg` (or `<who>-<line>.ogg`, `<line>-<who>.ogg`) is
spoken by `<who>`: `m` the small fish, `v` the big fish; every other character (some 30 short
parts) is one speaker here, `other_voices`, since the credits do not say which actor voiced which.
Some levels (fdto) are at 44.1 kHz.
"""

from __future__ import annotations

import re

from .origins import DebPackage
from .recipe import GPL2_PATH, Recipe, Voice

PACKAGE = DebPackage("fillets-ng-data-cs", "1.0.1-1.1", "3ecef99b9456f1c80c9625c6f2418642b52d58e7167a46bad7a412db17991b14")
_ROOT = "usr/share/games/fillets-ng/sound/"
_FILE = re.compile(re.escape(_ROOT) + r"(?:[^/]+/)+cs/([^/]+)\.ogg")
_FISH = {"m": "small_fish", "v": "big_fish"}


def voice_of(path: str) -> Voice | None:
    m = _FILE.fullmatch(path)
    if not m:
        return None
    parts = m.group(1).split("-")
    if len(parts) >= 3:
        who = parts[1]
    else:  # `<who>-<line>`, or `<line>-<who>` in the fdto level
        who = next((p for p in parts if p in _FISH), parts[0])
    return Voice(_FISH.get(who, "other_voices"), "cs")


RECIPE = Recipe(
    name="fillets_ng",
    title="Fish Fillets NG, Czech voices",
    origin=PACKAGE,
    strip=_ROOT,
    voice_of=voice_of,
    notice="""\
Fish Fillets - Next Generation, Czech speech pack (the dialogue of the puzzle game's characters, voiced
for ALTAR interactive's original "Fish Fillets"), from the Debian package fillets-ng-data-cs.
Upstream: http://fillets.sourceforge.net; authors Ivo Danihelka, Pavel Danihelka, ALTAR interactive and
others (Debian copyright file below). Licence: GPL-2 (Debian's copyright file below; GPL-2 text below).
Files copied byte for byte (Ogg Vorbis, mostly 22.05 kHz mono).""",
    licence_members=(f"usr/share/doc/{PACKAGE.package}/copyright",),
    licence_files=(GPL2_PATH,),
)
