"""Which public methods of ``toloka_ext`` reach each Pipeline API operation, and what the
client relies on in each.

Derived from the code, never kept by hand: the adapter's request builders
(``toloka_ext/_v2/_adapter.py``: ``req_*`` functions, each naming its operationId in its
``_request("<operationId>", ...)`` call) and the async source of the clients
(``toloka_ext/_async/``: which method calls which builder, which other method of its class,
or which method of another resource it holds). ``make regenerate`` uses it to say, for each
changed operation, which calls users make are affected.

:func:`reliance` adds what the change report judges a change by (``pull_spec.py`` passes it
to the differ): the parameters each builder sends (its ``_request`` call's path mapping and
``params=``), the status values the code acts on (``RunStatus.COMPLETED`` and the like,
anywhere in ``toloka_ext/_v2`` and ``toloka_ext/_async``), and the response properties it
needs: those it raises ``drift("<operationId>", "<field>", ...)`` without, and the
``pagination.total`` of every list it pages by ``offset``.

    python scripts/public_usage.py            # operationId -> public methods
    python scripts/public_usage.py --reliance # what the client relies on, as JSON
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as `python scripts/public_usage.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toloka_ext._specdiff import Reliance

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = ROOT / "toloka_ext" / "_v2" / "_adapter.py"
SOURCE = ROOT / "toloka_ext" / "_async"
CLIENT_CLASS = "AsyncToloka"

Method = tuple[str, str]  # (class, method)


def builders(adapter: Path = ADAPTER) -> dict[str, str]:
    """``req_*`` function name -> the operationId it builds a request for."""
    out: dict[str, str] = {}
    for node in ast.parse(adapter.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("req_")):
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "_request"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                out[node.name] = call.args[0].value
                break
    return out


def _annotation_name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _attribute_types(cls: ast.ClassDef) -> dict[str, str]:
    """``self.<attr>`` -> class name, from assignments in the class's methods."""
    types: dict[str, str] = {}
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = {a.arg: _annotation_name(a.annotation) for a in fn.args.kwonlyargs + fn.args.args}
        for node in ast.walk(fn):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if not (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    continue
                value = node.value
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                    types[target.attr] = value.func.id  # self.x = AsyncUploads(core)
                elif isinstance(value, ast.Name) and params.get(value.id):
                    types[target.attr] = str(params[value.id])  # self._x = x (x: AsyncX)
    for node in cls.body:  # class-level annotations: ``tasks: AsyncTasks``
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = _annotation_name(node.annotation)
            if name:
                types.setdefault(node.target.id, name)
        elif isinstance(node, ast.FunctionDef) and _is_property(node):
            # A resource built on first use: ``@cached_property def tasks(self) -> AsyncTasks``.
            name = _annotation_name(node.returns)
            if name:
                types.setdefault(node.name, name)
    return types


def _is_property(fn: ast.FunctionDef) -> bool:
    names = {ast.unparse(d) for d in fn.decorator_list}
    return bool(names & {"property", "cached_property", "functools.cached_property"})


def _classes(source: Path) -> Iterator[ast.ClassDef]:
    for path in sorted(source.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                yield node


def call_graph(
    source: Path = SOURCE, adapter: Path = ADAPTER
) -> tuple[dict[Method, set[str]], dict[Method, set[Method]], dict[str, list[str]], dict[str, str]]:
    """Direct operations and callees per method, base classes, and the client's resources."""
    req = builders(adapter)
    ops: dict[Method, set[str]] = {}
    calls: dict[Method, set[Method]] = {}
    bases: dict[str, list[str]] = {}
    resources: dict[str, str] = {}
    for cls in _classes(source):
        bases[cls.name] = [b.id for b in cls.bases if isinstance(b, ast.Name)]
        attrs = _attribute_types(cls)
        if cls.name == CLIENT_CLASS:
            resources = {k: v for k, v in attrs.items() if not k.startswith("_")}
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            key = (cls.name, fn.name)
            ops[key], calls[key] = set(), set()
            for node in ast.walk(fn):
                if not isinstance(node, ast.Attribute):
                    continue
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id == "A" and node.attr in req:
                    ops[key].add(req[node.attr])  # A.req_get_run(...)
                elif isinstance(owner, ast.Name) and owner.id == "self":
                    calls[key].add((cls.name, node.attr))  # self.get(...)
                elif (
                    isinstance(owner, ast.Attribute)
                    and isinstance(owner.value, ast.Name)
                    and owner.value.id == "self"
                    and owner.attr in attrs
                ):
                    calls[key].add((attrs[owner.attr], node.attr))  # self._datasets.x(...)
    return ops, calls, bases, resources


def _resolve(method: Method, ops: dict[Method, set[str]], bases: dict[str, list[str]]) -> Method:
    """The class that defines ``method`` (its own or a base class)."""
    cls, name = method
    seen = [cls]
    while seen:
        current = seen.pop(0)
        if (current, name) in ops:
            return current, name
        seen.extend(bases.get(current, []))
    return method


def methods_by_operation(source: Path = SOURCE, adapter: Path = ADAPTER) -> dict[str, list[str]]:
    """operationId -> the public calls that reach it (``client.exports.download``, ...)."""
    ops, calls, bases, resources = call_graph(source, adapter)
    public: dict[str, Method] = {}
    for name in (n for c, n in ops if c == CLIENT_CLASS and not n.startswith("_")):
        public[f"client.{name}"] = (CLIENT_CLASS, name)
    for attr, cls in resources.items():
        for owner, name in list(ops):
            if name.startswith("_") or name == "__init__":
                continue
            if owner == cls or owner in bases.get(cls, []):
                public.setdefault(f"client.{attr}.{name}", (cls, name))
    out: dict[str, set[str]] = {}
    for label, start in public.items():
        reached: set[str] = set()
        stack, seen = [_resolve(start, ops, bases)], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            reached |= ops.get(current, set())
            stack.extend(_resolve(c, ops, bases) for c in calls.get(current, ()))
        for op in reached:
            out.setdefault(op, set()).add(label)
    return {op: sorted(labels) for op, labels in sorted(out.items())}


def sent_parameters(adapter: Path = ADAPTER) -> dict[str, set[str]]:
    """operationId -> the ``"path <name>"`` / ``"query <name>"`` its builder sends."""
    out: dict[str, set[str]] = {}
    for node in ast.parse(adapter.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("req_")):
            continue
        for call in ast.walk(node):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "_request"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                continue
            sent = out.setdefault(call.args[0].value, set())
            if len(call.args) > 1 and isinstance(call.args[1], ast.Dict):
                sent |= {
                    f"path {k.value}" for k in call.args[1].keys if isinstance(k, ast.Constant)
                }
            for keyword in call.keywords:
                if keyword.arg == "params" and isinstance(keyword.value, ast.Dict):
                    sent |= {
                        f"query {k.value}"
                        for k in keyword.value.keys
                        if isinstance(k, ast.Constant)
                    }
    return out


def _modules(*folders: Path) -> Iterator[ast.Module]:
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            yield ast.parse(path.read_text(encoding="utf-8"))


def acted_on_values(package: Path = ROOT / "toloka_ext") -> dict[str, set[str]]:
    """Enum class name (``RunStatus``, the snapshot's component of the same name) -> the
    values the code names as ``RunStatus.COMPLETED`` outside the enum's own definition."""
    from toloka_ext._v2 import _models

    enums = {
        name: cls
        for name, cls in vars(_models).items()
        if isinstance(cls, type)
        and issubclass(cls, _models._TolerantEnum)
        and cls is not _models._TolerantEnum
    }
    out: dict[str, set[str]] = {}
    for module in _modules(package / "_v2", package / "_async"):
        for node in ast.walk(module):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in enums
                and node.attr in enums[node.value.id].__members__
            ):
                member = enums[node.value.id].__members__[node.attr]
                out.setdefault(node.value.id, set()).add(str(member.value))
    return out


def needed_properties(package: Path = ROOT / "toloka_ext") -> dict[str, set[str]]:
    """operationId -> response properties (``.downloadUrl``) the code raises drift without,
    plus ``.pagination.total`` for every list paged by ``offset``."""
    out: dict[str, set[str]] = {}
    for module in _modules(package / "_v2", package / "_async"):
        for node in ast.walk(module):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = node.func.id if isinstance(node.func, ast.Name) else name
            op, field = node.args[0], node.args[1]
            if (
                name == "drift"
                and isinstance(op, ast.Constant)
                and isinstance(op.value, str)
                and isinstance(field, ast.Constant)
                and isinstance(field.value, str)
                and not field.value.startswith("<")
            ):
                out.setdefault(op.value, set()).add(f".{field.value}")
    for op, sent in sent_parameters(package / "_v2" / "_adapter.py").items():
        if "query offset" in sent:
            out.setdefault(op, set()).add(".pagination.total")
    return out


def reliance(source: Path = SOURCE, adapter: Path = ADAPTER) -> Reliance:
    """What the client relies on, for :func:`toloka_ext._specdiff.diff_specs`."""
    package = adapter.parent.parent
    return Reliance(
        methods={op: tuple(labels) for op, labels in methods_by_operation(source, adapter).items()},
        parameters={op: frozenset(v) for op, v in sent_parameters(adapter).items()},
        enum_values={name: frozenset(v) for name, v in acted_on_values(package).items()},
        properties={op: frozenset(v) for op, v in needed_properties(package).items()},
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--reliance"]:
        sys.stdout.write(json.dumps(reliance().as_dict(), indent=2) + "\n")
    else:
        for op, labels in methods_by_operation().items():
            sys.stdout.write(f"{op}: {', '.join(labels)}\n")
