"""`sesqa report` in a real browser: headless Chromium loads the page, runs its script (the table
sort), and draws it. Skipped, saying why, only when no Chromium-family browser is installed
(.ci/run installs Debian's chromium-headless-shell when it can)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from sesqa.data import BUNDLED_SPEECH_DIR

from .helpers import run_cli

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
CLIPS = (BUNDLED_SPEECH_DIR / "ca" / "ca_01.flac", BUNDLED_SPEECH_DIR / "fr" / "fr_01.flac")
TIMEOUT_S = 180


def _browser() -> str | None:
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    return None


pytestmark = pytest.mark.skipif(
    _browser() is None, reason=f"no headless browser on PATH (looked for {', '.join(BROWSERS)}); install chromium-headless-shell"
)


class _Dom(HTMLParser):
    """Rows of the file table (their score sort keys), sort state of the headers, players and figures."""

    def __init__(self) -> None:
        super().__init__()
        self.scores: list[str] = []
        self.sorted_by: dict[str, str] = {}
        self.audio = 0
        self.figures: list[str] = []
        self._table = self._body = False
        self._cell = -1
        self._header: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = a.get("id") == "files"
        elif self._table and tag == "tbody":
            self._body = True
        elif self._table and tag == "th":
            self._header = a
        elif self._body and tag == "tr":
            self._cell = -1
        elif self._body and tag == "td":
            self._cell += 1
            if self._cell == 1:  # the score column
                self.scores.append(a.get("data-sort", ""))
        elif tag == "audio":
            self.audio += 1
        elif tag == "img" and "figure" in a.get("class", ""):
            self.figures.append(a.get("src", ""))

    def handle_data(self, data: str) -> None:
        if self._header is not None and data.strip():
            if "data-dir" in self._header:
                self.sorted_by[data.strip()] = self._header["data-dir"]
            self._header = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = self._body = False
        elif tag == "th":
            self._header = None


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Run the browser headless (root needs --no-sandbox; no GPU here), failing with its stderr."""
    browser = _browser()
    assert browser is not None
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


def _dom(page: Path, fragment: str, profile: Path) -> _Dom:
    dom = _Dom()
    dom.feed(_chromium("--dump-dom", page.as_uri() + fragment, profile=profile).stdout)
    dom.close()
    return dom


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, ckpt: Path) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    res = run_cli("report", *CLIPS, "--model", ckpt, "--out", out, "--quiet")
    assert res.exit_code == 0, res.output
    return out


def test_the_page_runs_in_a_browser(report: Path, tmp_path: Path) -> None:
    ascending = _dom(report, "#sort=score", tmp_path / "profile")
    assert len(ascending.scores) == 2 and ascending.audio == 2 and len(ascending.figures) == 2
    assert all(src.startswith("data:image/png;base64,") for src in ascending.figures)
    # the script ran: the link's fragment sorted the table and marked the column
    assert ascending.sorted_by == {"score": "asc"}
    values = [float(s) for s in ascending.scores]
    assert values == sorted(values) and values[0] != values[1]
    descending = _dom(report, "#sort=score-desc", tmp_path / "profile")
    assert descending.sorted_by == {"score": "desc"} and descending.scores == ascending.scores[::-1]


def test_the_page_is_drawn(report: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri(), profile=tmp_path / "profile")
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1200)
    assert pixels.std() > 0.1, "the screenshot is (nearly) one colour"
    assert (pixels.min(axis=2) < 0.9).mean() > 0.05, "the screenshot is almost all white: the figures were not drawn"
