"""The public surface: exactly what ``__all__`` lists (the httpx convention), named by its
public module, typed without ``Any`` or generated classes, over an acyclic import graph."""

from __future__ import annotations

import ast
import enum
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import anyio
import attrs
import httpx
import pytest

import toloka_ext
import toloka_ext.testing
import toloka_ext.types

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "toloka_ext"
EXCEPTIONS_FILE = PACKAGE_DIR / "_exceptions.py"
RESOURCES = (
    "tasks",
    "operations",
    "projects",
    "datasets",
    "uploads",
    "pipelines",
    "runs",
    "exports",
)


def _classes(module: types.ModuleType) -> list[tuple[str, type]]:
    return [
        (name, obj) for name in module.__all__ if isinstance(obj := getattr(module, name), type)
    ]


# -- __all__ ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module", [toloka_ext, toloka_ext.types, toloka_ext.testing], ids=lambda m: m.__name__
)
def test_all_is_sorted_unique_and_complete(module: types.ModuleType) -> None:
    exported = list(module.__all__)
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(module, name), f"{module.__name__}.{name}"


@pytest.mark.parametrize("module", [toloka_ext, toloka_ext.types], ids=lambda m: m.__name__)
def test_no_public_name_is_missing_from_all(module: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - {"annotations"} <= set(module.__all__)


def test_the_top_level_surface_is_small() -> None:
    # clients, inputs, the retrying transports (for calls the clients do not make), one
    # tree of errors
    assert len(toloka_ext.__all__) <= 40
    for name in ("Toloka", "AsyncToloka", "TolokaError", "PollPolicy", "Task", "RetryTransport"):
        assert name in toloka_ext.__all__
    for gone in ("PipelineClient", "AsyncPipelineClient", "TasksClient", "AsyncTasksClient"):
        assert not hasattr(toloka_ext, gone)
    for gone in ("NOT_GIVEN", "NotGiven", "SyncPage", "RequestTooLargeError"):
        assert not hasattr(toloka_ext, gone)


def test_documented_imports_work() -> None:
    from toloka_ext import AsyncToloka, Toloka, TolokaError, __version__

    assert inspect.isclass(Toloka) and inspect.isclass(AsyncToloka)
    assert issubclass(TolokaError, Exception)
    assert isinstance(__version__, str) and re.match(r"\d+\.\d+", __version__)
    assert isinstance(toloka_ext.types, types.ModuleType)


# -- public module names -----------------------------------------------------------------------


def test_exported_exceptions_name_the_public_module() -> None:
    """Tracebacks say ``toloka_ext.NotFoundError``, not a private module path."""
    assert toloka_ext.NotFoundError.__module__ == "toloka_ext"
    wrong = {
        name: cls.__module__
        for name, cls in _classes(toloka_ext)
        if issubclass(cls, BaseException) and cls.__module__ != "toloka_ext"
    }
    assert wrong == {}


def test_types_are_the_models_the_clients_return() -> None:
    """``toloka_ext.types`` re-exports the result models; ``Task`` is shared with the top level."""
    assert toloka_ext.types.Task is toloka_ext.Task
    assert len(_classes(toloka_ext.types)) + 2 == len(toloka_ext.types.__all__)  # 2 aliases
    for name, cls in _classes(toloka_ext.types):
        assert cls.__module__.startswith("toloka_ext."), (name, cls.__module__)


@pytest.mark.parametrize("module", [toloka_ext, toloka_ext.types], ids=lambda m: m.__name__)
def test_generated_classes_do_not_leak_into_the_public_api(module: types.ModuleType) -> None:
    for name in module.__all__:
        obj = getattr(module, name)
        assert not getattr(obj, "__module__", "").startswith("toloka_pipeline_api"), name


@pytest.mark.parametrize("module", [toloka_ext, toloka_ext.types], ids=lambda m: m.__name__)
def test_type_hints_of_exported_classes_resolve(module: types.ModuleType) -> None:
    """``typing.get_type_hints(cls)`` (what cattrs, ``attrs.resolve_types`` and doc tools
    call) must work on the public classes, whose ``__module__`` was rewritten."""
    broken: dict[str, str] = {}
    for name, cls in _classes(module):
        try:
            typing.get_type_hints(cls)
        except NameError as exc:
            broken[name] = str(exc)
    assert not broken, "typing.get_type_hints fails on:\n" + "\n".join(
        f"{module.__name__}.{name}: {error}" for name, error in sorted(broken.items())
    )


# -- exceptions --------------------------------------------------------------------------------


def _exception_classes_defined_in_exceptions_py() -> list[str]:
    tree = ast.parse(EXCEPTIONS_FILE.read_text(encoding="utf-8"))
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


def test_every_exception_is_exported_and_derives_from_toloka_error() -> None:
    from toloka_ext import _exceptions

    defined = _exception_classes_defined_in_exceptions_py()
    assert len(defined) >= 20  # the walk found the classes
    for name in defined:
        assert name in toloka_ext.__all__, name
        assert getattr(toloka_ext, name) is getattr(_exceptions, name), name
        assert name in _exceptions.__all__, name
    exported = [cls for _, cls in _classes(toloka_ext) if issubclass(cls, BaseException)]
    assert {cls.__name__ for cls in exported} == set(defined)
    for cls in exported:
        assert issubclass(cls, toloka_ext.TolokaError), cls.__name__


# -- public types: no Any, no generated classes ---------------------------------------------

ITERATION_PROTOCOL = ("__iter__", "__aiter__", "__next__", "__anext__", "__enter__", "__aenter__")


def _defining_namespace(cls: type) -> dict[str, object]:
    """The globals of the module that defines ``cls``.

    Public classes have ``__module__`` rewritten to ``toloka_ext``/``toloka_ext.types``,
    whose namespaces cannot resolve the string annotations of the defining module, so the
    walk finds that module itself: the loaded ``toloka_ext`` module holding ``cls`` under its
    name whose source has ``class <name>`` at top level.
    """
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not name.startswith("toloka_ext") or file is None:
            continue
        if vars(module).get(cls.__name__) is not cls:
            continue
        source = Path(file).read_text(encoding="utf-8")
        if re.search(rf"^class {re.escape(cls.__name__)}\b", source, flags=re.MULTILINE):
            return vars(module)
    raise LookupError(f"no module defines {cls!r}")


def _public_callables(cls: type) -> Iterator[tuple[str, Callable[..., object]]]:
    """Public methods, static/class methods and property getters (and the iteration
    protocol), including inherited ones."""
    for name in sorted(dir(cls)):
        if name.startswith("_") and name not in ITERATION_PROTOCOL:
            continue
        raw = inspect.getattr_static(cls, name)
        if isinstance(raw, property) and raw.fget is not None:
            yield name, raw.fget
        elif isinstance(raw, staticmethod | classmethod):
            yield name, raw.__func__
        elif inspect.isfunction(raw):
            yield name, raw


class TypeWalk:
    """Walks the types reachable from the public methods of the clients and resources.

    From each public method's return type it descends into generic arguments and unions,
    and into every ``toloka_ext`` class found there: its public methods' return types and,
    for attrs classes, its fields' types. It records every ``typing.Any`` and every class
    from ``toloka_pipeline_api``.

    The rule for ``Any``: it is an error anywhere in the return type expression of a public
    method (``-> dict[str, Any]`` included: the caller gets no type), and in an attrs
    field's type, except that a field typed exactly ``dict[str, Any]`` (optionally
    ``| None``) is a JSON payload container (``extra``, ``input_values``, ``json_schema``,
    ``details``...), whose values are by nature whatever JSON the API sent.
    """

    def __init__(
        self, namespace_of: Callable[[type], dict[str, object]] = _defining_namespace
    ) -> None:
        self.namespace_of = namespace_of
        self.any: list[str] = []
        self.generated: list[str] = []
        self.unresolved: list[str] = []
        self.classes: set[type] = set()

    def walk_class(self, cls: type, label: str) -> None:
        if cls in self.classes:
            return
        self.classes.add(cls)
        if attrs.has(cls):
            hints = typing.get_type_hints(cls, globalns=self.namespace_of(cls))
            for field in attrs.fields(cls):
                self.check(hints[field.name], f"{label}.{field.name}: ", field=True)
        if issubclass(cls, enum.Enum | BaseException):
            return
        for name, fn in _public_callables(cls):
            try:
                hints = typing.get_type_hints(fn)
            except NameError as exc:
                self.unresolved.append(f"{label}.{name}: {exc}")
                continue
            if "return" not in hints:
                self.unresolved.append(f"{label}.{name}: no return annotation")
                continue
            self.check(hints["return"], f"{label}.{name}() -> ")

    def check(self, tp: object, where: str, *, field: bool = False) -> None:
        if tp is typing.Any:
            self.any.append(where + "Any")
            return
        if field and _is_json_container(tp):
            return
        origin = typing.get_origin(tp)
        if origin is typing.Literal:
            return
        if origin is not None:
            for arg in typing.get_args(tp):
                if arg is not Ellipsis:
                    self.check(arg, where + f"{_name(origin)}[...] ", field=field)
            if isinstance(origin, type):
                self.check(origin, where)
            return
        if tp in (None, type(None), typing.Self) or isinstance(tp, typing.TypeVar):
            return
        if isinstance(tp, typing.ForwardRef):
            # The recursive JsonValue alias: its members were already walked once.
            if tp.__forward_arg__ != "JsonValue":
                self.unresolved.append(where + f"unresolved forward reference {tp!r}")
            return
        if isinstance(tp, type):
            module = tp.__module__
            if module.startswith("toloka_pipeline_api"):
                self.generated.append(where + f"{module}.{tp.__qualname__}")
            elif module.startswith("toloka_ext"):
                self.walk_class(tp, tp.__qualname__)
            return
        self.unresolved.append(where + f"unexpected annotation {tp!r}")


def _name(origin: object) -> str:
    return getattr(origin, "__qualname__", repr(origin))


def _is_json_container(tp: object) -> bool:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(tp) if a is not type(None)]
        return len(rest) == 1 and _is_json_container(rest[0])
    return typing.get_origin(tp) is dict and typing.get_args(tp) == (str, typing.Any)


