"""The public API against its committed baseline: a break fails unless the version and the
changelog say so (``make api-check``, part of ``make test``).

    python scripts/api_check.py            # check (exit 0 ok, 1 unannounced break, 2 error)
    python scripts/api_check.py --write    # record the current API as the baseline (releases)

What is public is written down in ``docs/versioning.md``. Two surfaces are compared with the
baseline in ``api/``, which records the API of the last release (before the first release:
the API as it was when the baseline was first written):

* **Python** (``api/toloka_ext.json``): griffe's model of ``toloka_ext``,
  ``toloka_ext.types`` and ``toloka_ext.testing``, plus the classes their public objects
  hand out without exporting them (``client.tasks`` is a ``Tasks`` from a private module,
  yet its methods are the API). It is compared with griffe's ``find_breaking_changes``, the
  function ``griffe check`` runs (griffe is pinned in requirements-dev.txt; ``griffe check``
  itself takes a git ref or a PyPI version, and the baseline is a file so that a shallow
  clone can check too). A removed object or parameter, a parameter moved or made required,
  a changed default or kind: all are breaks. Docstrings and line numbers are left out of
  the file, so it changes only when the API does.
* **Command line** (``api/cli.json``): every command, its arguments and flags, the exit
  codes and the keys of the ``--json`` documents of ``tasks create`` and of an error. A
  command, flag or key that is gone, or an option that became required, is a break;
  anything added is not.

A break passes only when ``toloka_ext/_version.py`` moved to the next breaking version of
the baseline's (the minor while the major is 0, else the major) and CHANGELOG.md has a
section for that version naming each broken object (``Toloka.with_options``,
``tasks create --pool``). ``--write`` is run when a release is cut; the release workflow
refuses a tag whose version the baseline does not record.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import griffe
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "toloka_ext"
PUBLIC_MODULES = ("toloka_ext", "toloka_ext.types", "toloka_ext.testing")
_DROP_KEYS = frozenset({"docstring", "endlineno", "filepath", "imports", "labels"})


@dataclass(frozen=True)
class Break:
    """One incompatible change: the public path a user knows, and what happened to it."""

    path: str
    what: str

    def line(self) -> str:
        return f"{self.path}: {self.what}"


# -- the Python surface ---------------------------------------------------------------------


def load_current(root: Path) -> griffe.Module:
    loaded = griffe.load(
        PACKAGE,
        search_paths=[root],
        try_relative_path=False,  # the package under root, not one in the working directory
        resolve_aliases=True,
        resolve_external=None,
    )
    assert isinstance(loaded, griffe.Module)
    return loaded


def _target(obj: griffe.Object | griffe.Alias) -> griffe.Object | griffe.Alias:
    try:
        return obj.final_target if obj.is_alias else obj  # type: ignore[union-attr]
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return obj


def _names_in(expr: object) -> Iterator[str]:
    """Canonical paths of the names in an annotation (``list[Task] | None``: ``Task``)."""
    if isinstance(expr, griffe.ExprName):
        yield expr.canonical_path
    elif isinstance(expr, griffe.Expr):
        for part in expr.iterate(flat=True):
            if isinstance(part, griffe.ExprName):
                yield part.canonical_path


def _get(package: griffe.Module, path: str) -> griffe.Object | griffe.Alias | None:
    try:
        return package.modules_collection.get_member(path)
    except (KeyError, ValueError):
        return None


def public_routes(package: griffe.Module) -> dict[str, str]:
    """Public path -> the path of the object it names, for every public object and every
    class a public object hands out without exporting it (``toloka_ext.Toloka.tasks ->
    Tasks`` names ``toloka_ext._sync._tasks.Tasks``)."""
    routes: dict[str, str] = {}
    todo: list[tuple[str, griffe.Object | griffe.Alias]] = []
    for module_path in PUBLIC_MODULES:
        module = _get(package, module_path)
        assert module is not None, module_path
        for name, member in module.members.items():
            target = _target(member)
            if member.is_public and not target.is_module:  # public modules: member by member
                routes[f"{module_path}.{name}"] = target.path
                todo.append((f"{module_path}.{name}", target))
    named = set(routes.values())
    seen: set[str] = set()
    while todo:
        route, obj = todo.pop()
        if obj.path in seen or obj.is_alias:
            continue
        seen.add(obj.path)
        annotations: list[object] = []
        if obj.is_class:
            for name, member in obj.members.items():
                if member.is_public and not member.is_alias:
                    todo.append((f"{route}.{name}", member))
        elif obj.is_function:
            # What a call hands out is API; what it takes is the caller's (and a reached
            # class is never built by users: its constructor is not API).
            annotations.append(obj.returns)  # type: ignore[union-attr]
        elif obj.is_attribute:
            annotations.append(obj.annotation)  # type: ignore[union-attr]
        for annotation in annotations:
            for path in _names_in(annotation):
                found = _get(package, path) if path.startswith(PACKAGE + ".") else None
                if found is None:
                    continue
                found = _target(found)
                if found.is_class and found.path not in named:
                    named.add(found.path)
                    reached = f"{route} -> {found.name}"
                    routes[reached] = found.path
                    todo.append((reached, found))
    return routes


def _with_bases(package: griffe.Module, paths: Iterable[str]) -> set[str]:
    """``paths`` and the classes of this package they inherit from (members are compared
    with inherited ones, so the baseline must hold the bases too)."""
    out: set[str] = set()
    todo = list(paths)
    while todo:
        path = todo.pop()
        if path in out:
            continue
        out.add(path)
        obj = _get(package, path)
        if obj is not None and obj.is_class:
            for base in obj.resolved_bases:  # type: ignore[union-attr]
                if base.path.startswith(PACKAGE + "."):
                    todo.append(base.path)
    return out


def _prune(node: dict[str, Any], path: str, ancestors: set[str], whole: set[str]) -> dict[str, Any]:
    """``node`` (griffe's JSON of the object at ``path``) holding only what the check reads:
    the objects in ``whole`` with their members (private ones left out), and the modules
    and classes on the way to them; no docstrings, no line numbers."""
    out = {k: v for k, v in node.items() if k not in _DROP_KEYS}
    if "lineno" in out:
        out["lineno"] = 0  # griffe's decoder needs one; the real one changes with every edit
    members = node.get("members")
    if isinstance(members, dict):
        inside = path in whole or any(path.startswith(w + ".") for w in whole)
        kept = {}
        for name, member in members.items():
            child = f"{path}.{name}"
            private = name.startswith("_") and not name.startswith("__")
            if child in ancestors or child in whole or (inside and not private):
                kept[name] = _prune(member, child, ancestors, whole)
        out["members"] = kept
    return out


def python_baseline(package: griffe.Module) -> dict[str, Any]:
    routes = public_routes(package)
    whole = _with_bases(package, routes.values())
    ancestors = {".".join(p.split(".")[:i]) for p in whole for i in range(1, p.count(".") + 1)}
    tree = json.loads(package.as_json(full=False))
    return {"routes": dict(sorted(routes.items())), "tree": _prune(tree, PACKAGE, ancestors, whole)}


def _layout(data: Any, indent: str = "") -> str:
    """JSON with one line per object of the API (members nested below it), each value on
    that line compact: a change to the API is a change to the lines of what changed."""
    if not isinstance(data, dict):
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
    inner = indent + " "
    items = []
    for key in sorted(data):
        value = data[key]
        if key in ("members", "routes", "tree") or (key == "" and isinstance(value, dict)):
            text = _layout(value, inner) if isinstance(value, dict) and value else "{}"
        elif isinstance(value, dict) and "kind" in value and key not in ("annotation",):
            text = _layout(value, inner)
        else:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        items.append(f"{inner}{json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def load_baseline_package(tree: dict[str, Any]) -> griffe.Module:
    old = griffe.Module.from_json(json.dumps(tree))
    collection = griffe.ModulesCollection()
    collection.set_member(PACKAGE, old)
    # griffe's JSON decoder builds a module without a collection, and aliases and bases
    # resolve through one; the loader sets this same attribute on the modules it builds.
    old._modules_collection = collection
    return old


def python_breaks(baseline: dict[str, Any], package: griffe.Module) -> list[Break]:
    old_package = load_baseline_package(baseline["tree"])
    new_routes = public_routes(package)
    breaks: list[Break] = []
    for route, old_path in baseline["routes"].items():
        old_obj = _get(old_package, old_path)
        new_path = new_routes.get(route)
        new_obj = _get(package, new_path) if new_path is not None else None
        if old_obj is None:
            continue
        if new_obj is None:
            if "->" not in route:
                breaks.append(Break(_short(route), "removed"))
            # A class no longer handed out by that route: the attribute or return type
            # changed, which the route's own object reports if it breaks anything.
            continue
        found = _compare(route.split(" -> ")[0], old_obj, new_obj)
        if "->" in route:  # users never build a class they are handed
            found = (b for b in found if not b.path.endswith(".__init__"))
        breaks.extend(found)
    return sorted(set(breaks), key=lambda b: (b.path, b.what))


def _compare(
    route: str, old_obj: griffe.Object | griffe.Alias, new_obj: griffe.Object | griffe.Alias
) -> Iterator[Break]:
    old_target, new_target = _target(old_obj), _target(new_obj)
    if old_target.kind != new_target.kind:
        yield Break(_short(route), f"was a {old_target.kind.value}, now a {new_target.kind.value}")
        return
    if old_target.is_class:
        found = griffe.find_breaking_changes(old_target, new_target)
    else:
        # find_breaking_changes compares the members of what it is given: a function or an
        # attribute goes in a stand-in module of its own (not re-parented: members only).
        old_holder, new_holder = griffe.Module("_old"), griffe.Module("_new")
        old_holder.members[old_target.name] = old_target  # type: ignore[assignment]
        new_holder.members[old_target.name] = new_target  # type: ignore[assignment]
        found = griffe.find_breaking_changes(old_holder, new_holder)
    for breakage in found:
        path = breakage.obj.path
        for prefix in (old_target.path, new_target.path):
            if path == prefix or path.startswith(prefix + "."):
                path = path[len(prefix) :]
                break
        else:
            path = "." + breakage.obj.name
        suffix, what = _explain(breakage)
        yield Break(_short(route + path) + suffix, what)


def _explain(breakage: griffe.Breakage) -> tuple[str, str]:
    """``("(param)", "what happened")`` for one of griffe's breakages."""
    old, new = breakage.old_value, breakage.new_value
    kind = breakage.kind.value.lower()
    if isinstance(old, griffe.Parameter) or isinstance(new, griffe.Parameter):
        name = (old or new).name
        if isinstance(breakage, griffe.ParameterChangedDefaultBreakage):
            kind += f" ({old.default} -> {new.default})"
        elif isinstance(breakage, griffe.ParameterChangedKindBreakage):
            kind += f" ({old.kind.value} -> {new.kind.value})"
        elif breakage.details:
            kind += f" ({breakage.details})"
        return f"({name})", kind
    if isinstance(breakage, griffe.ClassRemovedBaseBreakage):
        gone = {b.canonical_path for b in old} - {b.canonical_path for b in new}
        return "", f"{kind}: {', '.join(sorted(gone))}"
    if isinstance(breakage, griffe.ObjectChangedKindBreakage):
        return "", f"{kind} ({old.value} -> {new.value})"
    return "", kind


def _short(path: str) -> str:
    return path[len(PACKAGE) + 1 :] if path.startswith(PACKAGE + ".") else path


# -- the command line -----------------------------------------------------------------------


def cli_baseline() -> dict[str, Any]:
    import typer.main

    from toloka_ext._cli import _app, _exit
    from toloka_ext._cli._output import result_document
    from toloka_ext._exceptions import TolokaError
    from toloka_ext.types import TaskCreateResult

    commands: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        params = {}
        for param in command.params:
            kind = param.param_type_name
            key = param.name if kind == "argument" else "/".join(param.opts)
            params[key] = {
                "kind": kind,
                "opts": sorted([*param.opts, *getattr(param, "secondary_opts", [])]),
                "required": bool(param.required),
                "multiple": bool(getattr(param, "multiple", False)),
            }
        commands[path or "(global)"] = dict(sorted(params.items()))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(_app.app), "")
    exit_codes = {
        name: getattr(_exit, name)
        for name in ("OK", "API_ERROR", "BAD_INPUT", "DRIFT", "OUTCOME_UNKNOWN", "INTERRUPTED")
    }
    error = _exit.error_document(TolokaError("x"))["error"]
    return {
        "commands": commands,
        "exit_codes": exit_codes,
        "json": {
            "tasks create": sorted(result_document(TaskCreateResult())),
            "error": sorted(error),
        },
    }


