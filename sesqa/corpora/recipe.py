"""What a corpus source is, as data: where its files come from, which of them are speech, whose voice
and which language each one is, and its licence.

Every source module (`speechocean762`, `vctk_p239`, ...) defines one `Recipe`; the build reads
them all alike (`build.py`). A recipe never re-encodes: a file of the corpus is a byte-for-byte
copy of the source's file, at `<root>/<recipe.name>/<path in the source less recipe.strip>`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .origins import DebPackage, GitSnapshot, OriginError

log = logging.getLogger(__name__)

GPL2_PATH = Path("/usr/share/common-licenses/GPL-2")
"""The GPL-2 text every Debian system carries (package base-files)."""


@dataclass(frozen=True)
class Voice:
    """Who speaks in one file, and in which language."""

    speaker: str
    """Unique within the source (the corpus prefixes the source's name)."""
    language: str
    """ISO 639-1 code."""


@dataclass(frozen=True)
class Places:
    """Where a build finds the sources' origins."""

    mirrors: Path | None
    """Folder holding the git directories of the GitHub sources (`<owner>+<name>/repo` or `<owner>+<name>`)."""
    debs: Path
    """Folder holding (or receiving, by `apt-get download`) the Debian packages."""
    download: bool = True
    """Fetch a missing .deb with apt-get download (False: fail naming it)."""


@dataclass(frozen=True)
class Recipe:
    """One source of the corpus."""

    name: str
    """Folder under the corpus root and prefix of its speakers: lower case, digits and '_'."""
    title: str
    origin: GitSnapshot | DebPackage
    strip: str
    """Leading folder of the origin's paths that the corpus drops (ends with '/', or '')."""
    voice_of: Callable[[str], Voice | None]
    """The voice of an origin path under `strip`; None: not part of the corpus (not speech, held out, not audio)."""
    notice: str
    """What the source is, where it comes from, its licence and the attribution it asks for."""
    licence_members: tuple[str, ...] = ()
    """Origin paths whose text is copied, whole, below the notice into `licences/<name>.txt`."""
    licence_files: tuple[Path, ...] = field(default_factory=tuple)
    """Files of this system likewise copied (the GPL-2 text of Debian packages)."""

    def __post_init__(self) -> None:
        if not self.name or not all(c.islower() or c.isdigit() or c == "_" for c in self.name):
            raise ValueError(f"name must be lower case letters, digits and '_', got {self.name!r}")
        if self.strip and not self.strip.endswith("/"):
            raise ValueError(f"strip must end with '/' (a folder), got {self.strip!r}")

    def corpus_path(self, origin_path: str) -> str:
        """Where an origin file lies in the corpus, relative to its root."""
        return f"{self.name}/{origin_path.removeprefix(self.strip)}"

    def selects(self, origin_path: str) -> bool:
        return origin_path.startswith(self.strip) and self.voice_of(origin_path) is not None

    def read(self, places: Places) -> Iterator[tuple[str, bytes]]:
        """(origin path, bytes) of every selected file and licence member, by path."""
        wanted = set(self.licence_members)

        def keep(path: str) -> bool:
            return path in wanted or self.selects(path)

        if isinstance(self.origin, GitSnapshot):
            if places.mirrors is None:
                raise OriginError(f"{self.name} comes from GitHub {self.origin.repo}: give the folder of its git directory (--mirrors)")
            yield from self.origin.files(places.mirrors, keep)
        else:
            yield from self.origin.files(places.debs, keep, places.download)

    def licence_text(self, members: dict[str, bytes]) -> str:
        """The notice, then each licence member and licence file, each under a heading."""
        parts = [self.notice.strip(), f"Origin: {self.origin.describe()}"]
        for name in self.licence_members:
            data = members.get(name)
            text = data.decode("utf-8", errors="replace") if data is not None else "(missing from the origin)"
            parts.append(f"===== {name} (from the origin) =====\n{text.strip()}")
        for path in self.licence_files:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as e:
                log.warning("%s: licence file %s unreadable (%s); the notice names the licence", self.name, path, e)
                text = f"(not found on this system: {path})"
            parts.append(f"===== {path} =====\n{text.strip()}")
        return "\n\n".join(parts) + "\n"