@pytest.fixture(scope="module")
def walk() -> TypeWalk:
    result = TypeWalk()
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    with toloka_ext.Toloka(api_key="k", transport=transport) as client:
        roots: list[object] = [client, *(getattr(client, r) for r in RESOURCES)]
    aclient = toloka_ext.AsyncToloka(api_key="k", transport=transport)
    roots += [aclient, *(getattr(aclient, r) for r in RESOURCES)]
    anyio.run(aclient.aclose)
    for root in roots:
        result.walk_class(type(root), type(root).__name__)
    return result


def test_the_type_walk_reaches_the_models(walk: TypeWalk) -> None:
    """Not vacuous: the walk went through the resources into models and pages."""
    names = {cls.__name__ for cls in walk.classes}
    expected = {"Tasks", "AsyncRuns", "Paginator", "Page", "AsyncPage", "Run", "TaskCreateResult"}
    assert expected <= names
    assert {"ErrorInfo", "RunProgress", "ProcessResult", "AddItemsSummary"} <= names
    assert walk.unresolved == []


def test_public_types_contain_no_generated_classes(walk: TypeWalk) -> None:
    assert not walk.generated, "generated classes in public types:\n" + "\n".join(walk.generated)


def test_public_types_contain_no_any(walk: TypeWalk) -> None:
    found = sorted(set(walk.any))
    assert not found, "Any in public types:\n" + "\n".join(found)


