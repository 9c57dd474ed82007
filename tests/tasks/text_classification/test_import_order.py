"""Only the network modules of the package import torch (the order itself: test_architecture)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import danlu.tasks.text_classification as package

PACKAGE = "danlu.tasks.text_classification"
FOLDER = Path(package.__file__).parent
# the modules allowed to import torch (only the network classifiers load them)
TORCH = {"neural_model", "neural_train"}


def _order() -> list[str]:
    """The module names listed in the package docstring's table, bottom first."""
    table = (package.__doc__ or "").split("::", 1)[1]
    return re.findall(r"^ {4}(\w+) ", table, flags=re.MULTILINE)


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in ``path`` (inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == PACKAGE:  # from danlu.tasks.text_classification import x
                names.update(f"{PACKAGE}.{alias.name}" for alias in node.names)
    return names


def test_only_the_network_modules_import_torch() -> None:
    for name in _order():
        uses_torch = any(m == "torch" or m.startswith("torch.")
                         for m in _imports(FOLDER / f"{name}.py"))  # fmt: skip
        assert uses_torch == (name in TORCH), name
