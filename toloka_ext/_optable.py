"""The operation table of an OpenAPI document: per ``operationId`` its method, path,
parameter names by location and top-level request-body properties; and the checks a
client can make of a request before sending it (:func:`request_checks`).

One function serves both places that need it: ``scripts/snapshot_module.py`` writes the
snapshot's table into the generated package (``toloka_pipeline_api._snapshot``), from
which the extension layer builds its requests, and ``toloka-ext spec pull`` reduces a live
document to the same table to compare it with that snapshot. Pure and dependency-free:
the generator loads this file by path, before the package it describes exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["METHODS", "operation_table", "request_checks", "resolve"]

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

_MAX_REF_HOPS = 64  # a $ref chain longer than this is a cycle: stop rather than spin


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` s (``#/components/...``, JSON-pointer escapes); a dangling
    one resolves to ``{}``."""
    hops = 0
    while isinstance(node, dict) and "$ref" in node and hops < _MAX_REF_HOPS:
        target: Any = doc
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        node = target
        hops += 1
    return node


def _operations(
    doc: dict[str, Any],
) -> Iterator[tuple[str, str, str, dict[str, Any], list[dict[str, Any]]]]:
    """Each operation as ``(key, method, path, operation, parameters)``: the key is its
    ``operationId`` (else ``"METHOD /path"``), parameters resolved, the path's shared ones
    first."""
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = [resolve(doc, p) for p in item.get("parameters", [])]
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = shared + [resolve(doc, p) for p in op.get("parameters", [])]
            key = str(op.get("operationId") or f"{method.upper()} {path}")
            yield key, method, str(path), op, params


def _properties(doc: dict[str, Any], schema: Any) -> tuple[list[str], list[str]]:
    """Top-level property names and required names of a request body schema."""
    schema = resolve(doc, schema) or {}
    names: list[str] = []
    required: list[str] = []
    for part in [schema, *(schema.get("allOf") or [])]:
        part = resolve(doc, part) or {}
        names.extend(part.get("properties", {}))
        required.extend(part.get("required", []))
    return sorted(set(names)), sorted(set(required))


def operation_table(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per operation, sorted by id: ``method``, ``path``, ``path_params``, ``query``,
    ``headers``, ``body`` (property names, ``None`` without a body), ``body_required``,
    ``content_type``. An operation without ``operationId`` is keyed ``"METHOD /path"``.

    Example::

        operation_table({"paths": {"/runs/{id}": {"get": {"operationId": "getRun"}}}})
        # {"getRun": {"method": "GET", "path": "/runs/{id}", "path_params": [], ...}}
    """
    table: dict[str, dict[str, Any]] = {}
    for key, method, path, op, params in _operations(doc):
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
        body = resolve(doc, op.get("requestBody"))
        if body and body.get("content"):
            content_type, media = next(iter(body["content"].items()))
            entry["content_type"] = content_type
            entry["body"], entry["body_required"] = _properties(doc, media.get("schema"))
        table[key] = entry
    return dict(sorted(table.items()))


# What a client can check of a value before sending it: its JSON type and bounds. Enums are
# left out on purpose: a value the snapshot does not list may be one the API has added.
_CHECKED_KEYS = ("type", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems")


def _checks(doc: dict[str, Any], schema: Any, *guessed: Any) -> dict[str, Any]:
    """The checked keys of ``schema`` (resolved), none if it or any of ``guessed`` (the
    parameter, the body schema) is marked ``x-guess``: a guess is no ground to refuse."""
    schema = resolve(doc, schema) or {}
    if any(isinstance(g, dict) and g.get("x-guess") for g in (schema, *guessed)):
        return {}
    return {key: schema[key] for key in _CHECKED_KEYS if key in schema}


def request_checks(doc: dict[str, Any]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """Per operation, the checks of its path and query parameters and of its top-level
    request-body properties: ``{"path": {name: checks}, "query": {...}, "body": {...}}``,
    each ``checks`` a subset of ``type``, ``minLength``, ``maxLength``, ``minimum``,
    ``maximum``, ``minItems``, ``maxItems`` (names without any are left out).

    Example::

        request_checks(doc)["getRun"]
        # {"path": {"runId": {"type": "string", "minLength": 1}}, "query": {}, "body": {}}
    """
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for key, _method, _path, op, params in _operations(doc):
        entry: dict[str, dict[str, dict[str, Any]]] = {"path": {}, "query": {}, "body": {}}
        for param in params:
            where = param.get("in")
            if where in ("path", "query"):
                checks = _checks(doc, param.get("schema"), param)
                if checks:
                    entry[str(where)][str(param["name"])] = checks
        body = resolve(doc, op.get("requestBody"))
        if body and body.get("content"):
            media = next(iter(body["content"].values()))
            schema = resolve(doc, media.get("schema")) or {}
            for part in [schema, *(schema.get("allOf") or [])]:
                part = resolve(doc, part) or {}
                for name, prop in (part.get("properties") or {}).items():
                    checks = _checks(doc, prop, schema, part)
                    if checks:
                        entry["body"][str(name)] = checks
        out[key] = entry
    return dict(sorted(out.items()))
