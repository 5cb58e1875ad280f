"""`sesqa latent`: latent distances per kind of frame pair (the paper's Fig. 2) and t-SNE (Fig. 3).

Checks the pair counts on generated shards, the means and standard deviations against
hand-computed ones for latent vectors chosen by the test (a stand-in backend that hands them out
in frame order), that a latent space built that way puts same-condition pairs closest, that the
command writes both figures and their numbers, and that a perplexity too large for the points is
clamped with a warning.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sesqa.evaluation.latent.space import (
    CLEAN,
    LatentConfig,
    embed_shards,
    frame_labels,
    latent_distances,
    pick_types,
    run_latent,
    tsne,
    usable_perplexity,
)
from sesqa.generator.run import GenerateConfig, generate
from sesqa.shards.reader import read_shard
from sesqa.shards.schema import DegradationStep

from .helpers import run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    """A test split of 12 generated quadruples in two shards."""
    out = tmp_path_factory.mktemp("latent-shards")
    generate(GenerateConfig(out=out, n=12, ratios=(0, 0, 12), shard_size=6, workers=2, metrics=(), splits=("test",)), progress=False)
    return out


def _records(folder: Path) -> list:
    return [s.record for shard in sorted(folder.glob("test-*.tar")) for s in read_shard(shard)]


class ListedBackend:
    """Hands out the rows of ``z`` (flattened to frames, in the order asked) as latent vectors."""

    def __init__(self, z: np.ndarray, frame_samples: int = 48_000, sample_rate: int = 48_000) -> None:
        self.z = np.asarray(z, dtype=np.float32).reshape(-1, np.shape(z)[-1])
        self.config = SimpleNamespace(frame_samples=frame_samples, sample_rate=sample_rate)
        self.seen = 0

    def frames(self, x: np.ndarray) -> SimpleNamespace:
        assert x.shape[1] == self.config.frame_samples
        z = self.z[self.seen : self.seen + len(x)]
        self.seen += len(x)
        return SimpleNamespace(z=z)


def _structured_z(q: int, rng: np.random.Generator, dim: int = 8) -> np.ndarray:
    """Per quadruple a far-apart centre; x_il a little off x_ik, x_j further off x_i."""
    centres = 20.0 * rng.standard_normal((q, dim))
    z = np.repeat(centres[:, None, :], 4, axis=1)
    z[:, 1] += 0.1 * rng.standard_normal((q, dim))
    z[:, 2] += 3.0 * rng.standard_normal((q, dim))
    z[:, 3] = z[:, 2] + 0.1 * rng.standard_normal((q, dim))
    return z


def test_pair_counts_and_indices_on_generated_shards(shards: Path, ckpt: Path) -> None:
    from sesqa.scoring.scorer import open_scorer

    records = _records(shards)
    latents = embed_shards(open_scorer(str(ckpt)).backend, shards)
    q = len(records)
    assert latents.z.shape[:2] == (q, 4) and np.isfinite(latents.z).all()
    assert latents.keys == tuple(r.key for r in records)
    kinds = {k.name: k for k in latent_distances(latents.z, latents.sources, np.random.default_rng(0))}
    partnered = sum(any(s != r.source.path for s in latents.sources) for r in records)
    assert (kinds["same_condition"].n, kinds["different_condition"].n, kinds["different_utterance"].n) == (2 * q, 2 * q, 2 * partnered)
    same = {tuple(p) for p in kinds["same_condition"].pairs.tolist()}
    assert same == {(4 * n, 4 * n + 1) for n in range(q)} | {(4 * n + 2, 4 * n + 3) for n in range(q)}
    different = {tuple(p) for p in kinds["different_condition"].pairs.tolist()}
    assert different == {(4 * n, 4 * n + 2) for n in range(q)} | {(4 * n + 1, 4 * n + 3) for n in range(q)}
    for a, b in kinds["different_utterance"].pairs:
        assert latents.sources[a // 4] != latents.sources[b // 4]
    flat = latents.z.reshape(4 * q, -1)
    for kind in kinds.values():
        expected = [math.dist(flat[a], flat[b]) for a, b in kind.pairs]
        assert np.allclose(kind.distances, expected)


def test_means_and_stds_are_the_hand_computed_ones() -> None:
    # quadruple n: x_ik at c_n, x_il d_n along axis 0, x_jk e_n along axis 1, x_jl both
    d, e = (1.0, 2.0, 3.0), (5.0, 7.0, 9.0)
    z = np.zeros((3, 4, 5))
    for n in range(3):
        z[n, :, 2 + n] = 100.0  # centres 100 apart along their own axes
        z[n, 1, 0] = z[n, 3, 0] = d[n]
        z[n, 2, 1] = z[n, 3, 1] = e[n]
    kinds = {k.name: k for k in latent_distances(z, ("a.wav", "b.wav", "c.wav"), np.random.default_rng(3))}
    same, changed, other = kinds["same_condition"], kinds["different_condition"], kinds["different_utterance"]
    # same condition: 1, 2, 3 twice; mean 2, squared deviations 1 + 0 + 1 twice = 4 over n - 1 = 5
    assert same.n == 6 and same.mean == pytest.approx(2.0) and same.std == pytest.approx(math.sqrt(4 / 5))
    # different condition: 5, 7, 9 twice; mean 7, squared deviations 4 + 0 + 4 twice = 16 over 5
    assert changed.n == 6 and changed.mean == pytest.approx(7.0) and changed.std == pytest.approx(math.sqrt(16 / 5))
    # different utterances: 100 along each of two axes, plus the frames' own offsets
    offsets = {(n, f): (d[n] * (f in (1, 3)), e[n] * (f in (2, 3))) for n in range(3) for f in range(4)}
    expected = []
    for a, b in other.pairs:
        (qa, fa), (qb, fb) = divmod(int(a), 4), divmod(int(b), 4)
        assert qa != qb
        (xa, ya), (xb, yb) = offsets[qa, fa], offsets[qb, fb]
        expected.append(math.sqrt(2 * 100.0**2 + (xa - xb) ** 2 + (ya - yb) ** 2))
    assert other.n == 6
    assert other.mean == pytest.approx(np.mean(expected)) and other.std == pytest.approx(np.std(expected, ddof=1))


def test_one_source_file_gives_no_different_utterance_pairs(caplog: pytest.LogCaptureFixture) -> None:
    z = np.random.default_rng(0).standard_normal((4, 4, 3))
    with caplog.at_level(logging.WARNING, logger="sesqa.evaluation.latent.space"):
        kinds = latent_distances(z, ("same.wav",) * 4, np.random.default_rng(0))
    assert [k.n for k in kinds] == [8, 8, 0] and math.isnan(kinds[2].mean)
    assert "one source file" in caplog.text


def test_a_space_built_that_way_puts_same_condition_closest(shards: Path, tmp_path: Path) -> None:
    q = len(_records(shards))
    z = _structured_z(q, np.random.default_rng(4))
    backend = ListedBackend(z)
    run = run_latent(backend, LatentConfig(shards=shards, out=tmp_path, perplexities=(5.0,), seed=2))
    assert backend.seen == 4 * q  # every frame embedded once, in order
    same, changed, other = run.distances
    assert same.mean + same.std < changed.mean - changed.std
    assert changed.mean < other.mean
    assert same.distances.max() < other.distances.min()
    assert run.n_quadruples == q and len(run.tsne.projections) == 1


def test_the_command_writes_both_figures_and_their_numbers(shards: Path, ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "figures"
    result = run_cli("latent", "--shards", shards, "--model", ckpt, "--out", out, "--seed", "5")
    assert result.exit_code == 0, result.output
    assert "same utterance, same condition" in result.output and "different utterances" in result.output
    for name in ("latent-distances.png", "latent-tsne.png"):
        assert (out / name).read_bytes().startswith(PNG_MAGIC)
    q = len(_records(shards))
    rows = list(csv.DictReader(io.StringIO((out / "latent-distances.csv").read_text())))
    assert [r["kind"] for r in rows] == ["same_condition", "different_condition", "different_utterance"]
    assert [int(r["n"]) for r in rows[:2]] == [2 * q, 2 * q]
    assert all(float(r["std"]) >= 0 and float(r["mean"]) > 0 for r in rows if int(r["n"]) > 1)
    points = list(csv.DictReader(io.StringIO((out / "latent-tsne.csv").read_text())))
    asked = sorted({float(r["perplexity_asked"]) for r in points})
    assert asked == [30.0, 80.0, 200.0]
    per_panel = len(points) // 3
    assert 0 < per_panel <= 4 * q and len(points) == 3 * per_panel
    # fewer than 80 points here: the larger perplexities were clamped below the number of points
    assert all(float(r["perplexity"]) < per_panel for r in points)
    assert all(r["frame"] in ("ik", "il", "jk", "jl") and 0.0 <= float(r["strength"]) <= 1.0 for r in points)


def test_bad_input_exits_2_naming_the_folder(shards: Path, ckpt: Path, tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    result = run_cli("latent", "--shards", empty, "--model", ckpt, "--out", tmp_path / "o")
    assert result.exit_code == 2 and str(empty) in result.output and "test-*.tar" in result.output
    result = run_cli("latent", "--shards", shards, "--model", ckpt, "--out", tmp_path / "o", "--types", "no_such_type")
    assert result.exit_code == 2 and "no_such_type" in result.output
    assert run_cli("latent", "--shards", shards, "--model", ckpt, "--out", tmp_path / "o", "--split", "dev").exit_code == 2
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match=f"{shards}.*1 quadruple"):
        embed_shards(ListedBackend(np.zeros((4, 3))), shards, max_quadruples=1)


def test_perplexity_is_clamped_below_the_points_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    points = np.random.default_rng(1).standard_normal((12, 4))
    with caplog.at_level(logging.WARNING, logger="sesqa.evaluation.latent.space"):
        first, second = tsne(points, (30.0, 5.0), seed=7)
    assert (first.perplexity_asked, first.perplexity) == (30.0, 11.0)
    assert "perplexity 30" in caplog.text and "using perplexity 11" in caplog.text
    assert (second.perplexity_asked, second.perplexity) == (5.0, 5.0) and second.xy.shape == (12, 2)
    again = tsne(points, (5.0,), seed=7)[0]
    assert np.allclose(again.xy, second.xy)  # seeded
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sesqa.evaluation.latent.space"):
        assert usable_perplexity(30.0, 31) == 30.0
    assert not caplog.text


def test_frame_labels_follow_the_first_step_of_each_chain() -> None:
    a, b, c = DegradationStep("mp3", 0.2), DegradationStep("reverb", 0.9), DegradationStep("clipping", 0.5)
    assert frame_labels((), (a,)) == ([CLEAN, CLEAN, "mp3", "mp3"], [0.0, 0.0, 0.2, 0.2], [0, 0, 1, 1])
    assert frame_labels((b, c), (a, c)) == (["reverb", "reverb", "mp3", "mp3"], [0.9, 0.9, 0.2, 0.2], [2, 2, 4, 4])


def test_default_types_are_the_most_frequent_plus_clean(caplog: pytest.LogCaptureFixture) -> None:
    labels = np.asarray(["clean"] * 5 + ["b"] * 3 + ["a"] * 3 + ["c"] * 2 + ["d"], dtype=object)
    assert pick_types(labels, top=2) == (CLEAN, "a", "b")  # ties by name
    assert pick_types(labels[5:], top=8) == ("a", "b", "c", "d")
    with caplog.at_level(logging.WARNING, logger="sesqa.evaluation.latent.space"):
        assert pick_types(labels, ("d", "zz", "clean")) == ("d", CLEAN)
    assert "zz" in caplog.text
    with pytest.raises(ValueError, match="zz.*labelled a, b, c, clean, d"):
        pick_types(labels, ("zz",))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("split", "dev", "--split"), ("max_quadruples", 1, "--max-quadruples"), ("seed", -1, "seed"), ("perplexities", (0.0,), "perplexities")],
)
def test_config_refuses_bad_values(field: str, value: object, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        LatentConfig(shards=tmp_path, out=tmp_path, **{field: value})
