"""Test cases generated from the snapshots, one per instance of each class of issue 20.

Everything here is read from ``openapi/v2-beta.yaml`` (and ``openapi/v1.yaml`` for the v1
operation status), so a status value, a list or a bound the snapshot gains gets its cases
without anyone writing them; a polled operation or a list without a driver in the tests
fails ``test_every_generated_class_has_its_drivers``.

- :func:`polled_statuses`: every status enum of an object the client polls (``GET`` of one
  object by id whose ``status`` is a component enum), with the values the layer treats as
  final (done or failed) and those it waits through.
- :func:`paginated_lists`: every list paged by ``offset`` (a ``GET`` with an ``offset``
  query parameter), with the key of its items.
- :func:`request_bounds`: every bound (``minimum``, ``maxLength``, ``minItems``...) in a
  request: path and query parameters and body properties at any depth, as the path a
  server names in a refusal (``fields[0].name``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scripts.pull_spec import load_text, plain
from tests.drift.mutations import ROOT, Spec, load_snapshot
from toloka_ext._openapi import Document
from toloka_ext._optable import request_shapes
from toloka_ext._v1._models import Operation
from toloka_ext._v2._workflow import (
    export_is_done,
    export_is_failed,
    run_is_done,
    run_is_failed,
    upload_is_done,
    upload_is_failed,
)
from toloka_ext.types import Export, ExportStatus, Run, RunStatus, Upload, UploadStatus

V1_PATH = ROOT / "openapi" / "v1.yaml"


@dataclass(frozen=True)
class PolledStatus:
    """A status enum the client polls: ``operation`` (``getRun``), the component
    (``RunStatus``), every value, and those the layer treats as final."""

    api: str
    operation: str
    schema: str
    values: tuple[str, ...]
    final: tuple[str, ...]

    @property
    def waiting(self) -> tuple[str, ...]:
        return tuple(v for v in self.values if v not in self.final)


def _is_final(schema: str, value: str) -> bool:
    """Whether the layer's own predicates end a poll on ``value``."""
    if schema == "RunStatus":
        run = Run(id="r", status=RunStatus(value))
        return run_is_done(run) or run_is_failed(run)
    if schema == "UploadStatus":
        upload = Upload(id="u", status=UploadStatus(value))
        return upload_is_done(upload) or upload_is_failed(upload)
    if schema == "ExportStatus":
        export = Export(id="e", status=ExportStatus(value), download_url="https://s.test/f")
        return export_is_done(export) or export_is_failed(export)
    if schema == "Operation.status":
        operation = Operation(id="op", status=value)
        return operation.succeeded or operation.failed
    raise AssertionError(f"no predicate for {schema}")


def _success_schema(spec: Spec, op: dict[str, Any]) -> dict[str, Any]:
    for status, response in (op.get("responses") or {}).items():
        if str(status).startswith("2"):
            media = (response.get("content") or {}).get("application/json") or {}
            return Document(spec).resolve(media.get("schema"))[0]
    return {}


def _operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                yield path, method, op


def polled_statuses(spec: Spec | None = None) -> list[PolledStatus]:
    """Every v2 ``GET /<things>/{id}`` whose object has a component enum ``status``, plus the
    v1 operation status."""
    spec = spec or load_snapshot()
    found: list[PolledStatus] = []
    for path, method, op in _operations(spec):
        if method != "get" or not path.rstrip("/").endswith("}"):
            continue
        status = (_success_schema(spec, op).get("properties") or {}).get("status")
        if not isinstance(status, dict) or "$ref" not in status:
            continue
        name = str(status["$ref"]).rsplit("/", 1)[-1]
        values = tuple(str(v) for v in Document(spec).resolve(status)[0].get("enum") or ())
        if values:
            final = tuple(v for v in values if _is_final(name, v))
            found.append(PolledStatus("v2", str(op["operationId"]), name, values, final))
    v1: Spec = plain(load_text(V1_PATH.read_text(encoding="utf-8")))
    values = tuple(v1["components"]["schemas"]["Operation"]["properties"]["status"]["enum"])
    final = tuple(v for v in values if _is_final("Operation.status", v))
    found.append(PolledStatus("v1", "getOperation", "Operation.status", values, final))
    return sorted(found, key=lambda p: p.operation)