def cli_breaks(old: dict[str, Any], new: dict[str, Any]) -> list[Break]:
    breaks: list[Break] = []
    for command, params in old["commands"].items():
        if command not in new["commands"]:
            breaks.append(Break(command, "command removed"))
            continue
        now = new["commands"][command]
        now_opts = {opt for p in now.values() for opt in p["opts"]}
        for key, param in params.items():
            if param["kind"] == "argument":
                if key not in now:
                    breaks.append(Break(f"{command} {key.upper()}", "argument removed"))
                continue
            for opt in param["opts"]:
                if opt not in now_opts:
                    breaks.append(Break(f"{command} {opt}", "flag removed"))
        for key, param in now.items():
            if param["required"] and (key not in params or not params[key]["required"]):
                what = "argument" if param["kind"] == "argument" else "option"
                name = key.upper() if param["kind"] == "argument" else key
                breaks.append(Break(f"{command} {name}", f"new required {what}"))
    for name, code in old["exit_codes"].items():
        if new["exit_codes"].get(name) != code:
            breaks.append(
                Break(f"exit code {name}", f"was {code}, now {new['exit_codes'].get(name)}")
            )
    for document, keys in old["json"].items():
        for key in sorted(set(keys) - set(new["json"].get(document, []))):
            breaks.append(Break(f"--json {document} key {key}", "removed"))
    return breaks


