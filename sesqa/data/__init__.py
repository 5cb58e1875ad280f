"""The data that ships inside the package (this folder), and portable names for files in it.

Shard records name source files; a file of the bundled corpus is written as
``bundled:<path inside sesqa/data>`` so that records (and so shards) are identical byte for
byte wherever the repository is cloned.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
BUNDLED_SPEECH_DIR = DATA_DIR / "speech"
BUNDLED_NOISE_DIR = DATA_DIR / "noise"
PREFIX = "bundled:"

FULL_BAND_LANGUAGES = ("ca", "da", "fr", "ga", "lt", "nn", "ro", "ru", "uk")
"""Bundled speech folders recorded at 22.05 kHz or more (ca at 22.05 kHz, the rest at 44.1 or
48 kHz). The others (sv, nds, pt, nl, it, es, fi at 8 kHz; sr as low-bitrate Vorbis) carry band-limiting or coding artefacts, so they are left out of
the default clean corpus: a model must not learn them as clean (data/README.md)."""


def default_clean_roots() -> tuple[Path, ...]:
    """The bundled speech that `sesqa generate` uses as clean when given no --clean."""
    return tuple(BUNDLED_SPEECH_DIR / lang for lang in FULL_BAND_LANGUAGES)


def portable_path(path: str | Path) -> str:
    """The name under which a source file is recorded: bundled files relative, others absolute."""
    resolved = Path(path).resolve()
    try:
        return PREFIX + resolved.relative_to(DATA_DIR).as_posix()
    except ValueError:
        return str(resolved)


def resolve_path(name: str) -> Path:
    """Inverse of `portable_path`: the file on this machine."""
    if name.startswith(PREFIX):
        return DATA_DIR / name[len(PREFIX):]
    return Path(name)