@dataclass(frozen=True)
class PaginatedList:
    """A list paged by ``limit``/``offset``: its operation and the key of its items."""

    operation: str
    path: str
    key: str


def paginated_lists(spec: Spec | None = None) -> list[PaginatedList]:
    spec = spec or load_snapshot()
    found: list[PaginatedList] = []
    for path, method, op in _operations(spec):
        params = [Document(spec).resolve(p)[0] for p in op.get("parameters", [])]
        if method != "get" or not any(p.get("name") == "offset" for p in params):
            continue
        schema = _success_schema(spec, op)
        arrays = [k for k, v in (schema.get("properties") or {}).items() if "items" in v]
        (key,) = arrays
        found.append(PaginatedList(str(op["operationId"]), path, key))
    return sorted(found, key=lambda p: p.operation)


_BOUND_KEYS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


@dataclass(frozen=True)
class RequestBound:
    """One bound of a request: ``operation``, where (``path``, ``query``, ``body``), the
    name a server would blame (``fields[0].name``), the keyword and its value."""

    operation: str
    where: str
    field: str
    keyword: str
    value: float
    guess: bool

    @property
    def id(self) -> str:
        return f"{self.operation}:{self.field}:{self.keyword}"


def _bounds(shape: dict[str, Any], field: str, guess: bool) -> Iterator[tuple[str, str, Any, bool]]:
    guess = guess or bool(shape.get("guess"))
    for keyword in _BOUND_KEYS:
        if keyword in shape:
            yield field, keyword, shape[keyword], guess
    for name, sub in (shape.get("properties") or {}).items():
        yield from _bounds(sub, f"{field}.{name}" if field else name, guess)
    if "items" in shape:
        yield from _bounds(shape["items"], f"{field}[0]", guess)
    for variant in shape.get("oneOf") or ():
        yield from _bounds(variant, field, guess)  # a server names the place, not the variant


def request_bounds(spec: Spec | None = None) -> list[RequestBound]:
    spec = spec or load_snapshot()
    found: list[RequestBound] = []
    for operation, entry in request_shapes(spec).items():
        for where in ("path", "query"):
            for name, shape in entry[where].items():
                for field, keyword, value, guess in _bounds(shape, name, False):
                    found.append(RequestBound(operation, where, field, keyword, value, guess))
        if entry["body"]:
            for field, keyword, value, guess in _bounds(
                entry["body"], "", bool(entry["body"].get("guess"))
            ):
                found.append(RequestBound(operation, "body", field, keyword, value, guess))
    # a oneOf whose variants share a bound at the same place counts once
    unique = {b.id: b for b in found}
    return sorted(unique.values(), key=lambda b: b.id)


# --------------------------------------------------------------------------- mutations


def _ref_target(spec: Spec, node: Any) -> Any:
    """The dict a ``$ref`` chain ends at, in ``spec`` itself (so edits land in the document)."""
    walker = Document(spec)
    for _ in range(32):  # a longer chain is a cycle
        if not (isinstance(node, dict) and "$ref" in node):
            break
        node, _where = walker.lookup(str(node["$ref"]))
    return node


def _operation(spec: Spec, operation: str) -> tuple[str, str, dict[str, Any]]:
    for path, method, op in _operations(spec):
        if op["operationId"] == operation:
            return path, method, op
    raise KeyError(operation)


def _steps(field: str) -> list[str]:
    """``"fields[0].name"`` -> ``["fields", "[]", "name"]``."""
    out: list[str] = []
    for part in field.split("."):
        name, _, rest = part.partition("[")
        out.append(name)
        out.extend("[]" for _ in range(rest.count("]")))
    return out


def schemas_at(spec: Spec, root: Any, field: str) -> list[dict[str, Any]]:
    """The schema(s) in ``spec`` at ``field`` under ``root`` (every oneOf variant that has
    it), resolved to the dicts of the document itself."""
    nodes = [_ref_target(spec, root)]
    for step in [s for s in _steps(field) if s]:
        following: list[dict[str, Any]] = []
        for node in nodes:
            variants = [node, *(_ref_target(spec, v) for v in node.get("oneOf", []))]
            for variant in variants:
                if step == "[]" and "items" in variant:
                    following.append(_ref_target(spec, variant["items"]))
                elif step in (variant.get("properties") or {}):
                    following.append(_ref_target(spec, variant["properties"][step]))
        nodes = following
    return nodes


