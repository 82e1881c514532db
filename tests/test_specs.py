"""The contract snapshots themselves: valid, fully exemplified, every guess explained."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from scripts.mockserver import SPECS

METHODS = {"get", "post", "put", "patch", "delete"}


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load(SPECS[name].read_text(encoding="utf-8"))


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _responses(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status, response in op["responses"].items():
                yield (
                    f"{method.upper()} {path}",
                    status,
                    op["operationId"],
                    _resolve(spec, response),
                )


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
def test_snapshot_metadata_present(name: str) -> None:
    meta = _load(name)["info"]["x-snapshot"]
    assert meta["mode"] in {"live", "reconstructed", "file"}
    assert meta["source"] and meta["date"]


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
            examples = []
            if "example" in content:
                examples.append(content["example"])
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
    for op_id, enum_name in [
        ("getRun", "RunStatus"),
        ("getUpload", "UploadStatus"),
        ("getExport", "ExportStatus"),
    ]:
        names = list(by_op[op_id]["content"]["application/json"]["examples"])
        assert set(names) == set(spec["components"]["schemas"][enum_name]["enum"]), op_id
    # Prism serves the first named example when no Prefer header picks one: a mock run,
    # upload or export finishes successfully by default.
    for op_id, default in [
        ("getRun", "completed"),
        ("getUpload", "succeeded"),
        ("getExport", "ready"),
    ]:
        assert next(iter(by_op[op_id]["content"]["application/json"]["examples"])) == default


def test_v2_declares_every_howto_endpoint() -> None:
    spec = _load("v2-beta")
    declared = {
        f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item if m in METHODS
    }
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
    for path_method in guessed:
        method, path = path_method.split(" ")
        assert spec["paths"][path][method.lower()]["x-guess"] is True


@pytest.mark.parametrize("name", sorted(SPECS))
def test_error_statuses_are_documented(name: str) -> None:
    spec = _load(name)
    for op, status, _, response in _responses(spec):
        if status.startswith(("4", "5")):
            assert "application/json" in response["content"], (op, status)
    statuses = {status for _, status, _, _ in _responses(spec)}
    assert {"400", "401", "403", "404", "409", "429", "500", "503"} <= statuses
