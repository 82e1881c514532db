"""The only module that imports the generated client ``toloka_pipeline_api``.

Requests are built from the snapshot's operation table (``OPERATIONS`` in the generated
``_snapshot`` module: method, path and parameter names per operation id) with bodies made by
the generated models' public ``to_dict``/``to_multipart``. Responses are checked against the
generated models and converted into this layer's types (:mod:`._models`). A body the snapshot
cannot describe (a required field gone, a wrong type, a non-JSON 2xx, an endpoint that
answers 404/405 as if it did not exist) becomes one :class:`ApiDriftError` naming the
operation id, the field and the snapshot version. Tolerated drift (unknown enum values, extra
fields, missing optional fields) passes through: unknown values stay raw strings, extra fields
land in ``extra``.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, BinaryIO, TypeVar, cast
from urllib.parse import quote

import attrs
import httpx
from toloka_pipeline_api import models as gen
from toloka_pipeline_api._snapshot import (
    OPERATIONS,
    REQUEST_CHECKS,
    REQUEST_SHAPES,
    SNAPSHOT_VERSION,
)
from toloka_pipeline_api.types import UNSET, File, Unset

from .. import _json
from .._exceptions import ApiDriftError, APIStatusError, InvalidInputError
from . import _models as m

__all__ = ["IDEMPOTENT_OPERATIONS", "SNAPSHOT_VERSION", "PageData", "RequestSpec"]

IDEMPOTENT_OPERATIONS: dict[str, str] = {
    "attachDataset": "binding the same dataset again is one binding: a lost answer is re-sent",
}
"""Operations of a method that is not idempotent (POST) whose effect is, by what they do:
the retry loop may re-send them. Every other POST is a create: never re-sent blindly."""

UNKNOWN_OUTCOME_CHECKS: dict[str, str] = {
    "createProject": "look for it in client.projects.list() before creating it again",
    "createDataset": "look for it by name in client.datasets.list(project_id) before "
    "creating it again",
    "addDatasetItems": "compare the dataset's item count (client.datasets.list(project_id)) "
    "with what it held before adding the rows again",
    "createUpload": "an upload that never gets its bytes ingests nothing: "
    "client.uploads.create() another",
    "finalizeUpload": "read client.uploads.get(upload_id): past pending, it was finalized",
    "copyPipeline": "look for the copy by name in client.pipelines.list(project_id) before "
    "copying again",
    "importPipeline": "look for it by name in client.pipelines.list(project_id) before "
    "importing again",
    "startRun": "look for the run in client.runs.list(pipeline_id) before starting another",
    "createExport": "look for it in client.exports.list(dataset_id) before creating another",
}
"""What to check when a create's outcome is unknown (``OutcomeUnknownError`` says it)."""

T = TypeVar("T")


