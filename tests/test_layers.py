"""The layer rules of docs/architecture.md, asserted over the source: every import points down.

Imports inside functions count too: a lazy import that climbs is still a climb.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sesqa"
MAX_MODULE_LINES = 450

LAYER_0 = {"audio", "labels", "measures", "runtime", "data"}
"""The packages of layer 0: they import no sesqa package but each other."""
# Which sesqa packages each package may import (besides itself and layer 0).
ALLOWED: dict[str, set[str]] = {
    "shards": set(),
    "corpora": set(),
    "model": set(),
    "generator": {"shards", "corpora"},
    "scoring": {"shards", "corpora", "model"},
    "trainer": {"shards", "corpora", "model", "scoring"},
    "evaluation": {"shards", "corpora", "model", "scoring", "generator", "trainer"},
    "view": {"scoring"},
}
EVALUATION_ORDER: dict[str, int] = {
    "peers": 0,
    "plots": 0,
    "run": 1,
    "kfold": 2,
    "evaluate": 3,
    "latent": 4,
    "sweep": 4,
    "ablation": 4,
    "listeners": 4,
}
"""The folders and modules of `evaluation/` (all layer 5), lowest first: each imports only parts of a lower rank,
so parts of one rank never import each other."""
TOP = {"cli", "__main__"}
"""Top-level modules above every package: the CLI (and its help format); the package's own `__init__` (the lazy
`from sesqa import Scorer` facade) is above them all too."""


def _modules() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out.append((path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)))
    return out


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of the sesqa modules that `path` imports, at any depth of its code."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            if not node.module:  # `from . import x` may name a submodule
                names.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n == "sesqa" or n.startswith("sesqa.")}


def _layer_of(module: str) -> str:
    """The package a module belongs to ('shards', 'generator', ...), 'top' for the CLI, '' for layer 0."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"
    if parts[1] in ALLOWED:
        return parts[1]
    return "top" if parts[1] in TOP else ""


def test_every_import_points_down():
    climbs = []
    for path, module in _modules():
        own = _layer_of(module)
        if own == "top":
            continue
        for target in _imports(path, module):
            theirs = _layer_of(target)
            if theirs == own or target == "sesqa":  # `from sesqa import __version__`
                continue
            if theirs == "top" or (theirs and (own == "" or theirs not in ALLOWED[own])):
                climbs.append(f"{module} imports {target}")
    assert not climbs, "imports that climb the layers of docs/architecture.md:\n" + "\n".join(sorted(climbs))


def _evaluation_part(module: str) -> str:
    """The folder or module of `evaluation/` a module is or lies in ('run', 'sweep', ...), '' outside it."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "evaluation" else ""


def test_evaluation_parts_import_down_their_order():
    found, climbs = set(), []
    for path, module in _modules():
        own = _evaluation_part(module)
        if not own:
            continue
        found.add(own)
        for target in _imports(path, module):
            theirs = _evaluation_part(target)
            if theirs and theirs != own and EVALUATION_ORDER.get(theirs, 99) >= EVALUATION_ORDER.get(own, -1):
                climbs.append(f"{module} imports {target}")
    assert found == set(EVALUATION_ORDER), f"evaluation/ holds {sorted(found)}; EVALUATION_ORDER ranks {sorted(EVALUATION_ORDER)}"
    assert not climbs, "imports that climb the order of evaluation/ (docs/architecture.md):\n" + "\n".join(sorted(climbs))


def test_every_package_has_its_layer():
    names = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} | {p.stem for p in PACKAGE.glob("*.py")}
    placed = set(ALLOWED) | TOP | LAYER_0 | {"__init__"}
    assert names <= placed, f"sesqa packages in no layer of docs/architecture.md: {sorted(names - placed)}"


def test_the_package_root_holds_no_loose_module():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"], f"modules at sesqa/'s root: {loose}; put each in the package of its layer"


def test_scorer_and_compare_do_not_import_each_other():
    scorer = _imports(PACKAGE / "scoring" / "scorer.py", "sesqa.scoring.scorer")
    compare = _imports(PACKAGE / "scoring" / "compare.py", "sesqa.scoring.compare")
    assert "sesqa.scoring.compare" not in scorer
    assert "sesqa.scoring.scorer" not in compare


@pytest.mark.parametrize("path", [p for p, _ in _modules()], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_450_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines; split it by responsibility"


def test_one_number_parser():
    found = [str(p.relative_to(PACKAGE)) for p, _ in _modules() if "def _is_number" in p.read_text()]
    assert len(found) <= 1, f"number parsers in {found}: use the label reader's"


def test_reading_a_shard_imports_no_codec_or_effect_library():
    fixture = Path(__file__).parent / "fixtures" / "shards-v1" / "train-000000.tar"
    code = (
        "import sys\n"
        "from sesqa.shards.reader import read_shard\n"
        f"samples = list(read_shard({str(fixture)!r}))\n"
        "assert samples\n"
        "print(sorted(m for m in ('pedalboard', 'av', 'sesqa.generator') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
