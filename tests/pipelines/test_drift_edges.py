"""The edges of the drift promise: additive -> absorbed with the raw value; breaking -> one
``ApiDriftError`` naming the operation and the field or parameter, at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toloka_ext import (
    ApiDriftError,
    BadRequestError,
    ItemFilter,
    ItemFilterCondition,
    Task,
)
from toloka_ext.testing import Fault, FaultConfig, Sandbox
from toloka_ext.types import ItemFilterMatch

ROWS = [{"url": f"https://x/{i}.jpg", "lang": "en" if i % 2 else "de"} for i in range(6)]


def _refusing(route: str, message: str, **fault: Any) -> Sandbox:
    return Sandbox(
        faults=FaultConfig(
            faults=[Fault("status", status=400, route=route, message=message, on_nth=(1,), **fault)]
        )
    )


# ----------------------------------------------------------- undeclared request parameters


@pytest.mark.parametrize(
    ("route", "call", "message", "fault"),
    [
        # a GET whose new required query parameter is missing
        ("listRuns", lambda c: list(c.runs.list("pl-1")), "visibility: Value must be present", {}),
        ("getRun", lambda c: c.runs.get("run-1"), "Missing required parameter 'visibility'", {}),
        # the same named in the error's details, or as a header
        (
            "listProjects",
            lambda c: list(c.projects.list()),
            "Bad request",
            {"payload": {"field": "workspace"}},
        ),
        ("getMe", lambda c: c.me(), "X-Workspace-Id: header required", {}),
        # a POST with a new required body property
        (
            "createProject",
            lambda c: c.projects.create("p"),
            "'visibility' is a required property",
            {},
        ),
    ],
    ids=["get-query", "get-message", "details", "header", "post-body"],
)
def test_an_undeclared_request_parameter_is_drift_whatever_the_method(
    route: str, call: Any, message: str, fault: dict[str, Any]
) -> None:
    sandbox = _refusing(route, message, **fault)
    with sandbox.client(max_retries=0) as client, pytest.raises(ApiDriftError) as info:
        call(client)
    err = info.value
    assert err.operation == route
    assert err.field in ("visibility", "workspace", "X-Workspace-Id")
    assert err.field in str(err) and route in str(err) and err.snapshot_version in str(err)


def test_a_declared_parameter_refused_is_the_callers_error() -> None:
    """A value out of the snapshot's own bounds (even guessed ones) is the caller's; the
    same refusal of a value inside them is drift (see tests/drift/test_blame.py)."""
    sandbox = _refusing("listRuns", "limit: must be at most 100")
    with sandbox.client(max_retries=0) as client, pytest.raises(BadRequestError) as info:
        list(client.runs.list("pl-1", limit=500))
    assert not isinstance(info.value, ApiDriftError)


# ----------------------------------------------------------- unknown values round-trip


def test_an_unknown_filter_match_is_kept_and_sent_back_unchanged() -> None:
    def most(op: str, body: Any) -> Any:
        if op == "attachDataset" and body.get("itemFilter"):
            body["itemFilter"]["match"] = "most"
        return body

    sandbox = Sandbox(rewrite=most, record_requests=True)
    english = ItemFilter([ItemFilterCondition("lang", "eq", "en")], match="any")
    with sandbox.client(max_retries=0) as client:
        dataset = client.datasets.create("prj-1", name="d")
        client.datasets.add_items(dataset.id, ROWS)
        attached = client.pipelines.attach("pl-1", dataset.id, item_filter=english)
        got = attached.item_filter
        assert got is not None and got.match == "most" and not got.match.is_known
        assert str(got.match) == "most" and "unknown" in repr(got.match)
        with pytest.raises(BadRequestError):  # the sandbox knows only all/any...
            client.pipelines.attach("pl-1", dataset.id, item_filter=got)
    sent = sandbox.requests_for("attachDataset")[-1].json()
    assert sent["itemFilter"]["match"] == "most"  # ...but it was sent as received


def test_known_filter_match_values_are_members() -> None:
    assert ItemFilter([], match="any").match is ItemFilterMatch.ANY
    assert ItemFilter([]).to_json() == {"match": "all", "conditions": []}


# ----------------------------------------------------------- a field the next step needs


def test_a_ready_export_without_a_download_url_is_drift_at_once(tmp_path: Path) -> None:
    def no_url(op: str, body: Any) -> Any:
        if op == "getExport":
            body.pop("downloadUrl", None)
        return body

    sandbox = Sandbox(rewrite=no_url, record_requests=True, export_polls=1)
    with sandbox.client() as client, pytest.raises(ApiDriftError) as info:
        client.process_new_data("pl-1", ROWS, output=tmp_path / "r.jsonl")
    assert (info.value.operation, info.value.field) == ("getExport", "downloadUrl")
    assert len(sandbox.requests_for("getExport")) == 1  # no polling until a timeout


def test_an_upload_without_its_url_is_drift_at_once() -> None:
    def no_url(op: str, body: Any) -> Any:
        if op == "createUpload":
            body.pop("uploadUrl", None)
        return body

    sandbox = Sandbox(rewrite=no_url, record_requests=True)
    with sandbox.client() as client, pytest.raises(ApiDriftError) as info:
        client.process_new_data("pl-1", ROWS, upload_threshold=0)
    assert (info.value.operation, info.value.field) == ("createUpload", "uploadUrl")
    assert sandbox.requests_for("finalizeUpload") == []


# ----------------------------------------------------------- any 2xx is success


@pytest.mark.parametrize("status", [200, 201, 202])
def test_every_operation_takes_any_2xx_with_a_body(status: int, tmp_path: Path) -> None:
    sandbox = Sandbox(success_status=status, record_requests=True)
    with sandbox.client() as client:
        client.me()
        project = client.projects.create("p")
        list(client.projects.list())
        inline = client.process_new_data("pl-1", ROWS, project_id="prj-1")
        uploaded = client.process_new_data("pl-1", ROWS, upload_threshold=0)
        assert len(inline.rows()) == len(uploaded.rows()) == len(ROWS)
        dataset = client.datasets.create(project.id, name="d")
        client.datasets.add_items(dataset.id, ROWS)
        list(client.datasets.list(project.id))
        copy = client.pipelines.copy("pl-1", project_id=project.id)
        client.pipelines.attach(copy.id, dataset.id)
        path = client.pipelines.export_to_file(copy.id, tmp_path / "p.pipeline")
        client.pipelines.import_file(project.id, path)
        list(client.pipelines.list(project.id))
        run = client.runs.watch(client.runs.start(copy.id).id)
        list(client.runs.list(copy.id))
        export = client.exports.wait(client.exports.create(dataset.id).id)
        list(client.exports.list(dataset.id))
        assert run.status == "completed" and export.download_url
        tasks = [Task("pool-1", {"n": i}, overlap=1) for i in range(3)]
        assert client.tasks.create_tasks(tasks).ok
        assert client.tasks.create_tasks(tasks, async_mode=True).ok
        assert client.tasks.create_task(tasks[0]).id
    answered = {r.operation for r in sandbox.requests if r.operation}
    from toloka_pipeline_api._snapshot import OPERATIONS

    assert set(OPERATIONS) <= answered  # every v2 operation answered with `status`
    assert {"createTasks", "getOperation", "getOperationLog"} <= answered


def test_the_status_override_is_not_vacuous() -> None:
    sandbox = Sandbox(success_status=202)
    with sandbox.http_client() as http:
        answer = http.get(f"{sandbox.v2_base_url}/me", headers=sandbox.auth_headers())
    assert answer.status_code == 202 and json.loads(answer.content)["id"]