@attrs.frozen
class RequestSpec:
    """A request ready for the HTTP core (pure data, shared by the sync and async clients)."""

    operation: str
    method: str
    url: str
    params: dict[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    has_path_params: bool = True
    idempotent: bool = False
    body_fields: frozenset[str] | None = None
    """Top-level request-body properties the snapshot knows (``None``: no body)."""
    declared: frozenset[str] = frozenset()
    """Every request name the snapshot declares: path, query, header parameters and the
    top-level body properties. A 400/422 blaming any other name is drift."""
    path_values: dict[str, str] = attrs.field(factory=dict)
    """The path parameters as sent (to judge a refusal of one)."""
    chosen: frozenset[str] = frozenset()
    """Names whose values the layer chose itself, not the caller (e.g. a page's ``offset``):
    a refusal of one is never the caller's mistake."""


@attrs.frozen
class PageData:
    """One page of a list: the items and, when the server says it, the total.

    ``offset`` and ``limit`` are what the server echoed in ``pagination`` (0 when it did
    not); ``echoed_offset`` is ``None`` then. ``unknown_keys`` are top-level keys of the
    answer the snapshot does not describe (e.g. ``nextPageToken``: another paging scheme).
    """

    items: tuple[Any, ...]
    total: int | None
    offset: int
    limit: int
    operation: str = ""
    echoed_offset: int | None = None
    unknown_keys: tuple[str, ...] = ()


def drift(
    operation: str, field: str, detail: str, *, response: httpx.Response | None = None
) -> ApiDriftError:
    body: object | None = None
    request: httpx.Request | None = None
    if response is not None:
        request = response.request
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - the body is only attached for diagnosis
            body = None
    return ApiDriftError(
        operation=operation,
        field=field,
        snapshot_version=SNAPSHOT_VERSION,
        detail=detail,
        request=request,
        body=body,
    )


# --------------------------------------------------------------------------- requests


def _request(
    operation: str,
    path: Mapping[str, str] | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    body: Any = None,
    content: bytes | None = None,
    chosen: Sequence[str] = (),
) -> RequestSpec:
    """The request of ``operation`` as the snapshot's operation table places it.

    ``body`` is a generated request model (serialized with its public ``to_dict``, or
    ``to_multipart`` for a multipart operation); ``content`` is a body already encoded;
    ``chosen`` names the values the layer picks itself (see :attr:`RequestSpec.chosen`).
    """
    entry = OPERATIONS[operation]
    names = entry["path_params"]
    given = dict(path or {})
    if sorted(given) != sorted(names):  # a programming error, not drift
        raise TypeError(f"{operation} takes path parameters {names}, got {sorted(given)}")
    rules = REQUEST_CHECKS.get(operation, {})
    check_values(rules.get("path", {}), given)
    check_values(rules.get("query", {}), {k: v for k, v in (params or {}).items() if v is not None})
    if body is not None and entry["content_type"] == "application/json":
        data = cast(dict[str, Any], body.to_dict())
        # The generated model's types first (what the client itself declares, guessed parts
        # of the spec included), then the spec's bounds.
        problem = locate_problem(type(body), data)
        if problem is not None:
            field = python_name(problem[0].split(".")[0].split("[")[0])
            raise InvalidInputError(f"{problem[0]}: {problem[1]}", field=field)
        check_values(rules.get("body", {}), data)
    url = str(entry["path"]).format_map({k: quote(str(v), safe="") for k, v in given.items()})
    headers: dict[str, str] = {}
    if body is not None and entry["content_type"] == "multipart/form-data":
        # httpx encodes the parts; the core then sends the exact bytes.
        encoded = httpx.Request("POST", "http://multipart.invalid/", files=body.to_multipart())
        content = encoded.read()
        headers["Content-Type"] = encoded.headers["Content-Type"]
    elif body is not None:
        content = _json.dumps(body.to_dict())
        headers["Content-Type"] = "application/json"
    elif content is not None:
        headers["Content-Type"] = str(entry["content_type"] or "application/json")
    known = entry["query"]
    cleaned = {k: v for k, v in (params or {}).items() if v is not None}
    unknown = sorted(set(cleaned) - set(known))
    if unknown:
        raise TypeError(f"{operation} has no query parameters {unknown}")
    return RequestSpec(
        operation=operation,
        method=str(entry["method"]),
        url=url,
        params=cleaned or None,
        content=content,
        headers=headers,
        has_path_params=bool(names),
        idempotent=operation in IDEMPOTENT_OPERATIONS,
        body_fields=frozenset(entry["body"]) if entry["body"] is not None else None,
        declared=frozenset(
            [*entry["path_params"], *entry["query"], *entry["headers"], *(entry["body"] or ())]
        ),
        path_values={k: str(v) for k, v in given.items()},
        chosen=frozenset(chosen),
    )


_JSON_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list | tuple),
    "object": lambda v: isinstance(v, Mapping),
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}
_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    ("minLength", lambda v, n: not isinstance(v, str) or len(v) >= n, "at least {} characters"),
    ("maxLength", lambda v, n: not isinstance(v, str) or len(v) <= n, "at most {} characters"),
    ("minimum", lambda v, n: not isinstance(v, int | float) or v >= n, "at least {}"),
    ("maximum", lambda v, n: not isinstance(v, int | float) or v <= n, "at most {}"),
    ("minItems", lambda v, n: not isinstance(v, list | tuple) or len(v) >= n, "{}+ items"),
    ("maxItems", lambda v, n: not isinstance(v, list | tuple) or len(v) <= n, "<= {} items"),
)


def python_name(name: str) -> str:
    """The argument name of an API name: ``runId`` -> ``run_id``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def check_values(rules: Mapping[str, Mapping[str, Any]], values: Mapping[str, object]) -> None:
    """Refuse, before anything is sent, a value the snapshot says the API cannot take: the
    wrong JSON type, or out of its bounds (``REQUEST_CHECKS``, derived from the spec)."""
    for name, value in values.items():
        rule = rules.get(name)
        if not rule:
            continue
        field = python_name(name)
        expected = rule.get("type")
        is_type = _JSON_TYPES.get(str(expected))
        if is_type is not None and not is_type(value):
            raise InvalidInputError(
                f"{field} must be {_TYPE_WORDS.get(str(expected), expected)}, got {value!r}",
                field=field,
            )
        for key, holds, wording in _BOUNDS:
            if key in rule and not holds(value, rule[key]):
                what = wording.format(rule[key])
                if key == "minLength" and rule[key] == 1:
                    what = "non-empty"
                raise InvalidInputError(f"{field} must be {what}, got {value!r}", field=field)


def check_path(operation: str, **values: object) -> None:
    """Check path parameters of ``operation`` ahead of the request that sends them (a flow
    that makes other requests first)."""
    check_values(REQUEST_CHECKS.get(operation, {}).get("path", {}), values)


def check_body(operation: str, **values: object) -> None:
    """Check request-body properties of ``operation`` that its generated model cannot (the
    non-file parts of a multipart body); ``None`` means not sent."""
    given = {k: v for k, v in values.items() if v is not None}
    check_values(REQUEST_CHECKS.get(operation, {}).get("body", {}), given)


def check_page_size(limit: object) -> None:
    """``limit`` of a v2 list: a positive integer (its upper bound is not published, so the
    server has the last word on it)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"limit must be a positive integer, got {limit!r}", field="limit")


