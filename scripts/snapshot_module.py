"""Print the ``_snapshot.py`` module that ``generate.sh`` adds to the generated package.

It records which snapshot the code was generated from (``info.x-snapshot`` of the spec),
so errors about API drift can name the snapshot version, and the snapshot's operation
table (method, path, parameters, request-body properties per ``operationId``), from which
the extension layer builds its requests: one place that knows where each operation lives;
plus the checks made before sending and the full request shapes (nested names, bounds,
guesses) by which a refusal is judged drift or the caller's mistake.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_PURE = "_toloka_ext_pure"  # toloka_ext/ as a package whose __init__ is never run


def _pure(name: str) -> ModuleType:
    """``toloka_ext/<name>.py`` (``_optable``, ``_openapi``) from its file: importing
    ``toloka_ext`` would import the generated package this script is helping to write, so
    the folder is loaded as a package of another name, its ``__init__`` never run."""
    if _PURE not in sys.modules:
        package = ModuleType(_PURE)
        package.__path__ = [str(Path(__file__).resolve().parent.parent / "toloka_ext")]
        sys.modules[_PURE] = package
    return importlib.import_module(f"{_PURE}.{name}")


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The snapshot's operation table (one implementation: ``toloka_ext._optable``)."""
    table: dict[str, dict[str, Any]] = _pure("_optable").operation_table(spec)
    return table


def checks(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a request must satisfy before it is sent (``toloka_ext._optable``)."""
    table: dict[str, dict[str, Any]] = _pure("_optable").request_checks(spec)
    return table


def shapes(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every request's shape, nested names and guessed bounds included (``toloka_ext._optable``)."""
    table: dict[str, dict[str, Any]] = _pure("_optable").request_shapes(spec)
    return table


def render(spec_path: Path) -> str:
    spec = _pure("_openapi").load_text(spec_path.read_text(encoding="utf-8"))
    meta = dict(spec.get("info", {}).get("x-snapshot") or {})
    fields = {
        "api_version": str(spec.get("info", {}).get("version", "")),
        "source": str(meta.get("source", "")),
        "mode": str(meta.get("mode", "")),
        "date": str(meta.get("date", "")),
        "sha256": str(meta.get("sha256", "")),
    }
    body = "".join(f"    {k!r}: {v!r},\n" for k, v in fields.items())
    ops = "".join(f"    {name!r}: {entry!r},\n" for name, entry in operations(spec).items())
    rules = "".join(f"    {name!r}: {entry!r},\n" for name, entry in checks(spec).items())
    forms = "".join(f"    {name!r}: {entry!r},\n" for name, entry in shapes(spec).items())
    return (
        '"""Which OpenAPI snapshot this package was generated from (written by generate.sh)."""\n'
        "\n"
        "from typing import Any\n"
        "\n"
        f"SNAPSHOT: dict[str, str] = {{\n{body}}}\n"
        "\n"
        "SNAPSHOT_VERSION = f\"{SNAPSHOT['api_version']}@{SNAPSHOT['date']}"
        "#{SNAPSHOT['sha256'][:12]}\"\n"
        "\n"
        "# operationId -> method, path template, parameter names by location, and the top-level\n"
        "# request-body properties (None: no body) with the required ones.\n"
        f"OPERATIONS: dict[str, dict[str, Any]] = {{\n{ops}}}\n"
        "\n"
        "# operationId -> the JSON type and bounds each path / query parameter and top-level\n"
        "# request-body property must keep (none from a guessed schema, no enums).\n"
        f"REQUEST_CHECKS: dict[str, dict[str, Any]] = {{\n{rules}}}\n"
        "\n"
        "# operationId -> the shape the snapshot gives each path / query parameter and the\n"
        "# request body: types, formats, patterns, enums, bounds, nested properties and\n"
        "# required names, guesses marked (to judge a 400 that blames a known name).\n"
        f"REQUEST_SHAPES: dict[str, dict[str, Any]] = {{\n{forms}}}\n"
    )


if __name__ == "__main__":
    sys.stdout.write(render(Path(sys.argv[1])))
