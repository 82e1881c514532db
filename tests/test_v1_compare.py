"""``scripts/v1_compare.py``: openapi/v1.yaml against Toloka's own published OpenAPI document
for API v1 (reference data in ``../shared/reference/toloka-v1-openapi/``, read there, never
copied): every difference is listed with its reason in ``openapi/v1-differences.yaml`` and
every listed one still exists; and the classification of what differs (the rule table)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts import v1_compare
from scripts.v1_compare import DIFFERENCES, OURS, check, operations, resolve_file
from toloka_ext._openapi import inline, load_text

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT.parent / "shared" / "reference" / "toloka-v1-openapi" / "fullApi.yaml"
Doc = dict[str, Any]


def _raw_ours() -> Doc:
    return load_text(OURS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _ours(doc: Doc | None = None) -> Doc:
    return inline(doc if doc is not None else _raw_ours())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    if not PUBLISHED.is_file():
        pytest.skip(f"Toloka's published v1 OpenAPI document is not at {PUBLISHED.parent}")
    return resolve_file(PUBLISHED)


def test_published_document_resolves_completely(published: dict[str, Any]) -> None:
    assert '"$ref"' not in json.dumps(published)
    # File-relative references landed: one into parts/, one back from parts/ into fullApi.
    tasks = published["paths"]["/tasks"]["get"]["responses"]["200"]["content"]
    assert tasks["application/json"]["schema"]["properties"]["has_more"]["type"] == "boolean"
    assert "Toloka" in published["info"]["description"]  # a Markdown file, read as text


def test_every_difference_is_listed_with_its_reason(published: dict[str, Any]) -> None:
    unlisted, stale = check(_ours(), published)
    assert not unlisted, "Not listed in openapi/v1-differences.yaml:\n" + "\n".join(unlisted)
    assert not stale, "Listed but gone (remove from the list):\n" + "\n".join(stale)


def test_differences_file_is_well_formed() -> None:
    data = load_text(DIFFERENCES.read_text(encoding="utf-8"))
    ours = {name for name, _, _ in operations(_raw_ours()).values()}
    assert set(data["operations"]) <= ours
    for op, entries in data["operations"].items():
        whats = [e["what"] for e in entries]
        assert len(whats) == len(set(whats)), f"{op}: a difference is listed twice"
        for entry in entries:
            assert set(entry) == {"what", "why"}, (op, entry)
            assert str(entry["why"]).strip(), (op, entry["what"])


def _node(doc: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        doc = doc[key]
    return doc


def _unrequire_pool_id(doc: dict[str, Any]) -> None:
    params = _node(doc, "paths", "/tasks", "get", "parameters")
    (param,) = [p for p in params if p.get("name") == "pool_id"]
    param["required"] = False


def _schema(doc: Doc, name: str) -> Any:
    return _node(doc, "components", "schemas", name)


# name -> (a change to ours, the operation and the difference it makes)
MUTATIONS: dict[str, tuple[Callable[[Doc], None], str]] = {
    "parameter no longer required": (
        _unrequire_pool_id,
        "GET /tasks: parameters[query:pool_id].required",
    ),
    "request bound changed": (
        lambda d: _schema(d, "TaskCreate")["properties"]["overlap"].update(maximum=3000),
        "POST /tasks: requestBody.schema.oneOf[0].properties.overlap.maximum",
    ),
    "response enum changed": (
        lambda d: _schema(d, "Operation")["properties"]["status"].update(enum=["PENDING"]),
        "GET /operations/{id}: responses.200.schema.properties.status.enum",
    ),
    "nested response field retyped": (
        lambda d: _schema(d, "Task")["properties"]["remaining_overlap"].update(type="string"),
        "GET /tasks: responses.200.schema.properties.items.items.properties.remaining_overlap.type",
    ),
    "response field dropped": (
        lambda d: _schema(d, "OperationList")["properties"].pop("has_more"),
        "GET /operations: responses.200.schema.properties.has_more",
    ),
    "patch body field added": (
        lambda d: _schema(d, "TaskPatch")["properties"].update(pool_id={"type": "string"}),
        "PATCH /tasks/{id}: requestBody.schema.properties.pool_id",
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_changed_spec_fails_the_comparison(published: dict[str, Any], name: str) -> None:
    mutate, where = MUTATIONS[name]
    doc = copy.deepcopy(_raw_ours())
    mutate(doc)
    unlisted, stale = check(_ours(doc), published)
    assert [line for line in unlisted if line.startswith(f"{where}: ")], unlisted
    assert not stale


def test_a_listed_difference_that_is_gone_fails_the_comparison(published: dict[str, Any]) -> None:
    doc = copy.deepcopy(_raw_ours())
    # Agree with the published document on the page size: the listed bounds are gone.
    del doc["components"]["parameters"]["Limit"]["schema"]["maximum"]
    unlisted, stale = check(_ours(doc), published)
    assert not unlisted
    assert "GET /tasks: parameters[query:limit].schema.maximum" in stale
    assert "GET /operations: parameters[query:limit].schema.maximum" in stale


# --------------------------------------------------------------------------- rule table

# What classification cannot show on its own (every row of CASES also goes through locate):
LOCATIONS = [
    ("parameters[query:a.b]", ("request", "parameter")),  # a dot inside a name
    ("requestBody.schema.oneOf[1].items.required", ("request", "required")),
    ("requestBody.schema.properties.type", ("request", "property")),  # a field called "type"
    ("responses.200.schema.properties.items", ("response", "property")),
    ("responses.200.schema.additionalProperties.properties.x.minimum", ("response", "minimum")),
    ("responses.200.headers.X-Rate", ("response", "other")),
    ("requestBody.schema.properties", ("request", "other")),
    ("nonsense", ("operation", "other")),
]


@pytest.mark.parametrize(("what", "expected"), LOCATIONS, ids=[w for w, _ in LOCATIONS])
def test_locate_reads_every_kind_of_difference(what: str, expected: tuple[str, str]) -> None:
    assert v1_compare.locate(what) == expected


# (what, ours, published) -> the rule that names it. Every rule has at least one row.
CASES: list[tuple[str, Any, Any, str]] = [
    ("(operation)", "declared", "absent", "operation-gone"),
    ("security.schemes", ["apiKey header Authorization"], ["apiKey header X-Key"],
     "security-credentials-changed"),
    ("security.schemes", ["apiKey header Authorization"],
     ["apiKey header Authorization", "http bearer"], "security-credentials-added"),
    ("security", [["a"], ["a"]], [["b"]], "security-changed"),
    ("operationId", "listTasks", "getTasks", "operation-id-changed"),
    ("parameters[query:id_gt]", "declared", "absent", "request-parameter-gone"),
    ("parameters[query:project_id]", "absent", "declared, required",
     "request-parameter-added-required"),
    ("parameters[query:project_id]", "absent", "declared", "request-parameter-added"),
    ("parameters[query:pool_id].required", False, True, "request-parameter-became-required"),
    ("parameters[query:pool_id].required", True, False, "request-parameter-became-optional"),
    ("requestBody", "declared", "absent", "request-body-gone"),
    ("requestBody", "absent", "declared, required", "request-body-added-required"),
    ("requestBody", "absent", "declared", "request-body-added"),
    ("requestBody.required", None, True, "request-body-became-required"),
    ("requestBody.required", True, False, "request-body-became-optional"),
    ("requestBody.schema.properties.overlap", "declared", "absent", "request-property-gone"),
    ("requestBody.schema.properties.properties", "declared", "absent", "request-property-gone"),
    ("requestBody.schema.oneOf[1].items.properties.priority", "absent", "declared",
     "request-property-added"),
    ("requestBody.schema.required", ["pool_id"], ["overlap", "pool_id"],
     "request-property-became-required"),
    ("requestBody.schema.oneOf[0].required", ["input_values", "pool_id"], ["pool_id"],
     "request-property-became-optional"),
    ("parameters[query:overlap_gt].schema.type", "integer", "string", "request-type-changed"),
    ("requestBody.schema.properties.type.type", "string", "integer", "request-type-changed"),
    ("parameters[query:operation_id].schema.format", "uuid", None, "request-format-changed"),
    ("parameters[query:status].schema.enum", ["FAIL", "SUCCESS"], ["SUCCESS"],
     "request-enum-value-removed"),
    ("parameters[query:status].schema.enum", None, ["SUCCESS"], "request-enum-value-removed"),
    ("parameters[query:status].schema.enum", ["SUCCESS"], ["FAIL", "SUCCESS"],
     "request-enum-value-added"),
    ("parameters[query:status].schema.enum", ["SUCCESS"], None, "request-enum-value-added"),
    ("parameters[query:limit].schema.minimum", 1, 2, "request-minimum-raised"),
    ("parameters[query:limit].schema.minimum", None, 0, "request-minimum-raised"),
    ("parameters[query:limit].schema.minimum", 1, "1", "request-minimum-raised"),
    ("parameters[query:limit].schema.minimum", 1, 0, "request-minimum-lowered"),
    ("parameters[query:limit].schema.minimum", 1, None, "request-minimum-lowered"),
    ("requestBody.schema.properties.overlap.maximum", 30000, 3000, "request-maximum-lowered"),
    ("parameters[query:limit].schema.maximum", None, 300, "request-maximum-lowered"),
    ("parameters[query:limit].schema.maximum", 300, 1000, "request-maximum-raised"),
    ("parameters[query:limit].schema.maximum", 300, None, "request-maximum-raised"),
    ("requestBody.schema.additionalProperties", None, False, "request-object-closed"),
    ("requestBody.schema.additionalProperties", False, None, "request-object-opened"),
    ("requestBody.schema.properties.x.additionalProperties", "schema", None,
     "request-object-opened"),
    ("requestBody.schema.oneOf[1]", "declared", "absent", "request-alternative-gone"),
    ("requestBody.schema.oneOf", 2, 1, "request-alternatives-fewer"),
    ("requestBody.schema.oneOf", 2, 3, "request-alternatives-more"),
    ("responses.201", "declared", "absent", "response-status-gone"),
    ("responses.202", "absent", "declared", "response-status-added"),
    ("responses.200.schema.properties.items.items.properties.remaining_overlap", "declared",
     "absent", "response-property-gone"),
    ("responses.200.schema.properties.type", "absent", "declared", "response-property-added"),
    ("responses.200.schema.properties.has_more.type", "boolean", "string",
     "response-type-changed"),
    ("responses.200.schema.properties.created.format", "date-time", None,
     "response-format-changed"),
    ("responses.200.schema.properties.status.enum", ["FAIL"], ["CANCELLED", "FAIL"],
     "response-enum-value-added"),
    ("responses.200.schema.properties.status.enum", ["FAIL"], None, "response-enum-value-added"),
    ("responses.200.schema.properties.status.enum", ["FAIL", "PENDING"], ["FAIL"],
     "response-enum-value-removed"),
    ("responses.200.schema.properties.status.enum", None, ["FAIL"],
     "response-enum-value-removed"),
    ("responses.201.schema.oneOf[0].properties.items.additionalProperties", "schema", None,
     "response-map-gone"),
    ("responses.201.schema.oneOf[0].properties.items.additionalProperties", None, "schema",
     "response-map-changed"),
    ("responses.201.schema.oneOf[2]", "declared", "absent", "response-alternative-gone"),
    ("responses.201.schema.oneOf", 3, 4, "response-alternatives-more"),
    ("responses.201.schema.oneOf", 3, 2, "response-alternatives-fewer"),
    ("responses.200.headers.X-Rate", 1, 2, "difference-other"),
]  # fmt: skip
BREAKING = {
    "operation-gone", "security-credentials-changed", "security-changed",
    "request-parameter-gone", "request-parameter-added-required",
    "request-parameter-became-required", "request-body-gone", "request-body-added-required",
    "request-body-became-required", "request-property-gone", "request-property-became-required",
    "request-type-changed", "request-format-changed", "request-enum-value-removed",
    "request-minimum-raised", "request-maximum-lowered", "request-object-closed",
    "request-alternative-gone", "request-alternatives-fewer", "response-status-gone",
    "response-property-gone", "response-type-changed", "response-format-changed",
    "response-map-gone", "response-alternative-gone",
}  # fmt: skip


@pytest.mark.parametrize(
    ("what", "ours", "published", "rule"),
    CASES,
    ids=[f"{rule}:{what}:{ours}->{published}" for what, ours, published, rule in CASES],
)
def test_rule_table_classifies(what: str, ours: Any, published: Any, rule: str) -> None:
    found = v1_compare.classify(what, ours, published)
    assert found.name == rule
    assert (found.level == "breaking") == (rule in BREAKING)


def test_every_rule_has_a_case_and_a_unique_name() -> None:
    names = [r.name for r in v1_compare.RULES]
    assert len(names) == len(set(names))
    every = {*names, v1_compare.OTHER.name}
    assert {rule for *_, rule in CASES} == every
    assert BREAKING == {r.name for r in v1_compare.RULES if r.level == "breaking"}
    assert {v1_compare.OTHER.level, v1_compare.GONE.level} <= {"warning", "info"}  # not breaking


def _op(status_enum: list[str], *params: Doc, drop: str = "") -> Doc:
    fields = {"id": {"type": "string"}, "status": {"type": "string", "enum": status_enum}}
    fields.pop(drop, None)
    schema = {"type": "object", "properties": fields}
    return {
        "operationId": "getTask",
        "parameters": [{"in": "path", "name": "id", "required": True}, *params],
        "responses": {"200": {"content": {"application/json": {"schema": schema}}}},
    }


def test_compare_reports_unlisted_and_gone_differences() -> None:
    ours = {"paths": {"/tasks/{id}": {"get": _op(["A"])}}}
    optional = {"in": "query", "name": "fields", "schema": {"type": "string"}}
    published = {"paths": {"/tasks/{taskId}": {"get": _op(["A", "B"], optional)}}}
    published["paths"]["/tasks/{taskId}"]["get"]["operationId"] = "readTask"
    listed = {"GET /tasks/{id}": {"operationId", "responses.200.schema.properties.gone"}}

    findings = v1_compare.compare(ours, published, listed)
    assert [(f.what, f.rule.name) for f in findings] == [
        ("parameters[query:fields]", "request-parameter-added"),
        ("responses.200.schema.properties.gone", "listed-difference-gone"),
        ("responses.200.schema.properties.status.enum", "response-enum-value-added"),
    ]
    report = v1_compare.report(findings)
    assert report.exit_code == 3
    lines = report.to_text().splitlines()
    assert {
        "[warning] response-enum-value-added  GET /tasks/{id}  responses.200.schema.properties"
        '.status.enum: ours ["A"], published ["A", "B"]',
        "[compatible] listed-difference-gone  GET /tasks/{id}  responses.200.schema.properties"
        ".gone: listed in openapi/v1-differences.yaml, no longer found: review the entry",
    } <= set(lines)

    published["paths"]["/tasks/{taskId}"]["get"] = _op(["A"], drop="id")
    (finding,) = v1_compare.compare(ours, published, {})
    assert finding.change().line() == (
        "[BREAKING] response-property-gone  GET /tasks/{id}  responses.200.schema.properties.id:"
        ' ours "declared", published "absent"'
    )
    assert v1_compare.report([finding]).exit_code == 4
    assert v1_compare.report([]).exit_code == 0


def test_a_listed_security_difference_does_not_hide_a_credential_change() -> None:
    def doc(header: str, *names: str) -> Doc:
        schemes = {n: {"type": "apiKey", "in": "header", "name": header} for n in names}
        op: Doc = {"responses": {}, "security": [{n: []} for n in names]}
        return {"paths": {"/x": {"get": op}}, "components": {"securitySchemes": schemes}}

    ours = doc("Authorization", "ApiKey", "OAuth")  # the same header twice, as ours has it
    listed = {"GET /x": {"security"}}
    assert v1_compare.compare(ours, doc("Authorization", "api_key1"), listed) == []
    (finding,) = v1_compare.compare(ours, doc("X-Api-Key", "api_key1"), listed)
    assert (finding.what, finding.rule.name) == ("security.schemes", "security-credentials-changed")