_PAGING = ("offset",)
"""A page's offset is the paginator's choice, never the caller's."""


def req_get_me() -> RequestSpec:
    return _request("getMe")


def req_list_projects(*, limit: int, offset: int) -> RequestSpec:
    return _request("listProjects", params={"limit": limit, "offset": offset}, chosen=_PAGING)


def req_create_project(*, name: str, description: str | None) -> RequestSpec:
    body = gen.CreateProjectRequest(name=name, description=_unset(description))
    return _request("createProject", body=body)


def req_list_datasets(project_id: str, *, limit: int, offset: int) -> RequestSpec:
    return _request(
        "listDatasets",
        {"projectId": project_id},
        params={"limit": limit, "offset": offset},
        chosen=_PAGING,
    )


def req_create_dataset(project_id: str, *, name: str) -> RequestSpec:
    return _request(
        "createDataset", {"projectId": project_id}, body=gen.CreateDatasetRequest(name=name)
    )


def req_add_items(dataset_id: str, content: bytes) -> RequestSpec:
    """The inline add; ``content`` is the exact request body (measured against 2 MB)."""
    return _request("addDatasetItems", {"datasetId": dataset_id}, content=content)


def req_create_upload(
    dataset_id: str, *, fields: Sequence[m.FieldSpec] | None, file_name: str | None
) -> RequestSpec:
    body = gen.CreateUploadRequest.from_dict(
        {
            **({"fields": [f.to_json() for f in fields]} if fields else {}),
            **({"fileName": file_name} if file_name else {}),
        }
    )
    return _request("createUpload", {"datasetId": dataset_id}, body=body)


def req_finalize_upload(upload_id: str) -> RequestSpec:
    # Not re-sent blindly: a re-sent finalize whose first one applied is answered 409, which
    # would read as someone else's finalize. AsyncUploads.finalize settles a lost answer by
    # the upload's state instead.
    return _request("finalizeUpload", {"uploadId": upload_id})


def req_get_upload(upload_id: str) -> RequestSpec:
    return _request("getUpload", {"uploadId": upload_id})


def req_list_fields(dataset_id: str) -> RequestSpec:
    return _request("listDatasetFields", {"datasetId": dataset_id})


def req_copy_pipeline(pipeline_id: str, *, name: str | None, project_id: str | None) -> RequestSpec:
    body = gen.CopyPipelineRequest(name=_unset(name), project_id=_unset(project_id))
    return _request("copyPipeline", {"pipelineId": pipeline_id}, body=body)


def req_import_pipeline(
    project_id: str, *, payload: BinaryIO, file_name: str, name: str | None
) -> RequestSpec:
    body = gen.ImportPipelineRequest(
        file=File(payload=payload, file_name=file_name, mime_type="application/octet-stream"),
        name=_unset(name),
    )
    return _request("importPipeline", {"projectId": project_id}, body=body)


def req_export_pipeline(pipeline_id: str) -> RequestSpec:
    return _request("exportPipeline", {"pipelineId": pipeline_id})


def req_list_pipelines(project_id: str, *, limit: int, offset: int) -> RequestSpec:
    return _request(
        "listPipelines",
        {"projectId": project_id},
        params={"limit": limit, "offset": offset},
        chosen=_PAGING,
    )


def req_attach_dataset(
    pipeline_id: str,
    *,
    dataset_id: str,
    item_limit: int | None,
    item_filter: m.ItemFilter | None,
) -> RequestSpec:
    raw: dict[str, Any] = {"datasetId": dataset_id}
    if item_limit is not None:
        raw["itemLimit"] = item_limit
    if item_filter is not None:
        raw["itemFilter"] = item_filter.to_json()
    body = gen.AttachDatasetRequest.from_dict(raw)
    return _request("attachDataset", {"pipelineId": pipeline_id}, body=body)


def req_start_run(pipeline_id: str, *, name: str | None) -> RequestSpec:
    body = gen.StartRunRequest(name=_unset(name))
    return _request("startRun", {"pipelineId": pipeline_id}, body=body)