# -- the policy -----------------------------------------------------------------------------


def current_version(root: Path) -> str:
    text = (root / PACKAGE / "_version.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if found is None:
        raise SystemExit("api_check: no __version__ in toloka_ext/_version.py")
    return found[1]


def next_breaking(version: str) -> Version:
    """The least version a break may ship in after ``version`` (0.x: the next minor)."""
    v = Version(version)
    return Version(f"0.{v.minor + 1}.0") if v.major == 0 else Version(f"{v.major + 1}.0.0")


def changelog_section(changelog: str, version: str) -> str | None:
    """The text of ``## [version]`` in a Keep a Changelog file, or ``None``."""
    found = re.search(
        rf"^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## |\Z)", changelog, re.M | re.S
    )
    return found[1] if found else None


def names(brk: Break) -> set[str]:
    """How a changelog may name a broken object: as printed, without the parameter, and a
    constructor as the call (``Toloka.__init__(timeout)``: also ``Toloka.__init__``,
    ``Toloka(``); each with or without the package's name in front."""
    plain = brk.path.split("(")[0]
    found = {brk.path, plain}
    if plain.endswith(".__init__"):
        found.add(plain[: -len(".__init__")] + "(")
    return found | {f"{PACKAGE}.{n}" for n in found}


def unannounced(breaks: Iterable[Break], section: str | None) -> list[Break]:
    if section is None:
        return list(breaks)
    return [b for b in breaks if not any(n in section for n in names(b))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="record the API as the baseline")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root: Path = args.root
    base = root / "api"
    sys.path.insert(0, str(root))
    package = load_current(root)
    version = current_version(root)
    if args.write:
        base.mkdir(exist_ok=True)
        python = {"version": version, **python_baseline(package)}
        (base / "toloka_ext.json").write_text(_layout(python) + "\n")
        cli = {"version": version, **cli_baseline()}
        (base / "cli.json").write_text(json.dumps(cli, indent=1, sort_keys=True) + "\n")
        print(f"api_check: baseline written for {version} ({base.relative_to(root)}/)")
        return 0
    try:
        python = json.loads((base / "toloka_ext.json").read_text(encoding="utf-8"))
        cli = json.loads((base / "cli.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"api_check: cannot read the baseline in api/: {exc}", file=sys.stderr)
        return 2
    breaks = python_breaks(python, package) + cli_breaks(cli, cli_baseline())
    baseline_version = python["version"]
    if not breaks:
        print(f"api_check: no break against the baseline of {baseline_version}")
        return 0
    needed = next_breaking(baseline_version)
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    section = changelog_section(changelog, version)
    missing = unannounced(breaks, section)
    bumped = Version(version) >= needed
    head = f"api_check: {len(breaks)} break(s) against the baseline of {baseline_version}:"
    lines = [head, *(f"  {b.line()}" for b in breaks)]
    if bumped and not missing:
        print("\n".join([*lines, f"announced: version {version} and CHANGELOG.md say so"]))
        return 0
    if not bumped:
        lines.append(
            f"a break needs version {needed} or later in toloka_ext/_version.py "
            f"(it is {version}); or deprecate instead (docs/versioning.md)"
        )
    if missing:
        where = f"## [{version}]" if section is not None else f"a section ## [{version}]"
        lines.append(f"CHANGELOG.md needs {where} naming: " + ", ".join(b.path for b in missing))
    print("\n".join(lines), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
