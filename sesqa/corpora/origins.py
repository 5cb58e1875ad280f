"""Where a source's files come from: a pinned commit of a GitHub repository, or a pinned Debian package.

Both are read without unpacking anything else to disk: a repository through `git` on its git
directory (a bare clone or a mirror; the commit is pinned, so any clone that holds it gives the
same bytes), a `.deb` by streaming `dpkg-deb --fsys-tarfile` (the package is fetched with
`apt-get download` when absent, and its SHA-256 checked). Each yields `(path, bytes)` for the
members a source asks for, one at a time, in sorted order.
"""

from __future__ import annotations

import logging
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .manifest import sha256_file

log = logging.getLogger(__name__)


class OriginError(RuntimeError):
    """A source's repository or package cannot be found or read; the message says what to do."""


def _run(args: list[str], what: str) -> bytes:
    try:
        done = subprocess.run(args, capture_output=True, check=False)
    except OSError as e:
        raise OriginError(f"{what}: cannot run {args[0]} ({e})") from e
    if done.returncode != 0:
        raise OriginError(f"{what}: {' '.join(args[:4])} ... failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


@dataclass(frozen=True)
class GitSnapshot:
    """Files of one commit of a GitHub repository, read from a local git directory."""

    repo: str
    """owner/name on GitHub."""
    commit: str
    """40 hex digits: the files are read at this commit, whatever the branches say now."""
    branch: str = ""
    """The branch that holds the commit when it is not the default one (for `git clone --branch`)."""

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}.git"

    def describe(self) -> str:
        on = f" (branch {self.branch})" if self.branch else ""
        return f"{self.url} at commit {self.commit}{on}"

    def git_dir(self, mirrors: Path) -> Path:
        """The git directory of the repository under `mirrors`: `<owner>+<name>/repo` (the snapshot
        layout), `<owner>+<name>` (a bare clone), or `<owner>+<name>/.git` (a working clone)."""
        base = Path(mirrors) / self.repo.replace("/", "+")
        for candidate in (base / "repo", base, base / ".git"):
            if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
                return candidate
        raise OriginError(
            f"no git directory of {self.repo} under {mirrors}: expected {base}/repo or {base} "
            f"(e.g. git clone --bare {self.url} {base})"
        )

    def files(self, mirrors: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of every blob at the pinned commit for which `wanted(path)` holds, by path."""
        git_dir = self.git_dir(mirrors)
        git = ["git", f"--git-dir={git_dir}"]
        what = f"{self.repo} ({git_dir})"
        try:
            _run([*git, "cat-file", "-e", f"{self.commit}^{{commit}}"], what)
        except OriginError:
            raise OriginError(f"{what} lacks commit {self.commit}; fetch it again ({self.describe()})") from None
        listing = _run([*git, "ls-tree", "-r", "-z", "--full-tree", self.commit], what)
        blobs: list[tuple[str, str]] = []
        for item in listing.split(b"\0"):
            if not item:
                continue
            meta, _, name = item.partition(b"\t")
            mode, kind, sha = meta.decode().split()
            path = name.decode("utf-8", errors="surrogateescape")
            if kind == "blob" and mode != "120000" and wanted(path):
                blobs.append((path, sha))
        blobs.sort()
        if not blobs:
            return
        proc = subprocess.Popen([*git, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            for path, sha in blobs:
                proc.stdin.write(f"{sha}\n".encode())
                proc.stdin.flush()
                header = proc.stdout.readline().split()
                if len(header) != 3 or header[1] != b"blob":
                    raise OriginError(f"{what}: cannot read {path} ({b' '.join(header).decode(errors='replace')})")
                data = proc.stdout.read(int(header[2]))
                proc.stdout.read(1)  # the newline after each object
                yield path, data
        finally:  # EOF on stdin ends git; a closed stdout ends it if the caller stopped early
            proc.stdin.close()
            proc.stdout.close()
            proc.wait()


@dataclass(frozen=True)
class DebPackage:
    """Files of one pinned Debian package (architecture `all`)."""

    package: str
    version: str
    sha256: str
    """Of the .deb file."""

    @property
    def filename(self) -> str:
        return f"{self.package}_{self.version.replace(':', '%3a')}_all.deb"  # apt-get download escapes the epoch's colon

    def describe(self) -> str:
        return f"Debian 12 (bookworm) package {self.package} {self.version} (.deb SHA-256 {self.sha256})"

    def ensure(self, debs: Path, download: bool = True) -> Path:
        """The .deb in `debs`, fetched with `apt-get download` when absent; its SHA-256 checked."""
        path = Path(debs) / self.filename
        if not path.exists():
            if not download:
                raise OriginError(f"{path} is missing (fetch it with: apt-get download {self.package}={self.version})")
            Path(debs).mkdir(parents=True, exist_ok=True)
            log.info("apt-get download %s=%s", self.package, self.version)
            try:
                done = subprocess.run(["apt-get", "download", f"{self.package}={self.version}"], cwd=debs, capture_output=True, text=True)
            except OSError as e:
                raise OriginError(f"cannot run apt-get to fetch {self.package}={self.version} ({e}); put {self.filename} into {debs} by hand") from e
            if done.returncode != 0 or not path.exists():
                raise OriginError(
                    f"could not download {self.package}={self.version} (run 'apt-get update' first; if the version left "
                    f"the archive, put {self.filename} into {debs} by hand): {done.stderr.strip()}"
                )
        digest = sha256_file(path)
        if digest != self.sha256:
            raise OriginError(f"{path}: SHA-256 {digest} differs from the pinned {self.sha256}")
        return path

    def files(self, debs: Path, wanted: Callable[[str], bool], download: bool = True) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of the package's regular files for which `wanted(path)` holds (paths
        without the leading './'), by path. Only those members are read into memory."""
        deb = self.ensure(debs, download)
        found: list[tuple[str, bytes]] = []
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for member in tar:
                    name = member.name.removeprefix("./")
                    if member.isfile() and wanted(name):
                        fobj = tar.extractfile(member)
                        assert fobj is not None
                        found.append((name, fobj.read()))
            while proc.stdout.read(1 << 20):  # drain the tar padding so dpkg-deb exits cleanly
                pass
        except BaseException:
            proc.kill()
            raise
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            raise OriginError(f"dpkg-deb --fsys-tarfile {deb} failed (exit {code})")
        yield from sorted(found)
