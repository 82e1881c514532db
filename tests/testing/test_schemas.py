"""The request schemas embedded in the sandbox match the contracts they were copied from."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from toloka_ext._optable import request_checks
from toloka_ext.testing import Sandbox
from toloka_ext.testing import _schemas as S
from toloka_ext.testing._routes import PREFIXES, ROUTES

ROOT = Path(__file__).resolve().parents[2]
V2 = yaml.safe_load((ROOT / "openapi/v2-beta.yaml").read_text())
V1 = yaml.safe_load((ROOT / "openapi/v1.yaml").read_text())


def _resolve(doc: dict[str, Any], schema: Any) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _resolve(doc, doc["components"]["schemas"][name])
        return {k: _resolve(doc, v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(doc, v) for v in schema]
    return schema


KEYS = {
    "type",
    "required",
    "minLength",
    "minimum",
    "maximum",
    "minItems",
    "enum",
    "additionalProperties",
}


def _shape(schema: Any) -> Any:
    """The validation-relevant part of a schema (descriptions, examples, x-* dropped)."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {
            k: schema[k] for k in KEYS if k in schema and not isinstance(schema[k], dict)
        }
        if "properties" in schema:
            out["properties"] = {k: _shape(v) for k, v in schema["properties"].items()}
        if "items" in schema:
            out["items"] = _shape(schema["items"])
        if "oneOf" in schema:
            out["oneOf"] = [_shape(s) for s in schema["oneOf"]]
        if out.get("type") == "object" and out.get("additionalProperties") is True:
            del out["additionalProperties"]
        return out
    return schema


@pytest.mark.parametrize(
    ("doc", "name", "ours"),
    [
        (V2, "CreateProjectRequest", S.CREATE_PROJECT),
        (V2, "CreateDatasetRequest", S.CREATE_DATASET),
        (V2, "AddItemsRequest", S.ADD_ITEMS),
        (V2, "CreateUploadRequest", S.CREATE_UPLOAD),
        (V2, "CopyPipelineRequest", S.COPY_PIPELINE),
        (V2, "AttachDatasetRequest", S.ATTACH_DATASET),
        (V2, "StartRunRequest", S.START_RUN),
        (V2, "CreateExportRequest", S.CREATE_EXPORT),
        (V1, "TaskCreate", S.TASK_CREATE),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_embedded_schema_matches_contract(
    doc: dict[str, Any], name: str, ours: dict[str, Any]
) -> None:
    theirs = _resolve(doc, doc["components"]["schemas"][name])
    assert _shape(ours) == _shape(theirs)


@pytest.mark.parametrize(("doc", "api"), [(V2, "v2"), (V1, "v1")], ids=["v2", "v1"])
def test_every_contract_operation_has_a_route(doc: dict[str, Any], api: str) -> None:
    ops = {
        (method.upper(), path, op["operationId"])
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }
    routes = {(r.method, r.template, r.operation_id) for r in ROUTES if r.api == api}
    assert routes == ops


def test_embedded_query_checks_are_the_contracts() -> None:
    theirs = {
        op: entry["query"]
        for doc in (V1, V2)
        for op, entry in request_checks(doc).items()
        if entry["query"]
    }
    assert S.QUERY == theirs


def _bad_values(checks: dict[str, Any]) -> list[str]:
    """Values the contract refuses for a parameter with ``checks`` (none for a plain string)."""
    kind = checks.get("type")
    if kind == "integer":
        bad = ["x", "1.5", "", "1e3", " 1", "0x10"]
        bad += [str(checks["minimum"] - 1)] if "minimum" in checks else []
        return bad + ([str(checks["maximum"] + 1)] if "maximum" in checks else [])
    if kind == "boolean":
        return ["maybe", "", "yes "]
    if checks.get("minLength"):
        return [""]
    return []


_TYPED = [
    (op, name, value)
    for op, params in sorted(request_checks(V1).items()) + sorted(request_checks(V2).items())
    for name, checks in sorted(params["query"].items())
    for value in _bad_values(checks)
]


@pytest.mark.parametrize(("operation", "name", "value"), _TYPED, ids=repr)
def test_every_typed_query_parameter_refuses_what_the_contract_refuses(
    operation: str, name: str, value: str
) -> None:
    """Derived from the contracts: a new typed parameter is covered without a new test.
    The value is sent alone and once more after a valid one (the last of repeated values
    is what a handler reads: each must be checked)."""
    route = next(r for r in ROUTES if r.operation_id == operation)
    sandbox = Sandbox()
    path = re.sub(r"\{\w+\}", "00000000-0000-4000-8000-000000000001", route.template)
    url = f"http://testserver{PREFIXES[route.api]}{path}"
    with httpx.Client(transport=sandbox.transport, headers=sandbox.auth_headers(route.api)) as c:
        for query in ([(name, value)], [(name, value), (name, _good(operation, name))]):
            base = [("pool_id", "p")] if operation == "listTasks" and name != "pool_id" else []
            response = c.request(route.method, url, params=[*base, *query], json={})
            assert response.status_code == 400, (query, response.status_code, response.text)
            assert name in response.json()["message"]


def _good(operation: str, name: str) -> str:
    checks = S.QUERY[operation][name]
    if checks.get("type") == "integer":
        return str(max(checks.get("minimum", 1), 1))
    return "true" if checks.get("type") == "boolean" else "p"
