"""Property tests of the extension layer against the snapshot's own schemas.

1. Any 2xx body valid by the snapshot, served for an operation (the sandbox answers, then
   its ``rewrite`` hook swaps in the generated body), comes back through the public
   ``Toloka`` method as this layer's type, without an exception, with the values it should
   carry (ids, raw status strings, unknown keys kept in ``extra``).
2. Every request the layer builds while driving whole workflows (recorded by the sandbox) is
   valid against the request schema and parameters of its operation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from tests.contract._schemas import CUSTOM_FORMATS, METHODS, json_schema, load
from toloka_ext import ItemFilter, ItemFilterCondition, Toloka
from toloka_ext.testing import RecordedRequest, Sandbox

SPEC = load("v2-beta")


def _operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in METHODS and op["operationId"] == operation_id:
                return method.upper(), path, op
    raise KeyError(operation_id)


def _success_schema(op: dict[str, Any]) -> dict[str, Any]:
    for status, response in op["responses"].items():
        content = response.get("content", {}).get("application/json")
        if status.startswith("2") and content:
            return json_schema(SPEC, content["schema"])
    raise KeyError(op["operationId"])


def _declared(name: str) -> set[str]:
    return set(SPEC["components"]["schemas"][name].get("properties", {}))


def _check_object(result: Any, body: dict[str, Any], schema_name: str) -> None:
    """Our object carries the body's id/status, and exactly the undeclared keys in extra."""
    if "id" in body:
        assert result.id == body["id"]
    if "status" in body:
        assert str(result.status) == body["status"]
    undeclared = {k: v for k, v in body.items() if k not in _declared(schema_name)}
    assert result.extra == undeclared


CallT = Callable[[Toloka], Any]


def _sent_upload(client: Toloka) -> str:
    """A fresh upload of ds-1 with its bytes sent (the sandbox finalizes only such)."""
    upload = client.uploads.create("ds-1")
    client.uploads.send(upload, [{"url": "https://x/3.jpg"}])
    return upload.id


# operationId -> (public call, check(result, body))
CASES: dict[str, tuple[CallT, Callable[[Any, Any], None]]] = {
    "getMe": (lambda c: c.me(), lambda r, b: _check_object(r, b, "Me")),
    "listProjects": (
        lambda c: c.projects.list(limit=100).first_page(),
        lambda r, b: [
            _check_object(x, y, "Project") for x, y in zip(r.items, b["projects"], strict=True)
        ],
    ),
    "createProject": (
        lambda c: c.projects.create("p"),
        lambda r, b: _check_object(r, b, "Project"),
    ),
    "listDatasets": (
        lambda c: c.datasets.list("prj-1", limit=100).first_page(),
        lambda r, b: [
            _check_object(x, y, "Dataset") for x, y in zip(r.items, b["datasets"], strict=True)
        ],
    ),
    "createDataset": (
        lambda c: c.datasets.create("prj-1", name="d"),
        lambda r, b: _check_object(r, b, "Dataset"),
    ),
    "listDatasetFields": (
        lambda c: c.datasets.list_fields("ds-1"),
        lambda r, b: [_check_object(x, y, "Field") for x, y in zip(r, b["fields"], strict=True)],
    ),
    "createUpload": (
        lambda c: c.uploads.create("ds-1"),
        lambda r, b: _check_object(r, b, "Upload"),
    ),
    "getUpload": (lambda c: c.uploads.get("upl-1"), lambda r, b: _check_object(r, b, "Upload")),
    "finalizeUpload": (
        lambda c: c.uploads.finalize(_sent_upload(c)),
        lambda r, b: _check_object(r, b, "Upload"),
    ),
    "copyPipeline": (
        lambda c: c.pipelines.copy("pl-1"),
        lambda r, b: _check_object(r, b, "Pipeline"),
    ),
    "importPipeline": (
        lambda c: c.pipelines.import_file("prj-1", __file__, name="imported"),
        lambda r, b: _check_object(r, b, "Pipeline"),
    ),
    "listPipelines": (
        lambda c: c.pipelines.list("prj-1", limit=100).first_page(),
        lambda r, b: [
            _check_object(x, y, "Pipeline") for x, y in zip(r.items, b["pipelines"], strict=True)
        ],
    ),
    "attachDataset": (
        lambda c: c.pipelines.attach("pl-1", "ds-1"),
        lambda r, b: _check_object(r, b, "DatasetAttachment"),
    ),
    "startRun": (lambda c: c.runs.start("pl-1"), lambda r, b: _check_object(r, b, "Run")),
    "getRun": (lambda c: c.runs.get("run-1"), lambda r, b: _check_object(r, b, "Run")),
    "listRuns": (
        lambda c: c.runs.list("pl-1", limit=100).first_page(),
        lambda r, b: [_check_object(x, y, "Run") for x, y in zip(r.items, b["runs"], strict=True)],
    ),
    "getExport": (lambda c: c.exports.get("exp-1"), lambda r, b: _check_object(r, b, "Export")),
    "listExports": (
        lambda c: c.exports.list("ds-1", limit=100).first_page(),
        lambda r, b: [
            _check_object(x, y, "Export") for x, y in zip(r.items, b["exports"], strict=True)
        ],
    ),
    "createExport": (
        lambda c: c.exports.create("ds-1", field_ids=["fld-1"]),
        lambda r, b: _check_object(r, b, "Export"),
    ),
}


