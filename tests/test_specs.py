"""The contract snapshots themselves: valid, fully exemplified, every guess explained."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from scripts.mockserver import SPECS
from scripts.pull_spec import content_hash, load_text
from toloka_ext._openapi import Document


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load(SPECS[name].read_text(encoding="utf-8"))


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    """The object a ``$ref`` chain ends at (the document's own, not a copy)."""
    while isinstance(node, dict) and "$ref" in node:
        node, _ = Document(spec).lookup(node["$ref"])
    return node


def _ops(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``("GET /runs/{runId}", operation)`` for each operation."""
    for path, method, op, _ in Document(spec).operations():
        yield f"{method.upper()} {path}", op


def _responses(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for where, op in _ops(spec):
        for status, response in op["responses"].items():
            yield where, status, op["operationId"], _resolve(spec, response)


def _walk(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}/{i}")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_is_valid_openapi(name: str) -> None:
    validate(_load(name))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_snapshot_metadata_present_and_hash_matches_the_content(name: str) -> None:
    doc = load_text(SPECS[name].read_text(encoding="utf-8"))
    meta = doc["info"]["x-snapshot"]
    assert meta["mode"] in {"live", "reconstructed", "file"}
    assert meta["source"] and meta["date"]
    assert meta["sha256"] == content_hash(doc)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_guess_has_a_reason(name: str) -> None:
    unexplained = [
        where
        for where, node in _walk(_load(name))
        if node.get("x-guess") is True and not str(node.get("x-guess-reason", "")).strip()
    ]
    assert not unexplained


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_response_body_has_examples_that_conform(name: str) -> None:
    spec = _load(name)
    checked = 0
    for op, status, _, response in _responses(spec):
        for media, content in response.get("content", {}).items():
            examples = [content["example"]] if "example" in content else []
            examples += [_resolve(spec, e)["value"] for e in content.get("examples", {}).values()]
            assert examples, f"{op} {status} {media} has no example"
            schema = {**content["schema"], "components": spec["components"]}
            if media == "application/octet-stream":
                continue
            for example in examples:
                OAS30Validator(schema).validate(example)
                checked += 1
    assert checked > 20


def test_v2_status_enums_have_a_named_example_per_value() -> None:
    """Prism serves every documented status with ``Prefer: example=<status>``."""
    spec = _load("v2-beta")
    by_op = {op_id: resp for _, status, op_id, resp in _responses(spec) if status == "200"}
    for op_id, enum_name, default in [
        ("getRun", "RunStatus", "completed"),
        ("getUpload", "UploadStatus", "succeeded"),
        ("getExport", "ExportStatus", "ready"),
    ]:
        names = list(by_op[op_id]["content"]["application/json"]["examples"])
        assert set(names) == set(spec["components"]["schemas"][enum_name]["enum"]), op_id
        # Prism serves the first named example when no Prefer header picks one: a mock run,
        # upload or export finishes successfully by default.
        assert names[0] == default, op_id


def test_v2_declares_every_howto_endpoint() -> None:
    spec = _load("v2-beta")
    declared = {where for where, _ in _ops(spec)}
    howto = {
        "GET /projects",
        "POST /projects",
        "POST /projects/{projectId}/datasets",
        "GET /projects/{projectId}/datasets",
        "POST /datasets/{datasetId}/items",
        "POST /datasets/{datasetId}/uploads",
        "POST /uploads/{uploadId}/finalize",
        "GET /uploads/{uploadId}",
        "GET /datasets/{datasetId}/fields",
        "POST /pipelines/{pipelineId}/copy",
        "POST /projects/{projectId}/pipelines/import",
        "GET /pipelines/{pipelineId}/export",
        "POST /pipelines/{pipelineId}/dataset",
        "POST /pipelines/{pipelineId}/runs",
        "GET /runs/{runId}",
        "GET /pipelines/{pipelineId}/runs",
        "POST /datasets/{datasetId}/exports",
        "GET /exports/{exportId}",
        "GET /projects/{projectId}/pipelines",
        "GET /me",
    }
    # Guesses beyond the how-to, each marked x-guess with its reason in the snapshot.
    guessed = {"GET /datasets/{datasetId}/exports"}
    assert declared == howto | guessed
    for method, path in (g.split(" ") for g in guessed):
        assert spec["paths"][path][method.lower()]["x-guess"] is True


@pytest.mark.parametrize("name", sorted(SPECS))
def test_error_statuses_are_documented(name: str) -> None:
    spec = _load(name)
    for op, status, _, response in _responses(spec):
        if status.startswith(("4", "5")):
            assert "application/json" in response["content"], (op, status)
    statuses = {status for _, status, _, _ in _responses(spec)}
    assert {"400", "401", "403", "404", "409", "429", "500", "503"} <= statuses


def _request_examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
    for where, op in _ops(spec):
        for media, content in _resolve(spec, op.get("requestBody", {})).get("content", {}).items():
            examples = [content["example"]] if "example" in content else []
            examples += [_resolve(spec, e)["value"] for e in content.get("examples", {}).values()]
            for example in examples:
                yield where, media, example, content["schema"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_request_body_example_conforms(name: str) -> None:
    spec = _load(name)
    checked = 0
    for _, media, example, schema in _request_examples(spec):
        if media == "application/json":
            OAS30Validator({**schema, "components": spec["components"]}).validate(example)
            checked += 1
    assert checked > 5


def _v1_ops() -> dict[str, dict[str, Any]]:
    return {op["operationId"]: {"op": op, "where": where} for where, op in _ops(_load("v1"))}


def test_v1_declares_every_operation_the_client_uses() -> None:
    declared = {op_id: entry["where"] for op_id, entry in _v1_ops().items()}
    assert declared == {
        "createTasks": "POST /tasks",
        "listTasks": "GET /tasks",
        "getTask": "GET /tasks/{id}",
        "patchTask": "PATCH /tasks/{id}",
        "setTaskOverlapOrMin": "PATCH /tasks/{id}/set-overlap-or-min",
        "listOperations": "GET /operations",
        "getOperation": "GET /operations/{id}",
        "getOperationLog": "GET /operations/{id}/log",
    }


def _named_examples(op: dict[str, Any], status: str) -> list[str]:
    return list(op["responses"][status]["content"]["application/json"]["examples"])


def test_v1_named_examples_the_contract_tests_pick() -> None:
    """tests/v1/test_contract.py selects these with ``Prefer: example=<name>``; Prism serves
    the first one when nothing is preferred."""
    ops = {op_id: entry["op"] for op_id, entry in _v1_ops().items()}
    created = _named_examples(ops["createTasks"], "201")
    assert {"single", "batch", "batch_with_errors", "async_operation"} <= set(created)
    assert _named_examples(ops["getOperationLog"], "200")[0] == "mixed"
    for op_id in ("getOperation", "listOperations", "listTasks", "getTask"):
        assert _named_examples(ops[op_id], "200")[0] == "success", op_id


def test_v1_states_the_published_facts() -> None:
    spec = _load("v1")
    schemas = spec["components"]["schemas"]
    ops = {op_id: entry["op"] for op_id, entry in _v1_ops().items()}
    create = ops["createTasks"]
    # Auth: ApiKey is the documented form, OAuth the legacy one.
    assert spec["security"] == [{"ApiKey": []}, {"OAuth": []}]
    assert spec["components"]["securitySchemes"]["OAuth"]["x-legacy"] is True
    # A retried async create answers 409 OPERATION_ALREADY_EXISTS.
    conflicts = create["responses"]["409"]["content"]["application/json"]["examples"]
    assert "OPERATION_ALREADY_EXISTS" in {e["value"]["code"] for e in conflicts.values()}
    # Limits of one request and the quota.
    limits = create["x-rate-limits"]
    assert limits["max_input_values_bytes_per_request"] == 1_048_576
    assert limits["max_known_solutions_output_values_bytes_per_request"] == 4_194_304
    assert (limits["tasks_per_minute"], limits["tasks_per_day"]) == (200_000, 4_000_000)
    assert "1,048,576" in create["description"] and "4,194,304" in create["description"]
    overlap = schemas["TaskCreate"]["properties"]["overlap"]
    assert (overlap["minimum"], overlap["maximum"]) == (1, 30000)
    assert {"remaining_overlap", "origin_task_id"} <= set(schemas["Task"]["properties"])
    # Lists: {items, has_more}, keyset paging, no offset, no total.
    limit = spec["components"]["parameters"]["Limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (50, 300)
    for op_id, page in (("listTasks", "TaskList"), ("listOperations", "OperationList")):
        assert set(schemas[page]["properties"]) == {"items", "has_more"}
        names = {_resolve(spec, p)["name"] for p in ops[op_id]["parameters"]}
        assert {"sort", "limit", "id_gt"} <= names and not names & {"offset", "page"}
    # The log is an array of entries; entries that are not task steps exist.
    log = ops["getOperationLog"]["responses"]["200"]["content"]["application/json"]
    assert log["schema"]["type"] == "array"
    assert any(e["type"] == "POOL_OPEN" for e in log["examples"]["with_pool_open"]["value"])
