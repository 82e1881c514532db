"""Print the ``_snapshot.py`` module that ``generate.sh`` adds to the generated package.

It records which snapshot the code was generated from (``info.x-snapshot`` of the spec),
so errors about API drift can name the snapshot version, and the snapshot's operation
table (method, path, parameters, request-body properties per ``operationId``), from which
the extension layer builds its requests: one place that knows where each operation lives.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _properties(spec: dict[str, Any], schema: Any) -> tuple[list[str], list[str]]:
    """Top-level property names and required names of a request body schema."""
    schema = _resolve(spec, schema) or {}
    names: list[str] = []
    required: list[str] = []
    for part in [schema, *(schema.get("allOf") or [])]:
        part = _resolve(spec, part) or {}
        names.extend(part.get("properties", {}))
        required.extend(part.get("required", []))
    return sorted(set(names)), sorted(set(required))


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for path, item in spec.get("paths", {}).items():
        shared = [_resolve(spec, p) for p in item.get("parameters", [])]
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = shared + [_resolve(spec, p) for p in op.get("parameters", [])]
            entry: dict[str, Any] = {
                "method": method.upper(),
                "path": path,
                "path_params": sorted(p["name"] for p in params if p.get("in") == "path"),
                "query": sorted(p["name"] for p in params if p.get("in") == "query"),
                "headers": sorted(p["name"] for p in params if p.get("in") == "header"),
                "body": None,
                "body_required": [],
                "content_type": None,
            }
            body = _resolve(spec, op.get("requestBody"))
            if body:
                content_type, media = next(iter(body.get("content", {}).items()))
                entry["content_type"] = content_type
                entry["body"], entry["body_required"] = _properties(spec, media.get("schema"))
            table[str(op["operationId"])] = entry
    return dict(sorted(table.items()))


def render(spec_path: Path) -> str:
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
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
    )


if __name__ == "__main__":
    sys.stdout.write(render(Path(sys.argv[1])))