def _path_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


def _with_objects(sandbox: Sandbox) -> None:
    """What the calls above address: ds-1 (field fld-1), upl-1 (its bytes sent), run-1."""
    with sandbox.client() as client:
        dataset = client.datasets.create("prj-1", name="d")
        client.datasets.add_items(dataset.id, [{"url": "https://x/1.jpg"}], fields=["url"])
        upload = client.uploads.create(dataset.id)
        client.uploads.send(upload, [{"url": "https://x/2.jpg"}])
        client.pipelines.attach("pl-1", dataset.id)
        client.runs.start("pl-1")
    assert (dataset.id, upload.id) == ("ds-1", "upl-1")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, Toloka]]:
    """One sandbox for every example: each answer is swapped for the example's body."""
    sandbox = Sandbox()
    _with_objects(sandbox)
    with sandbox.client(max_retries=0) as client:
        yield sandbox, client


@pytest.mark.parametrize("operation", sorted(CASES))
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_any_valid_body_parses_through_the_public_api(
    served: tuple[Sandbox, Toloka], operation: str, data: st.DataObject
) -> None:
    sandbox, client = served
    _, _, op = _operation(operation)
    body = data.draw(from_schema(_success_schema(op), custom_formats=CUSTOM_FORMATS), label="body")
    seen: list[str] = []

    def rewrite(operation_id: str, answer: Any) -> Any:
        seen.append(operation_id)
        return body if operation_id == operation else answer

    sandbox.rewrite = rewrite
    try:
        call, check = CASES[operation]
        result = call(client)
    finally:
        sandbox.rewrite = None
    assert operation in seen  # the sandbox answered the operation, and the body was swapped
    check(result, body)


def test_every_operation_with_a_json_body_is_covered() -> None:
    with_json = {
        op["operationId"]
        for item in SPEC["paths"].values()
        for m, op in item.items()
        if m in METHODS
        and any(
            s.startswith("2") and "application/json" in r.get("content", {})
            for s, r in op["responses"].items()
        )
    }
    # addDatasetItems takes rows, not a canned body: it is driven in the request audit below.
    assert with_json - set(CASES) == {"addDatasetItems"}


# --------------------------------------------------------------------------- requests


def _request_validators() -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    out = []
    for template, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                out.append((method.upper(), _path_regex(template), op))
    return out


