"""Clean-speech corpora assembled reproducibly from sources reachable here: one recipe per source.

Each source module (`speechocean762`, `librispeech_resemblyzer`, `vctk_p239`, `fillets_ng`,
`tuxpaint_stamps`, `ktuberling`; `vctk_diffwave_sr`, `vctk_nuwave2`) says where its files come
from (a pinned GitHub commit or a pinned Debian package), which of them are speech, whose voice and
which language each is, and its licence (`recipe.Recipe`). `build.build_corpus` copies the files
byte for byte and measures them; `manifest` reads, writes and verifies the manifest every consumer
reads alike. `CORPUS_SETS` names the corpora built from them: `speech`, the sesqa running-speech
corpus (`SPEECH_RECIPES`, checked against `manifest.COMMITTED_MANIFEST`; docs/recipe.md, "Clean
speech"), and `fullband`, 13 held-out full-band VCTK clips, all in the test split
(`FULLBAND_RECIPES`, `manifest.FULLBAND_MANIFEST`; docs/sweep.md, "Full-band speech").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from . import (
    fillets_ng,
    ktuberling,
    librispeech_resemblyzer,
    speechocean762,
    tuxpaint_stamps,
    vctk_diffwave_sr,
    vctk_nuwave2,
    vctk_p239,
)
from .manifest import COMMITTED_MANIFEST, FULLBAND_MANIFEST, CorpusEntry, read_corpus_manifest, verify_corpus, write_corpus_manifest
from .recipe import Places, Recipe
from .splits import DEFAULT_RATIOS

SPEECH_RECIPES: tuple[Recipe, ...] = tuple(
    m.RECIPE for m in (speechocean762, librispeech_resemblyzer, vctk_p239, fillets_ng, tuxpaint_stamps, ktuberling)
)
"""The sources of the sesqa running-speech corpus, in build order."""

FULLBAND_RECIPES: tuple[Recipe, ...] = (vctk_diffwave_sr.RECIPE, vctk_nuwave2.RECIPE)
"""The sources of the held-out full-band check set (docs/sweep.md), in build order."""


@dataclass(frozen=True)
class CorpusSet:
    """A corpus that `sesqa corpus build/check --set NAME` makes: its sources, manifest and splits."""

    recipes: tuple[Recipe, ...]
    manifest: Path
    """The committed manifest its builds are compared with."""
    ratios: tuple[float, float, float]
    """train, valid, test shares of its speakers (`splits.assign_speaker_splits`)."""


CORPUS_SETS: Mapping[str, CorpusSet] = MappingProxyType({
    "speech": CorpusSet(SPEECH_RECIPES, COMMITTED_MANIFEST, DEFAULT_RATIOS),
    "fullband": CorpusSet(FULLBAND_RECIPES, FULLBAND_MANIFEST, (0.0, 0.0, 1.0)),  # held out: every clip in test
})
"""The corpora by name; `speech` is the default of the CLI."""

__all__ = [
    "COMMITTED_MANIFEST",
    "CORPUS_SETS",
    "FULLBAND_MANIFEST",
    "FULLBAND_RECIPES",
    "SPEECH_RECIPES",
    "CorpusEntry",
    "CorpusSet",
    "Places",
    "Recipe",
    "read_corpus_manifest",
    "verify_corpus",
    "write_corpus_manifest",
]
