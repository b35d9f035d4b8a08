"""The layout's rules (DESIGN.md, "Layout"), read from the source's imports with an AST walk:
one algorithm in one place, `zoo/` the shared runtime only, Streamlit and Plotly where they belong.
Each failure names the file, the line and the import that breaks a rule."""
from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

from zoo import checkpoints

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE_MAY_IMPORT = {"torch"}
"""besides the standard library, what a models/<algo>/model.py may import"""
MODEL_FILE_EXTRAS = {"gnn": {"torch_geometric"}}
"""PyTorch Geometric's layers are the GNN's model: DESIGN names them as its library"""
STREAMLIT_FILES = ("pages/", "streamlit_app.py", "zoo/ui/")
PLOTLY_FILES = ("zoo/plots.py",)


def _figures_file(name: str) -> bool:
    """models/<algo>/figures.py, or a shared package's figures.py in zoo/ (zoo/explain/figures.py)."""
    return name.endswith("/figures.py") and name.startswith(("models/", "zoo/"))


def _python_files(root: Path, *folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (root / folder).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, wherever it stands (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _top_level(module: str) -> str:
    return module.split(".")[0]


def _algorithm(module: str) -> str | None:
    """The algorithm package a `models.<algo>...` import reaches, else None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "models" and len(parts) > 1 else ("" if parts[0] == "models" else None)


def algorithms(root: Path = ROOT) -> list[str]:
    return sorted(p.name for p in (root / "models").iterdir() if (p / "__init__.py").is_file())


def layout_violations(root: Path = ROOT) -> list[str]:
    """Every broken rule in the tree at `root`, as 'file:line: what'."""
    broken = []
    for path in _python_files(root, "zoo", "models", "pages") + [root / "streamlit_app.py"]:
        name = path.relative_to(root).as_posix()
        own = path.parent.name if name.startswith("models/") and path.parent != root / "models" else None
        page_of = path.stem if name.startswith("pages/") else None
        for line, module in _imports(path):
            where, top, reaches = f"{name}:{line}: imports {module}", _top_level(module), _algorithm(module)
            if name.startswith("zoo/") and reaches is not None:
                broken.append(f"{where}: zoo/ is the shared runtime and never imports models/")
            if own is not None and reaches not in (None, own):
                broken.append(f"{where}: one algorithm never imports another's package")
            if page_of is not None and reaches not in (None, page_of):
                broken.append(f"{where}: pages/{page_of}.py may import models.{page_of} only")
            if page_of is not None and top == "torch":
                broken.append(f"{where}: no tensor maths in pages (call models/<algo>/explore.py)")
            if path.name == "model.py" and own is not None and top not in sys.stdlib_module_names \
                    and top not in MODEL_FILE_MAY_IMPORT | MODEL_FILE_EXTRAS.get(own, set()) and top != "__future__":
                broken.append(f"{where}: a model.py imports only torch and the standard library")
            if top == "streamlit" and not name.startswith(STREAMLIT_FILES):
                broken.append(f"{where}: Streamlit only in pages/, streamlit_app.py and zoo/ui/")
            if top == "plotly" and name not in PLOTLY_FILES and not _figures_file(name):
                broken.append(f"{where}: Plotly only in figures.py files and zoo/plots.py")
    for loose in sorted((root / "models").glob("*.py")):
        if loose.name != "__init__.py":
            broken.append(f"models/{loose.name}: an algorithm is a package, models/<algo>/, not a loose file")
    for algo in algorithms(root):
        if not (root / "pages" / f"{algo}.py").is_file():
            broken.append(f"models/{algo}/: has no page pages/{algo}.py")
        if not list((root / "tests" / "models").glob(f"test_{algo}*.py")):
            broken.append(f"models/{algo}/: has no tests/models/test_{algo}*.py")
        if "SHIPPED" not in (root / "models" / algo / "__init__.py").read_text():
            broken.append(f"models/{algo}/__init__.py: exports no SHIPPED, so the checkpoint registry cannot find it")
    return broken


def test_the_layout_rules_hold():
    broken = layout_violations()
    assert not broken, "the layout's rules are broken (DESIGN.md, Layout):\n" + "\n".join(broken)


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"streamlit_app.py": "", "models/cnn/__init__.py": "SHIPPED = {}\n", "pages/cnn.py": "",
                       "tests/models/test_cnn.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_planted_violations_are_named_with_their_file_line_and_import(tmp_path):
    broken = layout_violations(_plant(tmp_path, {
        "zoo/checkpoints.py": "import json\nfrom models.cnn.model import FashionCNN\n",
        "models/cnn/model.py": "import torch\nimport numpy as np\n",
        "models/gan/__init__.py": "from models.cnn.recipe import SHIPPED\n",
        "pages/gan.py": "import torch\nimport plotly.graph_objects as go\n",
        "models/word2vec.py": "",
    }))
    assert set(broken) == {
        "zoo/checkpoints.py:2: imports models.cnn.model: zoo/ is the shared runtime and never imports models/",
        "models/cnn/model.py:2: imports numpy: a model.py imports only torch and the standard library",
        "models/gan/__init__.py:1: imports models.cnn.recipe: one algorithm never imports another's package",
        "pages/gan.py:1: imports torch: no tensor maths in pages (call models/<algo>/explore.py)",
        "pages/gan.py:2: imports plotly.graph_objects: Plotly only in figures.py files and zoo/plots.py",
        "models/word2vec.py: an algorithm is a package, models/<algo>/, not a loose file",
        "models/gan/: has no tests/models/test_gan*.py",
    }


@pytest.mark.parametrize("algo", algorithms())
def test_every_algorithm_is_found_by_the_checkpoint_registry(algo):
    assert set(importlib.import_module(f"models.{algo}").SHIPPED) <= set(checkpoints.registry())