def req_get_run(run_id: str) -> RequestSpec:
    return _request("getRun", {"runId": run_id})


def req_list_runs(pipeline_id: str, *, limit: int, offset: int) -> RequestSpec:
    return _request(
        "listRuns",
        {"pipelineId": pipeline_id},
        params={"limit": limit, "offset": offset},
        chosen=_PAGING,
    )


def req_create_export(
    dataset_id: str, *, fields: Sequence[Mapping[str, str]], format: str | None
) -> RequestSpec:
    raw: dict[str, Any] = {"fields": [dict(f) for f in fields]}
    if format is not None:
        raw["format"] = format
    body = gen.CreateExportRequest.from_dict(raw)
    return _request("createExport", {"datasetId": dataset_id}, body=body)


def req_list_exports(dataset_id: str, *, limit: int, offset: int) -> RequestSpec:
    return _request(
        "listExports",
        {"datasetId": dataset_id},
        params={"limit": limit, "offset": offset},
        chosen=_PAGING,
    )


def req_get_export(export_id: str) -> RequestSpec:
    return _request("getExport", {"exportId": export_id})


def _unset(value: T | None) -> T | Unset:
    return UNSET if value is None else value


# --------------------------------------------------------------------------- validation

_SCALARS: dict[str, Callable[[object], bool]] = {
    "str": _JSON_TYPES["string"],
    "int": _JSON_TYPES["integer"],
    "float": _JSON_TYPES["number"],
    "bool": _JSON_TYPES["boolean"],
    "Any": lambda _v: True,
    "dict[str, Any]": lambda v: isinstance(v, dict),
}


def _json_key(attr_name: str) -> str:
    name = attr_name.rstrip("_")
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _check_value(type_str: str, value: object, path: str) -> tuple[str, str] | None:
    if type_str.startswith("list[") and type_str.endswith("]"):
        if not isinstance(value, list):
            return path, f"expected an array, got {_kind(value)}"
        inner = type_str[5:-1]
        for i, item in enumerate(value):
            problem = _check_value(inner, item, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if type_str in _SCALARS:
        if _SCALARS[type_str](value):
            return None
        return path, f"expected {type_str}, got {_kind(value)}"
    if type_str == "datetime.datetime":
        if not isinstance(value, str):
            return path, f"expected a date-time string, got {_kind(value)}"
        try:
            datetime.datetime.fromisoformat(value)
        except ValueError:
            return path, f"not an ISO 8601 date-time: {value!r}"
        return None
    if " | " in type_str:  # a oneOf: any alternative will do
        alternatives = [t.strip() for t in type_str.split("|")]
        problems = [_check_value(t, value, path) for t in alternatives]
        return None if any(p is None for p in problems) else problems[0]
    cls = getattr(gen, type_str, None)
    if isinstance(cls, type) and issubclass(cls, Enum):
        if isinstance(value, str):
            return None  # unknown values are tolerated (kept raw)
        return path, f"expected an enum string, got {_kind(value)}"
    if isinstance(cls, type) and attrs.has(cls):
        return locate_problem(cls, value, path)
    return None  # a type this checker does not know: trust the generated parser


def locate_problem(cls: type, data: object, path: str = "") -> tuple[str, str] | None:
    """Return ``(field path, what is wrong)`` for the first mismatch of ``data`` and ``cls``."""
    if not isinstance(data, dict):
        return path or "<body>", f"expected an object, got {_kind(data)}"
    for f in attrs.fields(cls):
        if f.name == "additional_properties":
            continue
        key = _json_key(f.name)
        where = f"{path}.{key}" if path else key
        type_str = str(f.type)
        optional = type_str.endswith(" | Unset")
        if optional:
            type_str = type_str[: -len(" | Unset")]
        if key not in data:
            if f.default is attrs.NOTHING:
                return where, "required field is missing"
            continue
        value = data[key]
        if value is None and optional:
            continue  # null for an optional field: treat as absent
        problem = _check_value(type_str, value, where)
        if problem:
            return problem
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _body(operation: str, response: httpx.Response) -> object:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        ctype = response.headers.get("content-type", "?")
        raise drift(operation, "<body>", f"2xx body is not JSON ({ctype}): {exc}") from None


def _strip_nulls(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    optional = {
        _json_key(f.name)
        for f in attrs.fields(cls)
        if f.name != "additional_properties" and f.default is not attrs.NOTHING
    }
    return {k: v for k, v in data.items() if not (v is None and k in optional)}


def parse_model(operation: str, response: httpx.Response, cls: type[T]) -> T:
    """Parse a 2xx body with a generated model; any mismatch is one ``ApiDriftError``."""
    data = _body(operation, response)
    return parse_data(operation, data, cls, response=response)


def parse_data(
    operation: str, data: object, cls: type[T], *, response: httpx.Response | None = None
) -> T:
    problem = locate_problem(cls, data)
    if problem is not None:
        raise drift(operation, problem[0], problem[1], response=response)
    try:
        return cast(T, cls.from_dict(_strip_nulls(cls, cast(dict[str, Any], data))))  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        field = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else "<body>"
        raise drift(operation, field, f"{type(exc).__name__}: {exc}", response=response) from None


_NAME = r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d*\])*"
_BLAME_PATTERNS = (
    re.compile(rf"^\s*({_NAME})\s*:"),  # "visibility: Value must be present"
    re.compile(rf"'({_NAME})' is a required property"),  # JSON Schema validators
    re.compile(rf"(?:parameter|field|property)\s+['\"`]?({_NAME})['\"`]?", re.IGNORECASE),
)
_DETAIL_KEYS = ("field", "parameter", "param", "name", "property")