class RequestAudit:
    """Validates requests against their operation's request schema and query parameters."""

    def __init__(self, base_path: str) -> None:
        self.base_path = base_path.rstrip("/")
        self.routes = _request_validators()
        self.checked: set[str] = set()
        self.problems: list[str] = []

    def check(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        content_type: str,
        content: bytes,
    ) -> None:
        path = path.removeprefix(self.base_path)
        matches = [op for m, rx, op in self.routes if m == method and rx.match(path)]
        if len(matches) != 1:
            self.problems.append(f"{method} {path}: no operation in the snapshot")
            return
        op = matches[0]
        self.checked.add(op["operationId"])
        declared = {
            p["name"]: p
            for p in (
                [
                    SPEC["components"]["parameters"][r["$ref"].rsplit("/", 1)[1]]
                    if "$ref" in r
                    else r
                    for r in op.get("parameters", [])
                ]
            )
        }
        for name, value in params.items():
            param = declared.get(name)
            if param is None or param["in"] != "query":
                self.problems.append(f"{op['operationId']}: undeclared query parameter {name}")
                continue
            typed: Any = int(value) if param["schema"].get("type") == "integer" else value
            for err in Draft202012Validator(param["schema"]).iter_errors(typed):
                self.problems.append(f"{op['operationId']} ?{name}: {err.message}")
        body_spec = op.get("requestBody")
        if not body_spec:
            if content:
                self.problems.append(
                    f"{op['operationId']}: sends a body the operation does not take"
                )
            return
        media = content_type.split(";")[0]
        if media not in body_spec["content"]:
            self.problems.append(f"{op['operationId']}: content type {media!r} not declared")
            return
        if media != "application/json":
            return
        if not content:
            if body_spec.get("required"):
                self.problems.append(f"{op['operationId']}: required body missing")
            return
        schema = json_schema(SPEC, body_spec["content"][media]["schema"])
        for err in Draft202012Validator(schema).iter_errors(json.loads(content)):
            self.problems.append(
                f"{op['operationId']} body {list(err.absolute_path)}: {err.message}"
            )

    def check_recorded(self, request: RecordedRequest) -> None:
        self.check(
            request.method,
            request.path,
            request.params,
            request.headers.get("content-type", ""),
            request.body,
        )

    def check_httpx(self, request: httpx.Request) -> None:
        params = dict(request.url.params.items())
        content_type = request.headers.get("content-type", "")
        self.check(request.method, request.url.path, params, content_type, request.read())


def test_every_request_the_layer_builds_is_valid(tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    audit = RequestAudit(httpx.URL(sandbox.v2_base_url).path)
    rows = [{"url": f"https://x/{i}.jpg", "lang": "en" if i % 2 else "de"} for i in range(300)]
    with sandbox.client() as client:
        client.me()
        project = client.projects.create("audit", description="requests")
        list(client.projects.list(limit=2))
        # inline path and upload path
        client.process_new_data("pl-1", rows, journal=tmp_path / "j1", project_id=project.id)
        client.process_new_data("pl-1", rows, upload_threshold=1, project_id=project.id)
        dataset = client.datasets.create(project.id, name="by-hand")
        client.datasets.add_items(dataset.id, rows, fields=["url", "lang"])
        list(client.datasets.list(project.id, limit=1))
        fields = client.datasets.list_fields(dataset.id)
        copy = client.pipelines.copy("pl-1", name="audit copy", project_id=project.id)
        client.pipelines.attach(
            copy.id,
            dataset.id,
            item_limit=10,
            item_filter=ItemFilter([ItemFilterCondition("lang", "eq", "en")], match="any"),
        )
        exported = client.pipelines.export_to_file(copy.id, tmp_path / "copy.pipeline")
        client.pipelines.import_file(project.id, exported, name="imported")
        list(client.pipelines.list(project.id, limit=1))
        run = client.runs.start(copy.id, name="audit run")
        client.runs.watch(run.id)
        list(client.runs.list(copy.id, limit=1))
        export = client.exports.create(
            dataset.id, fields=["url"], field_ids=[fields[0].id], format="jsonl"
        )
        client.exports.wait(export.id)
        list(client.exports.list(dataset.id, limit=1))
    for request in sandbox.requests:
        if request.operation not in ("storagePut", "storageGet"):
            audit.check_recorded(request)
    assert not audit.problems, "\n".join(audit.problems)
    all_ops = {op["operationId"] for _, _, op in audit.routes}
    assert audit.checked == all_ops, sorted(all_ops - audit.checked)


def test_the_audit_catches_invalid_requests() -> None:
    base = "https://api.test/api/v2-beta"
    audit = RequestAudit("/api/v2-beta")
    audit.check_httpx(
        httpx.Request("POST", base + "/pipelines/pl-1/dataset", json={"itemLimit": 0})
    )
    audit.check_httpx(httpx.Request("GET", base + "/projects", params={"limit": 0, "page": 2}))
    audit.check_httpx(httpx.Request("DELETE", base + "/runs/run-1"))
    text = "\n".join(audit.problems)
    assert "'datasetId' is a required property" in text
    assert "itemLimit" in text and "?limit" in text and "undeclared query parameter page" in text
    assert "DELETE /runs/run-1: no operation" in text
