"""Clean-speech corpora assembled reproducibly from sources reachable here: one recipe per source.

Each source module (`speechocean762`, `librispeech_resemblyzer`, `vctk_p239`, `fillets_ng`,
`tuxpaint_stamps`, `ktuberling`) says where its files come from (a pinned GitHub commit or a pinned
Debian package), which of them are speech, whose voice and which language each is, and its licence
(`recipe.Recipe`). `build.build_corpus` copies the files byte for byte and measures them;
`manifest` reads, writes and verifies the manifest every consumer reads alike. The sesqa
running-speech corpus is `SPEECH_RECIPES`, checked against `manifest.COMMITTED_MANIFEST`
(docs/recipe.md, "Clean speech").
"""

from __future__ import annotations

from . import fillets_ng, ktuberling, librispeech_resemblyzer, speechocean762, tuxpaint_stamps, vctk_p239
from .manifest import COMMITTED_MANIFEST, CorpusEntry, read_corpus_manifest, verify_corpus, write_corpus_manifest
from .recipe import Places, Recipe

SPEECH_RECIPES: tuple[Recipe, ...] = tuple(
    m.RECIPE for m in (speechocean762, librispeech_resemblyzer, vctk_p239, fillets_ng, tuxpaint_stamps, ktuberling)
)
"""The sources of the sesqa running-speech corpus, in build order."""

__all__ = [
    "COMMITTED_MANIFEST",
    "SPEECH_RECIPES",
    "CorpusEntry",
    "Places",
    "Recipe",
    "read_corpus_manifest",
    "verify_corpus",
    "write_corpus_manifest",
]