def _rejected_field(body: object) -> str | None:
    """The request name a 400/422 body blames, wherever the API puts it: ``details``
    (an object or a list of objects with ``field``/``parameter``/...), a v1-style ``payload``
    keyed by field path, or the message (``"name: ..."``, ``"parameter name ..."``)."""
    if not isinstance(body, dict):
        return None
    for container in (body.get("details"), body.get("payload")):
        entries = container if isinstance(container, list) else [container]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in _DETAIL_KEYS:
                if isinstance(entry.get(key), str) and entry[key]:
                    return str(entry[key])
        if (
            isinstance(container, dict)
            and container
            and all(isinstance(k, str) and re.fullmatch(_NAME, k) for k in container)
        ):
            return str(next(iter(container)))
    message = body.get("message")
    if isinstance(message, str):
        for pattern in _BLAME_PATTERNS:
            match = pattern.search(message)
            if match:
                return match.group(1)
    return None


# A refusal about the shape of a value (what a schema can say), not about what it refers to.
_SHAPE_COMPLAINT = re.compile(
    r"required|missing|must (?:not )?be|should (?:not )?be|must (?:match|have|contain)"
    r"|at (?:most|least)|(?:less|greater|more|fewer|longer|shorter) than|maximum|minimum"
    r"|too (?:long|short|large|small|big|many|few)|exceed|out of range|range"
    r"|pattern|format|expected|invalid (?:type|format|length|value)|not (?:a valid|allowed)"
    r"|one of|unknown|unexpected|not supported|unsupported|length|characters|[<>]=?|[≤≥]",
    re.IGNORECASE,
)
# ... unless it is about the object a value names (the caller's mistake, whatever its shape).
_REFERENCE_COMPLAINT = re.compile(
    r"not found|does not exist|doesn't exist|no such|already exists|unknown (?:dataset|project"
    r"|pipeline|run|upload|export|field )|conflict|belongs to|access|permission|forbidden",
    re.IGNORECASE,
)

_UNDECLARED = "undeclared"
_FREE = "free"
_MISSING = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(\d*)\]")


def _steps(field: str) -> list[str | int | None]:
    """``"fields[0].type"`` -> ``["fields", 0, "type"]``; ``[]`` (every element) -> ``None``."""
    steps: list[str | int | None] = []
    for name, index in _STEP.findall(field):
        if name:
            steps.append(name)
        else:
            steps.append(int(index) if index else None)
    return steps


def _top_shape(spec: RequestSpec, name: str) -> tuple[Mapping[str, Any], bool]:
    """The snapshot's shape of a top-level request name, and whether it requires it (path
    parameters and required body properties; the snapshot's query parameters are all
    optional)."""
    shapes = REQUEST_SHAPES.get(spec.operation, {})
    if name in (shapes.get("path") or {}):
        return cast(Mapping[str, Any], shapes["path"][name]), True
    if name in (shapes.get("query") or {}):
        return cast(Mapping[str, Any], shapes["query"][name]), False
    body = shapes.get("body") or {}
    shape = (body.get("properties") or {}).get(name, {})
    return cast(Mapping[str, Any], shape), name in (body.get("required") or ())


def _shape_at(
    top: Mapping[str, Any], steps: Sequence[str | int | None]
) -> tuple[Mapping[str, Any] | str, bool]:
    """The snapshot's shape at ``steps`` (after the top name) and whether it is required
    there; ``_UNDECLARED`` for a name the snapshot does not declare, ``_FREE`` inside an
    object it leaves open (rows, JSON Schemas: the caller's own data)."""
    shape, required = top, True
    for step in steps:
        if isinstance(step, str):
            candidates = [shape, *shape.get("oneOf", ())]
            declared = [c for c in candidates if "properties" in c]
            if not declared:
                return _FREE, False
            found = [c for c in declared if step in c["properties"]]
            if not found:
                return _UNDECLARED, False
            required = all(step in c.get("required", ()) for c in found)
            shape = found[0]["properties"][step]
        else:
            shape = shape.get("items") or {}
    return shape, required


