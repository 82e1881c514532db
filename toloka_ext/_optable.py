"""The operation table of an OpenAPI document: per ``operationId`` its method, path,
parameter names by location and top-level request-body properties; the checks a client
can make of a request before sending it (:func:`request_checks`); and the whole shape the
document gives each request (:func:`request_shapes`), to tell a server's refusal of what the
document allows (drift) from a refusal of what it forbids (the caller's mistake).

``scripts/snapshot_module.py`` writes the snapshot's table into the generated package, from
which the extension layer builds its requests; ``toloka-ext spec pull`` reduces a live
document to the same table to compare the two. Pure, importing only ``_openapi``: the
generator loads both by path, before the package they describe exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._openapi import Document

__all__ = ["operation_table", "request_checks", "request_shapes"]


def _operations(
    doc: Document,
) -> Iterator[tuple[str, str, str, dict[str, Any], list[dict[str, Any]]]]:
    """Each operation as ``(key, method, path, operation, parameters)``: the key is its
    ``operationId`` (else ``"METHOD /path"``), parameters resolved, the path's shared ones
    first."""
    for path, method, op, shared in doc.operations():
        own = op.get("parameters")
        params = [doc.resolve(p)[0] for p in [*shared, *(own if isinstance(own, list) else [])]]
        key = str(op.get("operationId") or f"{method.upper()} {path}")
        yield key, method, path, op, params


def _properties(doc: Document, schema: Any) -> tuple[list[str], list[str]]:
    """Top-level property names and required names of a request body schema."""
    merged, _ = doc.merged(schema)
    return sorted(set(merged.get("properties") or {})), sorted(set(merged.get("required") or []))


def operation_table(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per operation, sorted by id: ``method``, ``path``, ``path_params``, ``query``,
    ``headers``, ``body`` (property names, ``None`` without a body), ``body_required``,
    ``content_type``. An operation without ``operationId`` is keyed ``"METHOD /path"``.

    Example::

        operation_table({"paths": {"/runs/{id}": {"get": {"operationId": "getRun"}}}})
        # {"getRun": {"method": "GET", "path": "/runs/{id}", "path_params": [], ...}}
    """
    table: dict[str, dict[str, Any]] = {}
    walker = Document(doc)
    for key, method, path, op, params in _operations(walker):
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
        body, _ = walker.resolve(op.get("requestBody"))
        if body.get("content"):
            content_type, media = next(iter(body["content"].items()))
            entry["content_type"] = content_type
            entry["body"], entry["body_required"] = _properties(walker, media.get("schema"))
        table[key] = entry
    return dict(sorted(table.items()))


