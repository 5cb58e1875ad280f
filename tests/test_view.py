"""What people look at: `sesqa score --plot` (one figure per scored file) and `sesqa report` (one
HTML page), checked without a browser; tests/test_report_browser.py renders the page in one."""

from __future__ import annotations

import base64
import logging
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from sesqa.scoring.scorer import Scorer
from sesqa.view.figure import score_limits, top_types
from sesqa.view.spectrogram import spectrogram

from .helpers import SR, run_cli, speech_like, write

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_pixels(data: bytes) -> np.ndarray:
    """Decoded RGB(A) pixels in [0, 1] of PNG bytes (matplotlib reads PNG through Pillow)."""
    import io

    from matplotlib.image import imread

    assert data[:8] == PNG_SIGNATURE
    return imread(io.BytesIO(data), format="png")


def _inputs(root: Path) -> dict[str, Path]:
    """Two speech files with the same stem in two folders, a text file named .wav, digital silence."""
    notes = root / "in" / "notes.wav"
    notes.parent.mkdir(parents=True, exist_ok=True)
    notes.write_text("this is not audio\n" * 50)
    return {
        "a": write(root / "in" / "a" / "take.wav", 0.5 * speech_like(2.6, seed=1)),
        "b": write(root / "in" / "b" / "take.wav", 0.3 * speech_like(3.3, seed=2)),
        "notes": notes,
        "zeros": write(root / "in" / "zeros.wav", np.zeros(int(1.5 * SR), np.float32)),
    }


# --- score --plot ------------------------------------------------------------------------------


def test_plot_writes_one_png_per_scored_file_and_skips_the_rest(tmp_path: Path, ckpt: Path, caplog) -> None:
    files = _inputs(tmp_path)
    figures = tmp_path / "figures"
    with caplog.at_level(logging.WARNING, logger="sesqa.view.figure"):
        res = run_cli("score", files["a"], files["notes"], files["zeros"], files["b"], "--model", ckpt, "--plot", figures, "--quiet")
    assert res.exit_code == 0, res.output  # the batch went on past the unreadable file
    assert sorted(p.name for p in figures.iterdir()) == ["take-1.png", "take.png"]  # same stem, no collision
    for name in ("take.png", "take-1.png"):
        pixels = _png_pixels((figures / name).read_bytes())
        assert pixels.shape[:2] == (750, 1100)  # 11 x 7.5 in at 100 dpi
        assert pixels[..., :3].std() > 0.1 and (pixels[..., :3] < 0.9).mean() > 0.05  # drawn, not blank
    said = "\n".join(r.getMessage() for r in caplog.records)
    assert "no figure for" in said and "notes.wav" in said and "not readable as audio" in said
    assert "zeros.wav" in said and "digital silence" in said


def test_plot_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path, ckpt: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    good = write(tmp_path / "good.wav", 0.5 * speech_like(1.2))
    res = run_cli("score", good, "--model", ckpt, "--plot", blocker / "figures")
    assert res.exit_code == 2 and "cannot create the figures folder" in res.stderr


def test_figure_pieces(tmp_path: Path, ckpt: Path) -> None:
    # the score axis follows the data but stays within the 1-5 scale and shows two whole scores
    assert score_limits(np.array([3.1, 3.3])) == pytest.approx((2.2, 4.2))
    assert score_limits(np.array([1.05, 1.2])) == pytest.approx((1.0, 3.0))
    assert score_limits(np.array([4.9])) == pytest.approx((3.0, 5.0))
    assert score_limits(np.array([1.0, 5.0])) == (1.0, 5.0)
    # bottom panel: the most probable types over the speech frames, never "clean"
    result = Scorer.from_checkpoint(ckpt).score(write(tmp_path / "x.wav", 0.5 * speech_like(2.2, seed=4)))
    drawn = top_types(result)
    assert [name for name, _, _ in drawn] == [d.name for d in result.degradations]
    assert all(p.shape == result.frame_scores.shape for _, p, _ in drawn)
    # the spectrogram of a 1 kHz tone at full scale peaks at 0 dBFS near 1 kHz, at the file's own rate
    rate = 16_000
    tone = write(tmp_path / "tone.wav", np.sin(2 * np.pi * 1000 * np.arange(2 * rate) / rate).astype(np.float32), rate)
    spec = spectrogram(tone, 2.0)
    assert spec.sample_rate == rate and spec.top_khz == 8.0
    peak_bin = int(np.nanargmax(np.nanmean(spec.db, axis=1)))
    assert abs(peak_bin * spec.top_khz / (spec.db.shape[0] - 1) - 1.0) < 0.05
    assert np.nanmax(spec.db) == pytest.approx(0.0, abs=1.5)
    assert spec.db.shape[1] * spec.column_s == pytest.approx(2.0, abs=0.05)