def _values_at(root: object, steps: Sequence[str | int | None]) -> list[object] | None:
    """The values at ``steps`` under ``root`` (every element for ``[]``); ``None`` if any
    place on the way lacks it (the value was not sent)."""
    values = [root]
    for step in steps:
        following: list[object] = []
        for value in values:
            if isinstance(step, str):
                if not isinstance(value, Mapping) or step not in value:
                    return None
                following.append(value[step])
            elif isinstance(value, list):
                if step is None:
                    following.extend(value)
                elif 0 <= step < len(value):
                    following.append(value[step])
                else:
                    return None
            else:
                return None
        values = following
    return values


def _sent(spec: RequestSpec, top: str) -> list[object] | None:
    if top in spec.path_values:
        return [spec.path_values[top]]
    if spec.params and top in spec.params:
        return [spec.params[top]]
    if spec.content is not None and "json" in spec.headers.get("Content-Type", ""):
        try:
            body = json.loads(spec.content)
        except ValueError:
            return None
        if isinstance(body, Mapping) and top in body:
            return [body[top]]
    return None


def _violates(shape: Mapping[str, Any], value: object) -> bool:
    """Whether ``value`` breaks what the snapshot says of it (type, bounds, pattern, enum):
    then a refusal of it is the caller's mistake, not drift."""
    expected = shape.get("type")
    is_type = _JSON_TYPES.get(str(expected)) if isinstance(expected, str) else None
    if is_type is not None and not is_type(value):
        return True
    if any(key in shape and not holds(value, shape[key]) for key, holds, _ in _BOUNDS):
        return True
    pattern = shape.get("pattern")
    if isinstance(pattern, str) and isinstance(value, str):
        try:
            if re.search(pattern, value) is None:
                return True
        except re.error:
            pass  # a pattern Python cannot read says nothing either way
    enum = shape.get("enum")
    return isinstance(enum, list) and value not in enum


def _drift_over(spec: RequestSpec, exc: APIStatusError, field: str, why: str) -> ApiDriftError:
    message = exc.body.get("message") if isinstance(exc.body, dict) else None
    return ApiDriftError(
        operation=spec.operation,
        field=field,
        snapshot_version=SNAPSHOT_VERSION,
        detail=f"the server rejected the request over {field!r}, {why} ({exc.status_code}: "
        f"{message})",
        request=exc.request,
        body=exc.body,
    )


def blame(spec: RequestSpec, exc: APIStatusError) -> ApiDriftError | None:
    """The :class:`ApiDriftError` a 400/422 stands for, or ``None``: the caller's mistake.

    The refusal names a request name (``_rejected_field``). It is drift when the snapshot
    does not declare that name (at the top or nested: ``fields[].type``); when the layer
    chose the value itself (a page's ``offset``); when the snapshot does not require a
    name that was not sent; or when the value sent is valid under every bound the snapshot
    gives it (guessed bounds included) and the server complains about its shape (a bound,
    a format, a length). It stays the caller's mistake when the value breaks the
    snapshot's own bounds, the name is inside the caller's free-form data (rows, JSON
    Schemas), or the complaint is about what the value refers to (no such dataset).
    """
    field = _rejected_field(exc.body)
    steps = _steps(field) if field else []
    if not field or not steps or not isinstance(steps[0], str):
        return None
    top = steps[0]
    if top not in spec.declared:
        return _drift_over(spec, exc, field, "a request parameter the snapshot does not declare")
    top_shape, top_required = _top_shape(spec, top)
    shape, required = _shape_at(top_shape, steps[1:])
    required = required and top_required if len(steps) == 1 else required
    if shape == _UNDECLARED:
        return _drift_over(spec, exc, field, "a nested request name the snapshot does not declare")
    if shape == _FREE:
        return None
    multipart = "multipart" in spec.headers.get("Content-Type", "")
    if multipart and spec.body_fields is not None and top in spec.body_fields:
        return None  # the parts sent cannot be read back here: no ground to blame the API
    if top in spec.chosen:
        return _drift_over(spec, exc, field, "a value this client chose itself, not the caller")
    top_values = _sent(spec, top)
    values = None if top_values is None else _values_at(top_values[0], steps[1:])
    message = exc.body.get("message") if isinstance(exc.body, dict) else None
    text = message if isinstance(message, str) else ""
    if not values:
        if required and (top_values is not None or top_required):
            return None  # a name the snapshot requires, left out: the caller's to give
        return _drift_over(spec, exc, field, "a name the snapshot does not require, not sent")
    assert isinstance(shape, Mapping)
    if any(_violates(shape, value) for value in values):
        return None
    if _REFERENCE_COMPLAINT.search(text) or not _SHAPE_COMPLAINT.search(text):
        return None
    return _drift_over(spec, exc, field, "sent with a value valid under the snapshot's bounds")


