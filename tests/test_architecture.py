"""The import graph of ``src/danlu``, read with ``ast``: layers, no cycles, a torch-free path.

The layers, bottom to top (docs/ARCHITECTURE.md explains them). A module may import from
its own layer and the layers below, never from a layer above; imports inside functions
count (they run too). Nothing imports in a circle. The fastText commands import no torch.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
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
    frozenset({"cli", "fasttext", "translate", "__main__"}),  # entry points, Python APIs
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in (SRC / "danlu").rglob("*.py")}


@dataclass(frozen=True)
class Import:
    target: str  # the module imported (a danlu module, or an outside one such as torch)
    line: int
    on_import: bool  # runs when the importing module is imported (not inside a function)
    type_checking: bool  # under ``if TYPE_CHECKING:``: never runs


def _walk(node: ast.AST, in_function: bool, in_checking: bool) -> Iterator[tuple]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function, in_checking
        checking = in_checking or (
            isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
        )
        function = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield from _walk(child, function, checking)


def imports(module: str) -> Iterator[Import]:
    """Every import in ``module``, at any depth of the code."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node, in_function, in_checking in _walk(tree, False, False):
        where = (node.lineno, not in_function and not in_checking, in_checking)
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, *where)
            continue
        base = node.module or ""
        if node.level:  # relative import
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            yield Import(sub if sub in MODULES else base, *where)


def internal_edges() -> dict[str, set[str]]:
    return {m: {i.target for i in imports(m) if i.target in MODULES and i.target != m}
            for m in MODULES}  # fmt: skip


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
        f"{MODULES[m].relative_to(REPO)}:{i.line}: {m} (layer {layer(m)}) imports {i.target} "
        f"(layer {layer(i.target)})"
        for m in MODULES
        for i in imports(m)
        if i.target in MODULES and layer(i.target) > layer(m)
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


TASKS = sorted(m for m in MODULES if m.count(".") == 2 and m.startswith("danlu.tasks.")
               and MODULES[m].name == "__init__.py")  # fmt: skip


def module_order(package: str) -> list[str]:
    """The modules a task package's docstring lists after ``::``, bottom first."""
    doc = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8"))) or ""
    table = doc.split("::", 1)[1] if "::" in doc else ""
    return [f"{package}.{name}" for name in re.findall(r"^ {4}(\w+) ", table, re.MULTILINE)]


@pytest.mark.parametrize("package", TASKS)
def test_a_task_package_imports_in_the_order_its_docstring_gives(package: str) -> None:
    order = module_order(package)
    inside = sorted(m for m in MODULES if m.startswith(package + "."))
    assert sorted(order) == inside, f"{package}.__init__ must list each module once"
    rank = {m: i for i, m in enumerate(order)}
    edges = internal_edges()
    upward = [f"{m} imports {t}" for m in order for t in edges[m] if rank.get(t, -1) >= rank[m]]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("danlu.tasks.")))
def test_task_files_stay_under_400_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= 400, f"{MODULES[module].relative_to(REPO)} has {lines} lines"


# The fastText commands (supervised -model fasttext, test, test-label, predict, quantize)
# must not import torch: its import takes as long as training on 45,000 titles. Their
# handlers import what they need when they run; the only way from there to torch is a
# network model (-model textcnn ...), through these two imports inside functions.
TC = "danlu.tasks.text_classification"
NETWORK_BRANCHES = {
    (f"{TC}.supervised", f"{TC}.neural_train"),
    (f"{TC}.load", f"{TC}.neural_model"),
}


def fasttext_path() -> dict[str, str]:
    """Every module the fastText commands can run -> the module that brought it in.

    From ``danlu.cli`` what runs on import; from the commands module every import at any
    depth (the handlers' too), except the network branches; and the packages above each
    module (their ``__init__`` runs first).
    """
    reached: dict[str, str] = {}
    todo = [("danlu.cli", "(start)", True), (f"{TC}.commands", "(start)", False)]
    while todo:
        module, parent, on_import_only = todo.pop()
        if module in reached:
            continue
        reached[module] = parent
        parts = module.split(".")
        todo += [(".".join(parts[:k]), module, True) for k in range(1, len(parts))]
        if module not in MODULES:
            continue
        for i in imports(module):
            if i.type_checking or (module, i.target) in NETWORK_BRANCHES:
                continue
            if i.on_import or not on_import_only:
                todo.append((i.target, module, on_import_only))
    return reached


def test_the_fasttext_commands_import_no_torch() -> None:
    reached = fasttext_path()
    assert f"{TC}.quantize" in reached and f"{TC}.train" in reached  # the walk went there
    torch_in = sorted(m for m in reached if m == "torch" or m.startswith("torch."))
    chains = []
    for m in torch_in:
        chain = [m]
        while reached[chain[-1]] != "(start)":
            chain.append(reached[chain[-1]])
        chains.append(" <- ".join(chain))
    assert not chains, "\n".join(chains)