def test_a_long_file_gives_a_bounded_spectrogram(tmp_path: Path) -> None:
    path = write(tmp_path / "long.wav", 0.1 * np.random.default_rng(0).standard_normal(60 * 8000).astype(np.float32), 8000)
    spec = spectrogram(path, 60.0, max_columns=300)
    assert spec.db.shape[1] <= 300 and spec.db.shape[1] * spec.column_s == pytest.approx(60.0, abs=1.0)
    assert np.isfinite(spec.db).all()  # every column got windows: no blank stripe


# --- report, read as HTML --------------------------------------------------------------------


class _Page(HTMLParser):
    """The parts of a report page the tests look at: table rows, audio sources, figures."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.row_text: list[str] = []
        self.audio: list[str] = []
        self.figures: list[str] = []
        self._in_files = False
        self._in_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._in_files = a.get("id") == "files"
        elif tag == "tr" and self._in_files and not self._in_row:
            self._in_row = True
            self.rows.append(a)
            self.row_text.append("")
        elif tag == "audio":
            self.audio.append(a.get("src", ""))
        elif tag == "img" and "figure" in a.get("class", ""):
            self.figures.append(a.get("src", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in_row = False
        elif tag == "table":
            self._in_files = False

    def handle_data(self, data: str) -> None:
        if self._in_row:
            self.row_text[-1] += data


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    page.row_text = page.row_text[1:]  # the header row
    page.rows = page.rows[1:]
    return page


def test_report_lists_every_file_links_its_audio_and_goes_on_past_a_bad_one(tmp_path: Path, ckpt: Path) -> None:
    files = _inputs(tmp_path)
    out = tmp_path / "site" / "report.html"
    out.parent.mkdir()
    res = run_cli("report", files["a"], files["notes"], files["b"], "--model", ckpt, "--out", out)
    assert res.exit_code == 0, res.output
    assert "error: " in res.stderr and "notes.wav" in res.stderr
    page = _page(out)
    assert len(page.rows) == 3
    failed = [text for row, text in zip(page.rows, page.row_text, strict=True) if "failed" in row.get("class", "")]
    assert len(failed) == 1 and "notes.wav" in failed[0] and "not readable as audio" in failed[0]
    # one section per scored file: a figure (a real PNG) and a player whose relative link finds the file
    assert len(page.figures) == len(page.audio) == 2
    for src in page.figures:
        assert src.startswith("data:image/png;base64,")
        assert _png_pixels(base64.b64decode(src.split(",", 1)[1])).std() > 0.1
    for src, original in zip(page.audio, (files["a"], files["b"]), strict=True):
        assert not src.startswith(("/", "file:", "data:"))
        assert (out.parent / urllib.parse.unquote(src)).resolve() == original.resolve()
    html = out.read_text(encoding="utf-8")
    assert "1 failed" in html and str(ckpt) in html and "<script>" in html and "http" not in html.split("<script>")[1]
    assert not [p.name for p in out.parent.iterdir() if p.name != "report.html"]  # no temporary file left


def test_report_embeds_audio_and_exit_codes(tmp_path: Path, ckpt: Path) -> None:
    files = _inputs(tmp_path)
    out = tmp_path / "embedded.html"
    res = run_cli("report", files["a"], files["zeros"], "--model", ckpt, "--out", out, "--embed-audio", "--quiet")
    assert res.exit_code == 0, res.output
    page = _page(out)
    assert len(page.rows) == 2 and len(page.audio) == 2 and len(page.figures) == 1  # silence: a player, no figure
    assert all(src.startswith("data:audio/wav;base64,") for src in page.audio)
    assert base64.b64decode(page.audio[0].split(",", 1)[1]) == files["a"].read_bytes()
    assert "no figure: nothing was scored (digital silence)" in out.read_text(encoding="utf-8")

    all_bad = run_cli("report", files["notes"], tmp_path / "gone.wav", "--model", ckpt, "--out", tmp_path / "bad.html", "-q")
    assert all_bad.exit_code == 1 and len(_page(tmp_path / "bad.html").rows) == 2
    nowhere = run_cli("report", files["a"], "--model", ckpt, "--out", tmp_path / "missing" / "r.html", "-q")
    assert nowhere.exit_code == 2 and "missing" in nowhere.stderr