def check_status_error(spec: RequestSpec, exc: APIStatusError) -> None:
    """Raise ``ApiDriftError`` if the error shows the contract moved.

    A 404/405 that means the endpoint itself is gone, or a 400/422 that :func:`blame` lays on
    the contract rather than the caller (a name the snapshot does not declare or require, a
    value the layer chose, a value the snapshot allows), is drift, whatever the method.
    """
    if exc.status_code in (400, 422):
        drifted = blame(spec, exc)
        if drifted is not None:
            raise drifted from exc
        return
    if exc.status_code not in (404, 405):
        return
    body = exc.body
    is_api_error = isinstance(body, dict) and isinstance(body.get("message"), str)
    if exc.status_code == 405 or not spec.has_path_params or not is_api_error:
        raise ApiDriftError(
            operation=spec.operation,
            field="<endpoint>",
            snapshot_version=SNAPSHOT_VERSION,
            detail=(
                f"{spec.method} {spec.url} answered {exc.status_code}"
                f"{'' if is_api_error else ' without an API error body'}: "
                "the endpoint may have moved"
            ),
            request=exc.request,
            body=body,
        ) from exc


# --------------------------------------------------------------------------- conversion


def _opt(value: Any) -> Any:
    return None if isinstance(value, Unset) else value


def _error_info(g: Any) -> m.ErrorInfo | None:
    if isinstance(g, Unset) or g is None:
        return None
    return m.ErrorInfo(message=g.message, code=_opt(g.code), extra=dict(g.additional_properties))


def to_account(g: gen.Me) -> m.Account:
    return m.Account(
        id=g.id,
        email=_opt(g.email),
        name=_opt(g.name),
        extra=dict(g.additional_properties),
    )


def to_project(g: gen.Project) -> m.Project:
    return m.Project(
        id=g.id,
        name=g.name,
        description=_opt(g.description),
        created_at=_opt(g.created_at),
        extra=dict(g.additional_properties),
    )


def to_dataset(g: gen.Dataset) -> m.Dataset:
    return m.Dataset(
        id=g.id,
        name=g.name,
        project_id=_opt(g.project_id),
        item_count=_opt(g.item_count),
        created_at=_opt(g.created_at),
        extra=dict(g.additional_properties),
    )


def to_field(g: gen.Field) -> m.Field:
    schema = None if isinstance(g.json_schema, Unset) else dict(g.json_schema.additional_properties)
    return m.Field(id=g.id, name=g.name, json_schema=schema, extra=dict(g.additional_properties))


def to_upload(g: gen.Upload) -> m.Upload:
    return m.Upload(
        id=g.id,
        status=m.UploadStatus(str(g.status.value)),
        dataset_id=_opt(g.dataset_id),
        upload_url=_opt(g.upload_url),
        upload_method=None if isinstance(g.upload_method, Unset) else str(g.upload_method.value),
        expires_at=_opt(g.expires_at),
        item_count=_opt(g.item_count),
        error=_error_info(g.error),
        extra=dict(g.additional_properties),
    )


def to_pipeline(g: gen.Pipeline) -> m.Pipeline:
    return m.Pipeline(
        id=g.id,
        name=g.name,
        project_id=_opt(g.project_id),
        source_pipeline_id=_opt(g.source_pipeline_id),
        dataset_id=_opt(g.dataset_id),
        created_at=_opt(g.created_at),
        extra=dict(g.additional_properties),
    )


def _to_item_filter(g: Any) -> m.ItemFilter | None:
    if isinstance(g, Unset) or g is None:
        return None
    # The raw value, known or not: an unknown one is kept and sent back unchanged.
    match = m.ItemFilterMatch.ALL if isinstance(g.match, Unset) else str(g.match.value)
    conditions = [
        m.ItemFilterCondition(field=c.field, operator=str(c.operator.value), value=_opt(c.value))
        for c in g.conditions
    ]
    return m.ItemFilter(conditions, match=match, extra=dict(g.additional_properties))


def to_attachment(g: gen.DatasetAttachment) -> m.DatasetAttachment:
    return m.DatasetAttachment(
        pipeline_id=g.pipeline_id,
        dataset_id=g.dataset_id,
        item_limit=_opt(g.item_limit),
        item_filter=_to_item_filter(g.item_filter),
        extra=dict(g.additional_properties),
    )


