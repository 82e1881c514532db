"""scripts.specdiff: spec pairs with known changes -> exact rule ids, levels and exit codes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from toloka_ext._specdiff import RULES, Change, Report, diff_specs

SPECS = Path(__file__).parent / "fixtures" / "specs"
RUNS = "/projects/{projectId}/runs"
RUN = "/runs/{runId}"


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return load("base_v30.yaml")


def mutated(base: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    new = copy.deepcopy(base)
    change(new)
    validate(new)  # every "new" side is itself a valid document
    return new


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]
    return result


def triples(report: Report) -> list[tuple[str, str, str, str]]:
    return [(c.rule_id, c.method, c.path, c.location) for c in report.changes]


def test_fixtures_are_valid_documents() -> None:
    validate(load("base_v30.yaml"))
    validate(load("base_v31.yaml"))


def test_identical_documents_have_no_change(base: dict[str, Any]) -> None:
    report = diff_specs(base, copy.deepcopy(base))
    assert report.changes == []
    assert report.exit_code == 0
    assert "No API changes." in report.to_text()


def test_response_enum_value_added_is_a_warning_not_breaking(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["paths"][RUN]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/RunView"
        }
        schemas(doc)["RunView"] = {
            "type": "object",
            "properties": {"state": {"type": "string", "enum": ["running", "done", "paused"]}},
        }

    old = mutated(base, lambda d: None)
    old["paths"][RUN]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "properties": {"state": {"type": "string", "enum": ["running", "done"]}},
    }
    report = diff_specs(old, mutated(base, change))
    assert triples(report) == [
        ("response-property-enum-value-added", "GET", RUN, "response 200 body .state")
    ]
    (only,) = report.changes
    assert only.level == "warning"
    assert not only.breaking
    assert '"paused"' in only.detail
    assert report.breaking == []
    assert report.compatible == [only]
    assert report.exit_code == 3
    assert only.line().startswith("[warning] response-property-enum-value-added  GET /runs/{runId}")


def test_shared_enum_value_added_reports_request_and_response_sides(base: dict[str, Any]) -> None:
    new = mutated(base, lambda d: schemas(d)["RunStatus"]["enum"].append("paused"))
    report = diff_specs(base, new)
    assert triples(report) == [
        ("response-property-enum-value-added", "GET", RUNS, "response 200 body .items[].status"),
        ("response-property-enum-value-added", "POST", RUNS, "response 201 body .status"),
        ("response-property-enum-value-added", "GET", RUN, "response 200 body .status"),
        ("request-parameter-enum-value-added", "GET", RUNS, "query status"),
    ]
    assert [c.level for c in report.changes] == ["warning", "warning", "warning", "info"]
    assert report.exit_code == 3


def test_request_enum_value_removed_is_breaking(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        schemas(doc)["CreateRun"]["properties"]["fields"]["items"]["properties"]["type"]["enum"] = [
            "text",
            "url",
        ]

    report = diff_specs(base, mutated(base, change))
    assert triples(report) == [
        ("request-property-enum-value-removed", "POST", RUNS, "request body .fields[].type")
    ]
    assert report.changes[0].breaking
    assert report.exit_code == 4


def test_required_request_property_added_is_breaking(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        create = schemas(doc)["CreateRun"]
        create["properties"]["datasetId"] = {"type": "string"}
        create["required"].append("datasetId")

    report = diff_specs(base, mutated(base, change))
    assert triples(report) == [
        ("new-required-request-property", "POST", RUNS, "request body .datasetId")
    ]
    assert report.changes[0].level == "breaking"
    assert report.exit_code == 4


def test_optional_request_property_added_is_compatible(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        schemas(doc)["CreateRun"]["properties"]["itemFilter"] = {"type": "string"}

    report = diff_specs(base, mutated(base, change))
    assert triples(report) == [
        ("new-optional-request-property", "POST", RUNS, "request body .itemFilter")
    ]
    assert report.changes[0].level == "info"
    assert report.exit_code == 3


def test_operation_removed_is_breaking(base: dict[str, Any]) -> None:
    report = diff_specs(base, mutated(base, lambda d: d["paths"][RUN].pop("delete")))
    assert triples(report) == [("api-removed-without-deprecation", "DELETE", RUN, "")]
    assert report.changes[0].breaking
    assert report.exit_code == 4


def test_whole_path_removed_reports_each_operation(base: dict[str, Any]) -> None:
    report = diff_specs(base, mutated(base, lambda d: d["paths"].pop(RUN)))
    assert triples(report) == [
        ("api-path-removed-without-deprecation", "GET", RUN, ""),
        ("api-path-removed-without-deprecation", "DELETE", RUN, ""),
    ]
    assert report.exit_code == 4
    # and the reverse direction is purely additive
    back = diff_specs(mutated(base, lambda d: d["paths"].pop(RUN)), base)
    assert {c.rule_id for c in back.changes} == {"endpoint-added"}
    assert back.exit_code == 3


def test_response_property_renamed_is_breaking(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        err = schemas(doc)["Error"]
        err["properties"]["errorCode"] = err["properties"].pop("code")
        err["required"] = ["errorCode"]

    report = diff_specs(base, mutated(base, change))
    assert triples(report) == [
        ("response-required-property-removed", "GET", RUNS, "response 404 body .code"),
        ("response-required-property-removed", "GET", RUN, "response 404 body .code"),
        ("response-required-property-added", "GET", RUNS, "response 404 body .errorCode"),
        ("response-required-property-added", "GET", RUN, "response 404 body .errorCode"),
    ]
    assert [c.level for c in report.changes] == ["breaking", "breaking", "info", "info"]
    assert report.exit_code == 4


def test_optional_request_property_renamed_is_not_breaking(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        props = schemas(doc)["CreateRun"]["properties"]
        props["limit"] = props.pop("itemLimit")

    report = diff_specs(base, mutated(base, change))
    assert triples(report) == [
        ("request-property-removed", "POST", RUNS, "request body .itemLimit"),
        ("new-optional-request-property", "POST", RUNS, "request body .limit"),
    ]
    assert [c.level for c in report.changes] == ["warning", "info"]
    assert report.exit_code == 3


def test_optional_response_property_added_is_compatible(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        schemas(doc)["Progress"]["properties"]["skipped"] = {"type": "integer"}

    report = diff_specs(base, mutated(base, change))
    assert {c.rule_id for c in report.changes} == {"response-optional-property-added"}
    assert {c.level for c in report.changes} == {"info"}
    assert report.exit_code == 3


def test_type_changed_is_breaking_in_requests_and_responses(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        schemas(doc)["Progress"]["properties"]["failed"] = {"type": "string"}
        doc["paths"][RUNS]["get"]["parameters"][0]["schema"] = {"type": "string"}
        schemas(doc)["CreateRun"]["properties"]["itemLimit"] = {"type": "number"}

    report = diff_specs(base, mutated(base, change))
    by_rule = {(c.rule_id, c.method, c.location): c for c in report.changes}
    assert set(by_rule) == {
        ("response-property-type-changed", "GET", "response 200 body .items[].progress.failed"),
        ("response-property-type-changed", "POST", "response 201 body .progress.failed"),
        ("response-property-type-changed", "GET", "response 200 body .progress.failed"),
        ("request-parameter-type-changed", "GET", "query limit"),
        ("request-property-type-changed", "POST", "request body .itemLimit"),
    }
    assert all(c.breaking for c in report.changes)
    assert by_rule[("request-parameter-type-changed", "GET", "query limit")].detail == (
        "type integer -> string"
    )
    assert report.exit_code == 4


def test_required_flags_both_ways(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        schemas(doc)["Progress"]["required"] = ["completed", "failed"]  # total optional now
        doc["paths"][RUNS]["get"]["parameters"][0]["required"] = True

    report = diff_specs(base, mutated(base, change))
    rules = sorted({(c.rule_id, c.level) for c in report.changes})
    assert rules == [
        ("request-parameter-became-required", "breaking"),
        ("response-property-became-optional", "breaking"),
        ("response-property-became-required", "info"),
    ]


def test_nullable_30_and_type_null_31_are_equivalent() -> None:
    v30, v31 = load("base_v30.yaml"), load("base_v31.yaml")
    assert diff_specs(v30, v31).changes == []
    assert diff_specs(v31, v30).changes == []
    assert diff_specs(v30, v31).exit_code == 0


def test_response_becoming_nullable_is_breaking_across_versions() -> None:
    v30, v31 = load("base_v30.yaml"), load("base_v31.yaml")
    schemas(v31)["Progress"]["properties"]["total"] = {"type": ["integer", "null"]}
    report = diff_specs(v30, v31)
    assert {(c.rule_id, c.level) for c in report.changes} == {
        ("response-property-became-nullable", "breaking")
    }
    assert len(report.changes) == 3  # one per operation returning a Run


def test_change_inside_referenced_component_is_found_under_each_operation(
    base: dict[str, Any],
) -> None:
    # Progress is reached through Run -> progress, RunList -> items[] -> Run -> progress.
    def change(doc: dict[str, Any]) -> None:
        schemas(doc)["Progress"]["required"] = ["completed"]

    report = diff_specs(base, mutated(base, change))
    assert triples(report) == [
        (
            "response-property-became-optional",
            "GET",
            RUNS,
            "response 200 body .items[].progress.total",
        ),
        ("response-property-became-optional", "POST", RUNS, "response 201 body .progress.total"),
        ("response-property-became-optional", "GET", RUN, "response 200 body .progress.total"),
    ]
    assert report.exit_code == 4


def test_allof_is_merged_and_refs_inlined_are_equivalent(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        run = schemas(doc)["Run"]
        schemas(doc)["Run"] = {
            "allOf": [
                {"$ref": "#/components/schemas/RunBase"},
                {
                    "type": "object",
                    "required": ["progress"],
                    "properties": {"progress": copy.deepcopy(schemas(doc)["Progress"])},
                },
            ]
        }
        base_props = {k: v for k, v in run["properties"].items() if k != "progress"}
        schemas(doc)["RunBase"] = {
            "type": "object",
            "required": ["id", "status"],
            "properties": base_props,
        }

    assert diff_specs(base, mutated(base, change)).changes == []


def test_one_of_variants_matched_by_ref_name(base: dict[str, Any]) -> None:
    def with_variants(names: list[str]) -> Callable[[dict[str, Any]], None]:
        def change(doc: dict[str, Any]) -> None:
            for name in ("A", "B", "C"):
                schemas(doc)[name] = {
                    "type": "object",
                    "title": name,
                    "properties": {"v": {"type": "string"}},
                }
            schemas(doc)["Run"]["properties"]["detail"] = {
                "oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in names]
            }

        return change

    old = mutated(base, with_variants(["A", "B"]))
    new = mutated(base, with_variants(["B", "C"]))  # A removed, C added, order changed
    schemas(new)["B"]["properties"]["v"] = {"type": "integer"}
    report = diff_specs(old, new)
    found = {(c.rule_id, c.detail or c.location) for c in report.changes if c.method == "POST"}
    assert found == {
        ("response-property-one-of-added", "variant C added"),
        ("response-property-one-of-removed", "variant A removed"),
        ("response-property-type-changed", "type string -> integer"),
    }
    assert report.exit_code == 4


def test_recursive_schemas_terminate(base: dict[str, Any]) -> None:
    def tree(leaf_type: str) -> Callable[[dict[str, Any]], None]:
        def change(doc: dict[str, Any]) -> None:
            schemas(doc)["Node"] = {
                "type": "object",
                "properties": {
                    "value": {"type": leaf_type},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                },
            }
            schemas(doc)["Run"]["properties"]["tree"] = {"$ref": "#/components/schemas/Node"}

        return change

    report = diff_specs(mutated(base, tree("string")), mutated(base, tree("integer")))
    assert {c.location for c in report.changes if c.method == "POST"} == {
        "response 201 body .tree.value"
    }


def test_success_status_and_media_type_changes(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        post = doc["paths"][RUNS]["post"]
        post["responses"]["202"] = post["responses"].pop("201")
        body = post["requestBody"]["content"]
        body["application/yaml"] = body.pop("application/json")

    report = diff_specs(base, mutated(base, change))
    assert {(c.rule_id, c.level) for c in report.changes} == {
        ("response-success-status-removed", "breaking"),
        ("response-success-status-added", "info"),
        ("request-media-type-removed", "breaking"),
        ("request-media-type-added", "info"),
    }


def test_renamed_path_parameter_is_the_same_endpoint(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        item = doc["paths"].pop(RUN)
        item["parameters"][0]["name"] = "id"
        doc["paths"]["/runs/{id}"] = item

    # As in oasdiff, a path parameter is its position in the template: renaming it changes
    # nothing a client sends (no request-parameter-removed + new-required-request-parameter).
    report = diff_specs(base, mutated(base, change))
    assert report.changes == []
    assert report.exit_code == 0

    def retyped(doc: dict[str, Any]) -> None:
        change(doc)
        doc["paths"]["/runs/{id}"]["parameters"][0]["schema"] = {"type": "integer"}

    report = diff_specs(base, mutated(base, retyped))
    assert triples(report) == [
        ("request-parameter-type-changed", "GET", "/runs/{id}", "path id"),
        ("request-parameter-type-changed", "DELETE", "/runs/{id}", "path id"),
    ]


def test_never_crashes_on_odd_documents() -> None:
    odd = {
        "openapi": "3.1.0",
        "paths": {
            "/x": {
                "get": {
                    "parameters": [{"$ref": "#/components/parameters/Missing"}, "junk"],
                    "responses": {200: {"$ref": "#/components/responses/Loop"}},
                },
                "post": {"requestBody": {"$ref": "https://example.invalid/body.json"}},
            }
        },
        "components": {"responses": {"Loop": {"$ref": "#/components/responses/Loop"}}},
    }
    assert diff_specs(odd, {}).exit_code == 4
    assert diff_specs({}, odd).exit_code == 3
    assert diff_specs(odd, copy.deepcopy(odd)).changes == []


def test_report_renderings_are_deterministic(base: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["paths"][RUN].pop("delete")
        schemas(doc)["RunStatus"]["enum"].append("paused")
        schemas(doc)["Progress"]["properties"]["skipped"] = {"type": "integer"}

    new = mutated(base, change)
    first, second = diff_specs(base, new), diff_specs(copy.deepcopy(base), copy.deepcopy(new))
    assert first.to_text() == second.to_text()
    assert first.changes == sorted(first.changes, key=Change.sort_key)

    text = first.to_text().splitlines()
    assert text[0] == "Breaking changes for clients (1):"
    assert (
        text[1]
        == "[BREAKING] api-removed-without-deprecation  DELETE /runs/{runId}  operation removed"
    )
    assert text[-1] == "Summary: 8 change(s): 1 breaking, 3 warning(s), 4 compatible"

    data = json.loads(first.to_json())
    assert data["exit_code"] == 4
    assert data["counts"] == {"breaking": 1, "warning": 3, "info": 4}
    assert data["changes"][0]["rule_id"] == "api-removed-without-deprecation"
    assert data["changes"][0]["breaking"] is True

    md = first.to_markdown()
    assert "## Breaking (1)" in md
    assert "| api-removed-without-deprecation | DELETE /runs/{runId} |  | operation removed |" in md


def test_every_emitted_rule_is_declared() -> None:
    levels = {level for level, _ in RULES.values()}
    assert levels == {"breaking", "warning", "info"}
    assert RULES["response-property-enum-value-added"][0] == "warning"
    assert RULES["new-required-request-property"][0] == "breaking"


def test_security_changes(base: dict[str, Any]) -> None:
    def secured(header: str, alternatives: list[dict[str, list[str]]]) -> dict[str, Any]:
        def change(doc: dict[str, Any]) -> None:
            doc["components"]["securitySchemes"] = {
                "ApiKey": {"type": "apiKey", "in": "header", "name": header},
                "OAuth": {"type": "http", "scheme": "bearer"},
            }
            doc["security"] = alternatives

        return mutated(base, change)

    api_key = secured("Authorization", [{"ApiKey": []}])
    n_ops = 4  # listRuns, createRun, getRun, cancelRun

    newly_required = diff_specs(base, api_key)
    assert {(c.rule_id, c.level) for c in newly_required.changes} == {
        ("api-security-changed", "breaking")
    }
    assert len(newly_required.changes) == n_ops
    assert newly_required.changes[0].detail == "(none) -> ApiKey"

    renamed_header = diff_specs(api_key, secured("X-Api-Key", [{"ApiKey": []}]))
    assert {(c.rule_id, c.location) for c in renamed_header.changes} == {
        ("api-security-component-changed", "security ApiKey")
    }
    assert renamed_header.changes[0].detail == 'name "Authorization" -> "X-Api-Key"'
    assert renamed_header.exit_code == 4

    widened = diff_specs(api_key, secured("Authorization", [{"ApiKey": []}, {"OAuth": []}]))
    assert {(c.rule_id, c.level) for c in widened.changes} == {("api-security-added", "info")}
    assert widened.exit_code == 3
