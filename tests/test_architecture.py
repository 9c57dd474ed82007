"""The import graph of ``src/danlu``, read with ``ast``: layers, no cycles, a torch-free path.

The layers, bottom to top (docs/ARCHITECTURE.md explains them). A module may import from
its own layer and the layers below, never from a layer above; imports inside functions
count (they run too). Nothing imports in a circle. The fastText commands import no torch.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import REPO

SRC = REPO / "src"

# bottom to top: the first component after "danlu." decides a module's layer
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"", "errors", "names", "io", "config"}),  # torch-free ground floor
    frozenset({"functional", "decoding"}),  # stateless equations and search
    frozenset({"nn", "optim"}),  # modules and optimizers
    frozenset({"metrics", "data"}),  # scoring and data loading
    frozenset({"train"}),  # the engine
    frozenset({"tasks"}),  # task tools
    frozenset({"lab"}),  # experiments on the public API
    frozenset({"cli", "fasttext", "__main__"}),  # entry points
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in (SRC / "danlu").rglob("*.py")}


def imports(module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) of every import in ``module``, at any depth of the code."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node.lineno


def internal_edges() -> dict[str, set[str]]:
    return {m: {t for t, _ in imports(m) if t in MODULES and t != m} for m in MODULES}


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: add its package to LAYERS in this test and ARCHITECTURE.md")


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer(module)


def test_no_module_imports_from_a_layer_above_it() -> None:
    upward = [
        f"{MODULES[m].relative_to(REPO)}:{line}: {m} (layer {layer(m)}) imports {t} "
        f"(layer {layer(t)})"
        for m in MODULES
        for t, line in imports(m)
        if t in MODULES and layer(t) > layer(m)
    ]
    assert not upward, "\n".join(upward)


def test_no_task_imports_another_task() -> None:
    """Tasks share code through the layers below or ``danlu/tasks/*.py``, not each other."""

    def task_of(module: str) -> str | None:
        parts = module.split(".")
        is_package = len(parts) > 3 or (len(parts) == 3 and MODULES[module].name == "__init__.py")
        return parts[2] if parts[:2] == ["danlu", "tasks"] and is_package else None

    crossing = [
        f"{m} imports {t}"
        for m, targets in internal_edges().items()
        for t in targets
        if task_of(m) and task_of(t) and task_of(m) != task_of(t)
    ]
    assert not crossing, "\n".join(crossing)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                return [*path[path.index(t) :], t]
            if t not in state and (found := visit(t)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycle() -> None:
    cycle = find_cycle(internal_edges())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("danlu.tasks.")))
def test_task_files_stay_under_400_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= 400, f"{MODULES[module].relative_to(REPO)} has {lines} lines"