class _FakeGenerated:
    """Stands for a class of the generated client."""


@attrs.frozen
class _FakeModel:
    payload: dict[str, typing.Any]
    optional_payload: dict[str, typing.Any] | None
    loose: typing.Any
    thing: _FakeGenerated | None


class _FakeResource:
    def items(self) -> list[dict[str, typing.Any]]:
        raise NotImplementedError

    def model(self) -> _FakeModel:
        raise NotImplementedError

    @property
    def raw(self) -> _FakeGenerated:
        raise NotImplementedError


_FakeGenerated.__module__ = "toloka_pipeline_api.models.thing"
_FakeModel.__module__ = _FakeResource.__module__ = "toloka_ext._fake"


def test_the_type_walk_sees_any_and_generated_classes() -> None:
    """The walk catches what it looks for (on synthetic classes), and lets JSON payload
    fields (``dict[str, Any]``) pass."""
    walk = TypeWalk(namespace_of=lambda cls: globals())
    walk.walk_class(_FakeResource, "Resource")
    assert len(walk.any) == 2
    assert walk.any[0].startswith("Resource.items() -> ") and walk.any[0].endswith("Any")
    assert walk.any[1] == "_FakeModel.loose: Any"
    assert len(walk.generated) == 2
    assert walk.generated[0].startswith("_FakeModel.thing: ")
    assert walk.generated[1] == "Resource.raw() -> toloka_pipeline_api.models.thing._FakeGenerated"
    assert walk.unresolved == []


