"""The request schemas embedded in the sandbox match the contracts they were copied from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from toloka_ext.testing import _schemas as S
from toloka_ext.testing._routes import ROUTES

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