def to_run(g: gen.Run) -> m.Run:
    progress = None
    if not isinstance(g.progress, Unset):
        p = g.progress
        progress = m.RunProgress(
            total=p.total,
            completed=p.completed,
            failed=p.failed,
            extra=dict(p.additional_properties),
        )
    return m.Run(
        id=g.id,
        status=m.RunStatus(str(g.status.value)),
        pipeline_id=_opt(g.pipeline_id),
        progress=progress,
        created_at=_opt(g.created_at),
        started_at=_opt(g.started_at),
        finished_at=_opt(g.finished_at),
        error=_error_info(g.error),
        extra=dict(g.additional_properties),
    )


def to_export(g: gen.Export) -> m.Export:
    return m.Export(
        id=g.id,
        status=m.ExportStatus(str(g.status.value)),
        dataset_id=_opt(g.dataset_id),
        format=None if isinstance(g.format_, Unset) else m.ExportFormat(str(g.format_.value)),
        download_url=_opt(g.download_url),
        expires_at=_opt(g.expires_at),
        item_count=_opt(g.item_count),
        error=_error_info(g.error),
        extra=dict(g.additional_properties),
    )


# --------------------------------------------------------------------------- parsers


def parse_account(op: str, r: httpx.Response) -> m.Account:
    return to_account(parse_model(op, r, gen.Me))


def parse_project(op: str, r: httpx.Response) -> m.Project:
    return to_project(parse_model(op, r, gen.Project))


def parse_dataset(op: str, r: httpx.Response) -> m.Dataset:
    return to_dataset(parse_model(op, r, gen.Dataset))


def parse_upload(op: str, r: httpx.Response) -> m.Upload:
    return to_upload(parse_model(op, r, gen.Upload))


def parse_pipeline(op: str, r: httpx.Response) -> m.Pipeline:
    return to_pipeline(parse_model(op, r, gen.Pipeline))


def parse_run(op: str, r: httpx.Response) -> m.Run:
    return to_run(parse_model(op, r, gen.Run))


def parse_export(op: str, r: httpx.Response) -> m.Export:
    return to_export(parse_model(op, r, gen.Export))


def parse_add_items(op: str, r: httpx.Response) -> m.AddItemsResult:
    g = parse_model(op, r, gen.AddItemsResult)
    fields = () if isinstance(g.fields, Unset) else tuple(to_field(f) for f in g.fields)
    return m.AddItemsResult(
        item_count=g.item_count,
        dataset_id=_opt(g.dataset_id),
        fields=fields,
        extra=dict(g.additional_properties),
    )


def parse_fields(op: str, r: httpx.Response) -> list[m.Field]:
    return [to_field(f) for f in parse_model(op, r, gen.FieldList).fields]


def parse_attachment(
    op: str,
    r: httpx.Response,
    *,
    pipeline_id: str,
    dataset_id: str,
    item_limit: int | None,
    item_filter: m.ItemFilter | None,
) -> m.DatasetAttachment:
    if r.status_code == 204 or not r.content.strip():
        return m.DatasetAttachment(
            pipeline_id=pipeline_id,
            dataset_id=dataset_id,
            item_limit=item_limit,
            item_filter=item_filter,
        )
    return to_attachment(parse_model(op, r, gen.DatasetAttachment))


def _page(
    op: str, r: httpx.Response, cls: type[Any], key: str, convert: Callable[[Any], Any]
) -> PageData:
    g = parse_model(op, r, cls)
    items = tuple(convert(x) for x in getattr(g, key))
    pag = g.pagination
    total = None if isinstance(pag, Unset) else pag.total
    limit = 0 if isinstance(pag, Unset) or isinstance(pag.limit, Unset) else pag.limit
    echoed = None if isinstance(pag, Unset) or isinstance(pag.offset, Unset) else pag.offset
    return PageData(
        items=items,
        total=total,
        offset=echoed or 0,
        limit=limit,
        operation=op,
        echoed_offset=echoed,
        unknown_keys=tuple(sorted(g.additional_properties)),
    )


def parse_project_page(op: str, r: httpx.Response) -> PageData:
    return _page(op, r, gen.ProjectList, "projects", to_project)


def parse_dataset_page(op: str, r: httpx.Response) -> PageData:
    return _page(op, r, gen.DatasetList, "datasets", to_dataset)


def parse_pipeline_page(op: str, r: httpx.Response) -> PageData:
    return _page(op, r, gen.PipelineList, "pipelines", to_pipeline)


def parse_run_page(op: str, r: httpx.Response) -> PageData:
    return _page(op, r, gen.RunList, "runs", to_run)


def parse_export_page(op: str, r: httpx.Response) -> PageData:
    return _page(op, r, gen.ExportList, "exports", to_export)