# -- the import graph ------------------------------------------------------------------------


def import_graph(package_dir: Path, *, exclude: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """``module -> modules it imports`` for every module of the package in ``package_dir``.

    Every import statement counts, wherever it is (module level, under ``if TYPE_CHECKING:``,
    inside a function); relative imports are resolved. ``from pkg import name`` is an edge to
    ``pkg.name`` when that is a module of the package, else to ``pkg``. Only modules of the
    package are nodes; the implicit import of parent packages is not an edge. Subpackages
    named in ``exclude`` (relative to the package, e.g. ``"testing"``) are left out.
    """
    root = package_dir.name
    files: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if relative.parts[0] in exclude:
            continue
        parts = [root, *relative.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.add(sub if sub in files else target)
        graph[name] = {e for e in edges if e in files or e.split(".")[0] == root}
    return graph


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with a cycle (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_package_has_no_import_cycles() -> None:
    graph = import_graph(PACKAGE_DIR, exclude=("testing",))
    # Not vacuous: the graph has the modules and resolved the relative imports.
    assert "toloka_ext._sync._client" in graph and "toloka_ext.types" in graph
    assert not any(name.startswith("toloka_ext.testing") for name in graph)
    assert "toloka_ext._sync._core" in graph["toloka_ext._sync._client"]
    assert "toloka_ext._json" in graph["toloka_ext._async._core"]  # from .. import _json
    assert "toloka_ext.types" in graph["toloka_ext"]  # from . import types
    unknown = {(m, t) for m, targets in graph.items() for t in targets if t not in graph}
    assert unknown == set()  # every toloka_ext import resolved to a module
    assert find_cycles(graph) == []


def test_the_import_graph_sees_type_checking_imports_and_cycles(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "testing").mkdir()
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub.b import B\nA = 1\n"
    )
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("from .. import a\nfrom ..sub import c\nB = 2\n")
    (pkg / "sub" / "c.py").write_text("import pkg.sub\nimport os\n")
    (pkg / "testing" / "__init__.py").write_text("import pkg\n")
    graph = import_graph(pkg, exclude=("testing",))
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.sub.b"},
        "pkg.sub": set(),
        "pkg.sub.b": {"pkg.a", "pkg.sub.c"},
        "pkg.sub.c": {"pkg.sub"},
    }
    assert find_cycles(graph) == [["pkg.a", "pkg.sub.b"]]
    assert find_cycles({"x": {"x"}}) == [["x"]]
    assert find_cycles({"x": {"y"}, "y": set()}) == []