def bound_schemas(spec: Spec, bound: RequestBound) -> list[dict[str, Any]]:
    """The schemas of ``spec`` that hold ``bound``."""
    path, _, op = _operation(spec, bound.operation)
    if bound.where in ("path", "query"):
        name = bound.field.split(".")[0].split("[")[0]
        for raw in [*spec["paths"][path].get("parameters", []), *op.get("parameters", [])]:
            param = _ref_target(spec, raw)
            if param.get("name") == name and param.get("in") == bound.where:
                return [_ref_target(spec, param["schema"])]
        raise KeyError(bound.id)
    media = next(iter(_ref_target(spec, op["requestBody"])["content"].values()))
    found = [s for s in schemas_at(spec, media["schema"], bound.field) if bound.keyword in s]
    assert found, bound.id
    return found


def tightened(bound: RequestBound) -> float:
    """A tighter value of ``bound`` (the issue's ``limit`` maximum 100 -> 50)."""
    if bound.keyword.startswith("max"):
        return int(bound.value) // 2
    return int(bound.value) + 1


def tighten(spec: Spec, bound: RequestBound) -> Spec:
    for schema in bound_schemas(spec, bound):
        schema[bound.keyword] = tightened(bound)
    return spec


def rename_status(spec: Spec, polled: PolledStatus, value: str, renamed: str) -> Spec:
    """``value`` of the component enum renamed (the issue's ``completed`` -> ``succeeded``),
    response examples following it."""
    enum = spec["components"]["schemas"][polled.schema]["enum"]
    enum[enum.index(value)] = renamed

    def follow(node: Any) -> None:
        if isinstance(node, dict):
            for key, sub in node.items():
                if key == "status" and sub == value:
                    node[key] = renamed
                else:
                    follow(sub)
        elif isinstance(node, list):
            for sub in node:
                follow(sub)

    for _, _, op in _operations(spec):
        for response in (op.get("responses") or {}).values():
            follow((response.get("content") or {}) if isinstance(response, dict) else None)
    return spec


def cursor_paging(spec: Spec, listed: PaginatedList) -> Spec:
    """The issue's new scheme on ``listed``: ``offset`` -> ``pageToken``, ``pagination`` ->
    ``nextPageToken`` (examples following it; other lists keep theirs)."""
    _, _, op = _operation(spec, listed.operation)
    op["parameters"] = [
        p for p in op["parameters"] if _ref_target(spec, p).get("name") != "offset"
    ] + [
        {
            "description": "Token of the page to fetch (from nextPageToken).",
            "in": "query",
            "name": "pageToken",
            "schema": {"type": "string"},
        }
    ]
    media = op["responses"]["200"]["content"]["application/json"]
    name = str(media["schema"]["$ref"]).rsplit("/", 1)[-1]
    wrapper = spec["components"]["schemas"][name]
    wrapper["properties"].pop("pagination")
    wrapper["properties"]["nextPageToken"] = {"type": "string"}
    examples = [
        media.get("example"),
        *(e.get("value") for e in (media.get("examples") or {}).values()),
    ]
    for example in examples:
        if isinstance(example, dict):
            example.pop("pagination", None)
            example["nextPageToken"] = "t-2"
    return spec


def response_bounds(spec: Spec | None = None) -> list[tuple[str, str, str, str, float]]:
    """Every bound of a 2xx response body: ``(operation, status, field, keyword, value)``."""
    from toloka_ext._optable import _shape

    spec = spec or load_snapshot()
    doc = Document(spec)
    found: list[tuple[str, str, str, str, float]] = []
    for _, _, op in _operations(spec):
        for status, response in (op.get("responses") or {}).items():
            media = ((_ref_target(spec, response) or {}).get("content") or {}).get(
                "application/json"
            )
            if not str(status).startswith("2") or not isinstance(media, dict):
                continue
            for field, keyword, value, _guess in _bounds(_shape(doc, media["schema"]), "", False):
                found.append((str(op["operationId"]), str(status), field, keyword, value))
    return sorted(set(found))
