"""Five CSTR VCTK 0.92 recordings at 48 kHz (32-bit float), CC BY 4.0: the full-band originals in
the sample folders of maum-ai/nuwave2 that last at least 2 s.

Part of the held-out full-band check set (`FULLBAND_RECIPES`, docs/sweep.md). nuwave2's page says
only that its samples come from the 8 VCTK speakers its model never saw, so every clip is one
speaker here, `vctk-unseen`. Its seven other `original_48k` clips last 1.3 to 1.9 s and are left
out, as are the band-limited inputs and the models' outputs beside them.
"""

from __future__ import annotations

from .origins import GitSnapshot
from .recipe import Recipe, Voice
from .vctk_diffwave_sr import VCTK_CC_BY_NOTICE

SPEAKER = "vctk-unseen"
_ROOT = "docs/samples/"
CLIPS = frozenset(
    f"{_ROOT}{rate}/original_48k/sample_{n}.wav" for rate, n in (("8k", 0), ("8k", 2), ("12k", 2), ("24k", 0), ("24k", 1))
)
"""The origin paths taken: the original_48k clips of at least 2 s."""


def voice_of(path: str) -> Voice | None:
    return Voice(SPEAKER, "en") if path in CLIPS else None


RECIPE = Recipe(
    name="vctk_nuwave2",
    title="CSTR VCTK Corpus 0.92, 5 full-band clips (nuwave2's samples)",
    origin=GitSnapshot("maum-ai/nuwave2", "60ff294fb4c0a623e51c506018e2de210c81b2e8"),
    strip=_ROOT,
    voice_of=voice_of,
    notice=f"""\
{VCTK_CC_BY_NOTICE}
Copied unchanged (48 kHz, 32-bit float WAV) from the sample folders docs/samples/*/original_48k of
github.com/maum-ai/nuwave2, whose BSD-3-Clause licence covers its code, not these recordings.""",
)