# What a client can check of a value before sending it: its JSON type and bounds. Enums are
# left out on purpose: a value the snapshot does not list may be one the API has added.
_CHECKED_KEYS = ("type", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems")


def _checks(doc: Document, schema: Any, *guessed: Any) -> dict[str, Any]:
    """The checked keys of ``schema`` (resolved), none if it or any of ``guessed`` (the
    parameter, the body schema) is marked ``x-guess``: a guess is no ground to refuse."""
    schema, _ = doc.resolve(schema)
    if any(isinstance(g, dict) and g.get("x-guess") for g in (schema, *guessed)):
        return {}
    return {key: schema[key] for key in _CHECKED_KEYS if key in schema}


def request_checks(doc: dict[str, Any]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """Per operation, the checks of its path and query parameters and of its top-level
    request-body properties: ``{"path": {name: checks}, "query": {...}, "body": {...}}``,
    each ``checks`` a subset of ``type``, ``minLength``, ``maxLength``, ``minimum``,
    ``maximum``, ``minItems``, ``maxItems`` (names without any are left out; none at all
    under a body schema any of whose ``allOf`` parts is a guess).

    Example::

        request_checks(doc)["getRun"]
        # {"path": {"runId": {"type": "string", "minLength": 1}}, "query": {}, "body": {}}
    """
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    walker = Document(doc)
    for key, _method, _path, op, params in _operations(walker):
        entry: dict[str, dict[str, dict[str, Any]]] = {"path": {}, "query": {}, "body": {}}
        for param in params:
            where = param.get("in")
            if where in ("path", "query"):
                checks = _checks(walker, param.get("schema"), param)
                if checks:
                    entry[str(where)][str(param["name"])] = checks
        body, _ = walker.resolve(op.get("requestBody"))
        if body.get("content"):
            media = next(iter(body["content"].values()))
            schema, _ = walker.merged(media.get("schema"))
            for name, prop in (schema.get("properties") or {}).items():
                checks = _checks(walker, prop, schema)
                if checks:
                    entry["body"][str(name)] = checks
        out[key] = entry
    return dict(sorted(out.items()))


# What a request shape keeps of a schema: what says which values are allowed.
_SHAPE_KEYS = tuple(
    "type format pattern enum minLength maxLength minimum maximum exclusiveMinimum"
    " exclusiveMaximum minItems maxItems".split()
)
_MAX_SHAPE_DEPTH = 16


def _shape(doc: Document, schema: Any, depth: int = 0) -> dict[str, Any]:
    """A schema as the request shape: refs resolved, ``allOf`` merged, ``properties`` /
    ``items`` / ``oneOf`` shaped in turn, ``guess: True`` where the document marks an
    ``x-guess``. Stops (an empty shape: anything) past a depth that only a cycle reaches."""
    schema, _ = doc.merged(schema)
    if depth > _MAX_SHAPE_DEPTH:
        return {}
    out: dict[str, Any] = {}
    for key in _SHAPE_KEYS:
        if key in schema:
            value = schema[key]
            out[key] = list(value) if isinstance(value, list) else value
    if schema.get("x-guess"):
        out["guess"] = True
    properties = schema.get("properties") or {}
    if properties:
        shaped = {str(n): _shape(doc, prop, depth + 1) for n, prop in properties.items()}
        out["properties"] = dict(sorted(shaped.items()))
    if schema.get("required"):
        out["required"] = sorted({str(r) for r in schema["required"]})
    if "items" in schema:
        out["items"] = _shape(doc, schema["items"], depth + 1)
    variants = [*(schema.get("oneOf") or []), *(schema.get("anyOf") or [])]
    if variants:
        out["oneOf"] = [_shape(doc, v, depth + 1) for v in variants]
    return out


def request_shapes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per operation, the shape of each path and query parameter and of the request body:
    ``{"path": {name: shape}, "query": {...}, "body": shape or None}``. A shape keeps
    ``type``, ``format``, ``pattern``, ``enum``, the bounds, ``properties`` (shapes),
    ``required``, ``items`` and ``oneOf`` (shapes), and ``guess: True`` where the document
    marks a guess (on the parameter or the schema). Guesses are kept: a server refusing a
    value that even a guessed bound allows has changed, not the caller.

    Example::

        request_shapes(doc)["createUpload"]["body"]["properties"]["fields"]["items"]
        # {"properties": {"jsonSchema": {...}, "name": {"minLength": 1, "type": "string"}},
        #  "required": ["name"], "type": "object"}
    """
    out: dict[str, dict[str, Any]] = {}
    walker = Document(doc)
    for key, _method, _path, op, params in _operations(walker):
        entry: dict[str, Any] = {"path": {}, "query": {}, "body": None}
        for param in params:
            where = param.get("in")
            if where in ("path", "query"):
                shape = _shape(walker, param.get("schema"))
                if param.get("x-guess"):
                    shape["guess"] = True
                entry[str(where)][str(param["name"])] = shape
        body, _ = walker.resolve(op.get("requestBody"))
        if body.get("content"):
            media = next(iter(body["content"].values()))
            entry["body"] = _shape(walker, media.get("schema"))
        out[key] = entry
    return dict(sorted(out.items()))
