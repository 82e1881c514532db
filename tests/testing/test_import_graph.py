"""The modules of ``toloka_ext.testing`` form no import cycle, and only the public-facing ones
reach the ``Sandbox`` facade.

Every import counts, wherever it is written: at module level, under ``if TYPE_CHECKING:``,
inside a function. A cycle that only type checkers see still couples the modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import toloka_ext.testing

PACKAGE = "toloka_ext.testing"
SOURCE = Path(toloka_ext.testing.__file__).parent
# The public-facing modules: they hand out Sandbox objects. Everything else (handlers, the
# request pipeline, transports, the command line) gets what it needs passed in.
MAY_IMPORT_SANDBOX = {"__init__", "_mock", "_server", "_pytest_plugin"}

Graph = dict[str, set[str]]


def import_graph(directory: Path, package: str) -> Graph:
    """``module -> modules it imports`` within one flat package (``__init__`` for the package)."""
    modules = {p.stem for p in directory.glob("*.py")}
    graph: Graph = {m: set() for m in modules}

    def target(dotted: str) -> str | None:
        if dotted == package:
            return "__init__"
        if dotted.startswith(package + "."):
            head = dotted[len(package) + 1 :].split(".")[0]
            return head if head in modules else None
        return None

    for name in modules:
        tree = ast.parse((directory / f"{name}.py").read_text(), filename=f"{name}.py")
        for node in ast.walk(tree):  # every import, at any depth (TYPE_CHECKING, functions)
            found: list[str | None] = []
            if isinstance(node, ast.Import):
                found = [target(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 1:
                    base = f"{package}.{node.module}" if node.module else package
                elif node.level == 0 and node.module:
                    base = node.module
                else:
                    continue  # a parent package: outside this one
                found = [target(base)]
                if base == package:  # `from . import _x` names a submodule, else __init__
                    found = [a.name if a.name in modules else "__init__" for a in node.names]
            graph[name].update(t for t in found if t is not None and t != name)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_there_is_no_import_cycle() -> None:
    graph = import_graph(SOURCE, PACKAGE)
    assert len(graph) > 10 and graph["_routes"] >= {"_v1", "_v2", "_core"}  # it saw them
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_only_public_facing_modules_import_the_sandbox() -> None:
    graph = import_graph(SOURCE, PACKAGE)
    importers = {name for name, targets in graph.items() if "_sandbox" in targets}
    assert importers <= MAY_IMPORT_SANDBOX, importers - MAY_IMPORT_SANDBOX


def test_handlers_see_backend_config_runtime_and_request_only() -> None:
    for name in ("_v1", "_v2", "_storage", "_dispatch", "_core"):
        tree = ast.parse((SOURCE / f"{name}.py").read_text())
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert not used & {"sandbox", "Sandbox"}, name


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        (
            {
                "__init__": "",
                "a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
                "b": "from . import c\n",
                "c": "def f():\n    from pkg.a import A\n",
            },
            ["a", "b", "c", "a"],
        ),
        (
            {"__init__": "from ._x import X\n", "_x": "from pkg import Y\n"},
            ["__init__", "_x", "__init__"],
        ),
        ({"__init__": "", "a": "from .b import x\n", "b": "from .. import other\n"}, None),
    ],
    ids=["type-checking-and-lazy", "through-init", "none"],
)
def test_the_cycle_finder_sees_every_kind_of_import(
    tmp_path: Path, files: dict[str, str], cycle: list[str] | None
) -> None:
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)
    assert find_cycle(import_graph(tmp_path, "pkg")) == cycle


def test_the_public_names_load_lazily_and_all_lists_them() -> None:
    exported = list(toloka_ext.testing.__all__)
    assert exported == sorted(exported) and dir(toloka_ext.testing) == exported
    for name in ("SimulatedCrash", "RecordedRequest", "RecordedHeaders", "SandboxConfig"):
        assert name in exported
    for name in exported:
        obj = getattr(toloka_ext.testing, name)
        assert getattr(obj, "__name__", name) == name


# -- the client's own layering: no import runs back up ------------------------------------

CLIENT = Path(toloka_ext.__file__).parent
# What holds I/O, a display or the command line: the layers above the pure core.
UPPER = {"_async", "_sync", "_cli", "testing", "_progress"}
# The pure core: logic without I/O (a display, when it shows anything, is passed in).
PURE = [
    *("_v1", "_v2", "_retry", "_polling", "_paging", "_settings", "_ratelimit", "_journal"),
    *("_openapi", "_optable", "_specdiff"),
]


def imports_of(path: Path, *, runtime_only: bool, root: Path = CLIENT) -> set[str]:
    """The top-level ``toloka_ext`` modules or packages ``path`` imports (``_v2`` for
    ``.._v2._models``); ``runtime_only`` leaves out imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(root).parts) - 1  # 0 for toloka_ext/x.py
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) in (
                "TYPE_CHECKING",
                "typing.TYPE_CHECKING",
            ):
                skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level == depth + 1:
            names = [f"toloka_ext.{node.module}" if node.module else "toloka_ext"]
            if not node.module:
                names = [f"toloka_ext.{a.name}" for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("toloka_ext.")}
    return found


def _modules_of(name: str) -> list[Path]:
    return (
        sorted((CLIENT / name).glob("*.py"))
        if (CLIENT / name).is_dir()
        else [CLIENT / f"{name}.py"]
    )


def test_the_base_of_the_error_tree_imports_no_feature_at_run_time() -> None:
    # Types only (the annotations of RunFailedError & co.) may name the v2 models.
    assert imports_of(CLIENT / "_exceptions.py", runtime_only=True) == {"_constants"}
    assert "_v2" in imports_of(CLIENT / "_exceptions.py", runtime_only=False)  # it saw them


@pytest.mark.parametrize("name", PURE)
def test_the_pure_core_imports_no_layer_above_it(name: str) -> None:
    for path in _modules_of(name):
        upward = imports_of(path, runtime_only=False) & UPPER
        assert not upward, f"{path.relative_to(CLIENT)} imports {sorted(upward)}"


def test_the_generator_can_load_the_walker_and_the_table_by_path() -> None:
    # scripts/snapshot_module.py loads them before the generated package exists: they may
    # import nothing of the package but each other (toloka_ext/__init__ is never run).
    assert imports_of(CLIENT / "_openapi.py", runtime_only=False) == set()
    assert imports_of(CLIENT / "_optable.py", runtime_only=False) == {"_openapi"}


def test_the_layering_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "toloka_ext"
    (pkg / "_v2").mkdir(parents=True)
    (pkg / "_v2" / "m.py").write_text(
        "from typing import TYPE_CHECKING\nfrom .. import _progress\nfrom .._async import x\n"
        "if TYPE_CHECKING:\n    from toloka_ext._cli import y\ndef f():\n    from . import z\n"
    )
    path = pkg / "_v2" / "m.py"
    assert imports_of(path, runtime_only=False, root=pkg) == {"_progress", "_async", "_cli"}
    assert imports_of(path, runtime_only=True, root=pkg) == {"_progress", "_async"}
